"""`llm-course serve --mask-pii` and `--block-words FILE` through the `openai` client, on a model that learned an e-mail
address and a phone number by heart"""
import pytest
from openai import OpenAI
from conftest import llm_course
from test_serving import server
from llm_course.api import output_mask

CONTACT = 'write to jane.doe@example.com or call +1 555 123 4567 today.'
PROMPT = 'Note 5 on river stone: write to'

@pytest.fixture(scope='module')
def pii_model(tmp_path_factory):
    "A tiny character-level model trained on notes that all end with the same contact line, with PII masking off"
    folder = tmp_path_factory.mktemp('pii')
    words = 'alpha beta gamma delta river stone cloud paper garden window'.split()
    notes = [f'Note {i} on {words[i % 10]} {words[i * 7 % 10]}: {CONTACT}' for i in range(300)]
    (folder/'notes.txt').write_text('\n\n'.join(notes))
    llm_course('pipeline', '--profile', 'tiny', '--data', folder/'notes.txt', '--set', 'pii=false', '--set', 'doc_chars=120',
               '--set', 'tokenizer=char', '--set', 'block_size=128', '--set', 'max_steps=150', '--set', 'eval_interval=1000', '--set', 'ckpt_interval=1000',
               '--out', folder/'run')
    return folder/'run'/'model'

def complete(url, stream=False, **kw) -> tuple[str, list[str]]:
    "The greedy completion of PROMPT, and the pieces it came in (streamed: one per event)"
    client = OpenAI(base_url=url + '/v1', api_key='none')
    name = client.models.list().data[0].id
    asked = dict(model=name, prompt=PROMPT, max_tokens=60, temperature=0, **kw)
    if not stream: return client.completions.create(**asked).choices[0].text, []
    pieces = [chunk.choices[0].text for chunk in client.completions.create(**asked, stream=True)]
    return ''.join(pieces), pieces

@pytest.fixture(scope='module')
def unmasked(pii_model):
    with server(pii_model, key=None) as (url, proc, lines): text, _ = complete(url)
    assert 'jane.doe@example.com' in text and '555 123 4567' in text, f"the model did not learn the contact line: {text!r}"
    return text

def test_mask_pii(pii_model, unmasked):
    masked = output_mask(pii=True)(unmasked)
    assert '<EMAIL>' in masked and '<PHONE>' in masked
    with server(pii_model, '--mask-pii', key=None) as (url, proc, lines):
        whole, _ = complete(url)
        streamed, pieces = complete(url, stream=True)
        refused = OpenAI(base_url=url + '/v1', api_key='none').with_options(max_retries=0)
        with pytest.raises(Exception, match='leave out logprobs'):
            refused.completions.create(model=pii_model.parent.name, prompt=PROMPT, max_tokens=5, logprobs=1)
    assert whole == streamed == masked
    sent = ''
    for piece in pieces:   # every piece is final: what has gone out is always the start of the masked text
        sent += piece
        assert masked.startswith(sent), (sent, masked)
    assert not any(s in streamed for s in ('jane', '@', '555', '4567'))
    assert sum(piece.count('<EMAIL>') + piece.count('<PHONE>') for piece in pieces) == masked.count('<EMAIL>') + masked.count('<PHONE>')

def test_block_words(pii_model, unmasked, tmp_path):
    (tmp_path/'blocked.txt').write_text('# words this server never sends\nToday\n\ncall\n')
    expected = output_mask(block_words=['Today', 'call'])(unmasked)
    assert expected.count('<BLOCKED>') >= 2
    with server(pii_model, '--block-words', tmp_path/'blocked.txt', key=None) as (url, proc, lines):
        assert complete(url)[0] == expected
        streamed, pieces = complete(url, stream=True)
    assert streamed == expected and 'call' not in streamed
    (tmp_path/'spaced.txt').write_text('two words\n')
    for words, message in [(tmp_path/'missing.txt', 'no such file'), (tmp_path/'spaced.txt', 'without spaces')]:
        r = llm_course('serve', '--model', pii_model, '--block-words', words, check=False)
        assert r.returncode != 0 and message in r.stderr, r.stderr[-2000:]
