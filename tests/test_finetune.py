"`llm-course finetune`: both tasks end to end on small pretrained runs, their outputs, and bad input"
import json, os
from pathlib import Path

import pytest
from conftest import llm_course

DATA = Path(os.environ.get('LLM_COURSE_DATA', '')) if os.environ.get('LLM_COURSE_DATA') else None
needs_data = pytest.mark.skipif(DATA is None, reason='LLM_COURSE_DATA is not set')

@needs_data
def test_classify_lora(tiny_run, tmp_path):
    out = tmp_path/'spam'
    r = llm_course('finetune', '--task', 'classify', '--model', tiny_run/'model', '--out', out, '--profile', 'tiny', '--lora-r', '4',
                   '--set', 'ft_lr=3e-3')
    m = json.loads((out/'metrics.json').read_text())
    assert m['test_accuracy'] > 0.866, m['test_accuracy']          # better than always answering `ham`
    assert set(m['test_f1']) == {'ham', 'spam'} and m['test'] == 1114   # 20% of each class: 965 ham + 149 spam
    assert m['trainable_params'] < 100_000
    from transformers import pipeline
    from llm_course import finetuning  # noqa: F401, registers the classifier with AutoModelForSequenceClassification
    clf = pipeline('text-classification', model=str(out/'model'), tokenizer=str(out/'model'))
    assert clf('hello')[0]['label'] in ('ham', 'spam')
    from transformers import AutoModelForSequenceClassification
    model = AutoModelForSequenceClassification.from_pretrained(out/'model')
    assert not any('lora' in n for n, _ in model.named_parameters())   # LoRA merged: an ordinary model
    assert 'test accuracy' in r.stdout

@pytest.fixture(scope='module')
def wide_run(tmp_path_factory) -> Path:
    "A tiny pretrained model with room for instruction prompts (256 tokens of context)"
    out = tmp_path_factory.mktemp('wide')/'run'
    llm_course('pipeline', '--profile', 'tiny', '--set', 'block_size=256', '--set', 'vocab_size=1024', '--set', 'max_docs=400', '--out', out)
    return out

@needs_data
def test_instruct(wide_run, tmp_path):
    out = tmp_path/'ins'
    llm_course('finetune', '--task', 'instruct', '--model', wide_run, '--out', out, '--profile', 'tiny', '--set', 'ft_epochs=2')
    m = json.loads((out/'metrics.json').read_text())
    assert m['validation_loss'] < m['validation_loss_before']
    assert {'rougeL', 'bleu', 'rougeL_before', 'bleu_before'} <= set(m) and 0 <= m['rougeL'] <= 1
    assert m['train'] + m['validation'] + m['test'] + m['too_long'] <= m['records'] == 1100
    responses = json.loads((out/'responses.json').read_text())
    assert len(responses) == m['test'] and {'before', 'after', 'output'} <= set(responses[0])
    from transformers import AutoModelForCausalLM
    from llm_course import model  # noqa: F401, registers the Auto classes
    assert AutoModelForCausalLM.from_pretrained(out/'model').config.block_size == 256

def test_bad_input(tiny_run, tmp_path):
    bad = tmp_path/'bad.tsv'; bad.write_text('ham\tok\nnot a labelled line\n')
    cases = {'no config.json': ['--task', 'classify', '--model', tmp_path, '--out', tmp_path/'o1'],
             'bad.tsv:2: expected `label<TAB>text`': ['--task', 'classify', '--model', tiny_run, '--data', bad, '--out', tmp_path/'o2'],
             '--lora-r -1': ['--task', 'classify', '--model', tiny_run, '--lora-r', '-1', '--out', tmp_path/'o3'],
             'too few records fit': ['--task', 'instruct', '--model', tiny_run, '--data', DATA/'instruction_data.json' if DATA else 'x',
                                     '--out', tmp_path/'o4'] if DATA else None,
             "ft_train='some'": ['--task', 'classify', '--model', tiny_run, '--data', DATA/'sms_spam.tsv' if DATA else 'x',
                                 '--set', 'ft_train=some', '--out', tmp_path/'o5'] if DATA else None}
    for want, args in cases.items():
        if args is None: continue
        r = llm_course('finetune', *args, check=False)
        assert r.returncode == 2, (want, r.stderr[-2000:])
        last = r.stderr.strip().splitlines()[-1]   # (above it, at most transformers' weight-loading bar)
        assert last.startswith('llm-course finetune: error: ') and want in last, (want, r.stderr)
