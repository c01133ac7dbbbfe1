"Log-probabilities from a live `llm-course serve`: equal to the model's in this process, and what lm-evaluation-harness reads"
import json, logging

import httpx
import pytest
import torch
from openai import OpenAI
from transformers import AutoModelForCausalLM, AutoTokenizer
import llm_course   # registers our model with the Auto classes
from test_serving import server

@pytest.fixture(scope='module')
def model_dir(tiny_run): return tiny_run/'model'

@pytest.fixture(scope='module')
def live(model_dir):
    with server(model_dir, key=None) as (url, proc, lines): yield url

@pytest.fixture(scope='module')
def local(model_dir):
    "The served model and its tokenizer, loaded here"
    return AutoModelForCausalLM.from_pretrained(model_dir).eval(), AutoTokenizer.from_pretrained(model_dir)

def in_process(model, ids:list[int]) -> list[float]:
    "log p(ids[t] | ids[:t]) for t >= 1, computed here"
    with torch.no_grad(): logits = model(torch.tensor([ids])).logits[0, :-1]
    return torch.log_softmax(logits.float(), -1).gather(1, torch.tensor(ids[1:])[:, None])[:, 0].tolist()

def test_echo_scores_the_prompt_as_the_model_does(live, local):
    model, tok = local
    client = OpenAI(base_url=live + '/v1', api_key='none')
    name = client.models.list().data[0].id
    texts = ['The with statement calls the method', 'Return a new list of the items']
    scored = client.completions.create(model=name, prompt=texts, max_tokens=0, echo=True, logprobs=3)
    for text, choice in zip(texts, scored.choices):
        ids = tok(text, add_special_tokens=False)['input_ids']
        assert choice.text == text and choice.finish_reason == 'length'
        assert choice.logprobs.token_logprobs[0] is None and len(choice.logprobs.tokens) == len(ids)
        assert choice.logprobs.token_logprobs[1:] == pytest.approx(in_process(model, ids), abs=1e-4)
        assert all(len(top) in (3, 4) for top in choice.logprobs.top_logprobs[1:])   # 3 rivals, and the token that came
    assert scored.usage.completion_tokens == 0
    # prompts as token ids (one list, or a list of lists), as lm-evaluation-harness sends them
    ids = [tok.eos_token_id] + tok(texts[0], add_special_tokens=False)['input_ids']
    for prompt in (ids, [ids, ids[:5]]):
        r = httpx.post(live + '/v1/completions', json={'model': name, 'prompt': prompt, 'max_tokens': 0, 'echo': True,
                                                         'logprobs': 0}).json()
        assert r['choices'][0]['logprobs']['token_logprobs'][1:] == pytest.approx(in_process(model, ids), abs=1e-4)
    # generated tokens: the greedy token is the likeliest, and the stream carries the same numbers
    asked = dict(model=name, prompt='import', max_tokens=8, temperature=0, logprobs=2)
    whole = client.completions.create(**asked).choices[0].logprobs
    streamed = [c.choices[0].logprobs for c in client.completions.create(**asked, stream=True)]
    assert [lp for part in streamed if part for lp in part.token_logprobs] == whole.token_logprobs
    assert [max(top.values()) for top in whole.top_logprobs] == pytest.approx(whole.token_logprobs, abs=1e-6)

def test_logprob_requests_that_cannot_be_served(live):
    name = httpx.get(live + '/v1/models').json()['data'][0]['id']
    for body, status, field in [({'prompt': [0, 10**6]}, 400, 'prompt'), ({'prompt': 'x', 'logprobs': 50}, 422, 'logprobs'),
                                ({'prompt': 'x', 'max_tokens': -1}, 422, 'max_tokens'), ({'prompt': []}, 422, 'prompt')]:
        r = httpx.post(live + '/v1/completions', json={'model': name, **body})
        assert (r.status_code, r.json()['error']['param'].split('.')[0]) == (status, field), r.text
    r = httpx.post(live + '/v1/completions', json={'model': name, 'prompt': 'The', 'max_tokens': 0}).json()
    assert (r['choices'][0]['text'], r['usage']['completion_tokens']) == ('', 0)

TASK_YAML = """task: llm_course_cloze
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: multiple_choice
doc_to_text: "{{{{context}}}}"
doc_to_choice: "{{{{choices}}}}"
doc_to_target: label
metric_list:
  - metric: acc
  - metric: acc_norm
"""

SENTENCES = ['Return the value of the object', 'The with statement calls the method', 'Create a new list of items',
             'Raise an exception when the file is missing', 'Read the data from the file', 'Write the text to a stream',
             'Return a copy of the list', 'Open the file for reading', 'The module defines the following functions',
             'Return the number of items in the list', 'Add the item to the set', 'Return true if the object is a class']

def cloze_task(folder) -> str:
    "A small multiple-choice task in lm-evaluation-harness's local-file form: each sentence's last word among four"
    words = [s.split()[-1] for s in SENTENCES]
    docs = []
    for i, sentence in enumerate(SENTENCES):
        others = [w for w in dict.fromkeys(words) if w != words[i]][i % 3: i % 3 + 3]
        label = i % 4
        choices = others[:label] + [words[i]] + others[label:]
        docs.append({'context': sentence.rsplit(' ', 1)[0], 'choices': choices, 'label': label})
    (folder/'cloze.jsonl').write_text('\n'.join(json.dumps(d) for d in docs))
    (folder/'cloze.yaml').write_text(TASK_YAML.format(data=folder/'cloze.jsonl'))
    return 'llm_course_cloze'

def test_lm_eval_local_completions_scores_as_in_process(live, local, model_dir, tmp_path):
    "lm-evaluation-harness's local-completions model, pointed at the server, scores a task as chapter 06's adapter does"
    lm_eval = pytest.importorskip('lm_eval')
    from lm_eval.tasks import TaskManager
    from llm_course.evaluation import harness_model
    model, tok = local
    task = cloze_task(tmp_path)
    logging.getLogger('lm_eval').setLevel(logging.ERROR)
    run = lambda lm, **kw: lm_eval.simple_evaluate(model=lm, tasks=[task], task_manager=TaskManager(include_path=str(tmp_path)),
                                                   log_samples=True, **kw)
    here = run(harness_model(model, tok))
    name = httpx.get(live + '/v1/models').json()['data'][0]['id']
    args = (f'model={name},base_url={live}/v1/completions,tokenizer={model_dir},tokenizer_backend=huggingface,'
            f'max_length={model.config.block_size},add_bos_token=True,batch_size=4')
    served = run('local-completions', model_args=args)
    for metric in ('acc,none', 'acc_norm,none'):
        assert served['results'][task][metric] == here['results'][task][metric]
    lls = lambda result: [ll for sample in result['samples'][task] for ll, _ in sample['filtered_resps']]
    assert len(lls(served)) == 4 * len(SENTENCES)
    assert lls(served) == pytest.approx(lls(here), abs=1e-4)
