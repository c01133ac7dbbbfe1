"""Augmentation (chapter 01a): WordNet's file format on a database written here, the synonym source's refusal when none is
there, and back-translation's code path on a tiny MarianMT model built here (random weights, a SentencePiece vocabulary)"""
import json
import pytest
from llm_course.annotation import WordNet, back_translate, synonym_source, translate
from llm_course.core import UsageError

# Two noun synsets in WordNet's data-file layout: offset, file number, part of speech, word count (hex), word lex_id ...
SYNSETS = [['prize', 'award'], ['trophy', 'prize']]

def write_wordnet(folder):
    "A two-synset WordNet database: data.noun lines found by byte offset from index.noun, empty files for the rest"
    lines, offsets, at = [], [], len(b'  1 licence line\n')
    for words in SYNSETS:
        offsets.append(at)
        line = f"{at:08d} 04 n {len(words):02x} " + ' '.join(f'{w} 0' for w in words) + " 000 | a gloss\n"
        lines.append(line)
        at += len(line.encode())
    (folder/'data.noun').write_text('  1 licence line\n' + ''.join(lines))
    lemmas = sorted({w for ws in SYNSETS for w in ws})
    index = [f"{w} n {n} 0 {n} 0 " + ' '.join(f'{o:08d}' for o, ws in zip(offsets, SYNSETS) if w in ws)
             for w in lemmas for n in [sum(w in ws for ws in SYNSETS)]]
    (folder/'index.noun').write_text('  1 licence line\n' + '\n'.join(index) + '\n')
    for pos in ('verb', 'adj', 'adv'):
        for kind in ('index', 'data'): (folder/f'{kind}.{pos}').write_text('')
    return folder

def test_wordnet_reads_its_file_format(tmp_path):
    wn = WordNet(write_wordnet(tmp_path))
    assert wn.synsets('prize', 'noun') == SYNSETS
    assert wn('prize') == ['award', 'trophy']
    assert wn('prizes') == ['prize', 'award', 'trophy']   # the noun rule s -> '' finds the lemma
    assert wn('award') == ['prize']
    assert wn('txt') == []

def test_synonym_source_says_when_there_is_none(tmp_path, monkeypatch):
    monkeypatch.delenv('LLM_COURSE_MAIN_JOB', raising=False)
    with pytest.raises(UsageError, match="no synonym source.*apt install wordnet-base.*nltk.download"):
        synonym_source([tmp_path], nltk_data=False)
    assert isinstance(synonym_source([tmp_path/'none', write_wordnet(tmp_path)]), WordNet)

@pytest.fixture(scope='module')
def tiny_marian(tmp_path_factory):
    "A randomly initialised MarianMT model with a SentencePiece tokenizer trained on a few sentences, saved to a folder"
    spm = pytest.importorskip('sentencepiece')
    import torch
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer
    folder = tmp_path_factory.mktemp('marian')
    sentences = ['free entry to win a prize', 'call now to claim your cash', 'see you at six tonight',
                 'are you coming home for dinner', 'your mobile number has won an award', 'ok see you later then']
    (folder/'corpus.txt').write_text('\n'.join(sentences * 10))
    spm.SentencePieceTrainer.train(input=str(folder/'corpus.txt'), model_prefix=str(folder/'spm'), vocab_size=60,
                                   hard_vocab_limit=False, minloglevel=2)
    pieces = [p.split('\t')[0] for p in (folder/'spm.vocab').read_text().splitlines()]
    vocab = ['</s>', '<unk>', *[p for p in pieces if p not in ('<unk>', '<s>', '</s>')], '<pad>']
    (folder/'vocab.json').write_text(json.dumps({p: i for i, p in enumerate(vocab)}))
    tokenizer = MarianTokenizer(str(folder/'spm.model'), str(folder/'spm.model'), str(folder/'vocab.json'))
    pad = len(vocab) - 1
    config = MarianConfig(vocab_size=len(vocab), d_model=16, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
                          decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32, max_position_embeddings=64,
                          pad_token_id=pad, eos_token_id=0, decoder_start_token_id=pad, forced_eos_token_id=0)
    torch.manual_seed(0)
    out = folder/'model'
    MarianMTModel(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out

TEXTS = ['Free entry to win a prize', 'See you at six', 'Call now to claim your cash award']

def test_translate_runs_a_local_marian_model(tiny_marian):
    out = translate(TEXTS, tiny_marian, batch_size=2, max_new_tokens=6)
    assert len(out) == len(TEXTS) and all(isinstance(t, str) for t in out)
    assert translate(TEXTS, tiny_marian, max_new_tokens=6) == out   # greedy: the same text every time, whatever the batch

def test_back_translation_is_reproducible_under_a_seed(tiny_marian):
    first = back_translate(TEXTS, tiny_marian, tiny_marian, seed=1, max_new_tokens=6)
    assert len(first) == len(TEXTS)
    assert back_translate(TEXTS, tiny_marian, tiny_marian, seed=1, max_new_tokens=6) == first
    others = {tuple(back_translate(TEXTS, tiny_marian, tiny_marian, seed=s, max_new_tokens=6)) for s in range(2, 6)}
    assert others - {tuple(first)}   # other seeds sample other paraphrases

def test_translate_offline_names_the_model_and_the_fix(monkeypatch):
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    with pytest.raises(UsageError, match="Helsinki-NLP/opus-mt-en-de: not a local folder.*Hub is not reachable"):
        translate(['hello'], 'Helsinki-NLP/opus-mt-en-de')
