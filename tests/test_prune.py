"`llm-course prune` as a user runs it: a smaller model folder that `generate` and `serve` take like the original"
import json

from openai import OpenAI
from conftest import llm_course
from test_cli_errors import fails
from test_serving import KEY, server

def test_prune_generate_and_serve(tiny_run, tmp_path):
    out = tmp_path/'pruned'
    report = json.loads(llm_course('prune', '--model', tiny_run/'model', '--out', out, '--heads', '0.5',
                                   '--neurons', '0.5', '--blocks', '0.5').stdout)
    assert report['layer_heads'] == [1]   # tiny: 2 blocks of 2 heads -> 1 block of 1 head
    assert report['layer_hidden'] == [128]
    config = json.loads((out/'config.json').read_text())
    assert (config['model_type'], config['n_layer']) == ('llm_course_pruned_gpt', 1)
    samples = llm_course('generate', '--model', out, '--prompt', 'The', '--max-new-tokens', '8', '--num-samples', '1',
                         '--seed', '0').stdout
    assert samples.startswith('The') and len(samples) > 3, samples
    with server(out) as (url, proc, lines):
        client = OpenAI(base_url=url + '/v1', api_key=KEY)
        [model] = client.models.list().data
        done = client.completions.create(model=model.id, prompt='The', max_tokens=8, temperature=0)
        streamed = ''.join(c.choices[0].text for c in client.completions.create(model=model.id, prompt='The', max_tokens=8,
                                                                                temperature=0, stream=True))
    assert streamed == done.choices[0].text
    assert done.usage.completion_tokens > 0, done

def test_prune_usage_errors(tiny_run, tmp_path):
    assert 'nothing to remove' in fails('prune', '--model', tiny_run/'model', '--out', tmp_path/'p')
    assert 'use a fraction' in fails('prune', '--model', tiny_run/'model', '--out', tmp_path/'p', '--heads', '1')
    assert 'pass --overwrite' in fails('prune', '--model', tiny_run/'model', '--out', tiny_run, '--heads', '0.5')
    assert 'no config.json' in fails('prune', '--model', tmp_path, '--out', tmp_path/'p', '--heads', '0.5')
