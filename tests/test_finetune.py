"`llm-course finetune`: both tasks end to end on small pretrained runs, their outputs, and bad input"
import json, os, signal, subprocess, sys, time
from pathlib import Path

import pytest
from conftest import llm_course

DATA = Path(os.environ.get('LLM_COURSE_DATA', '')) if os.environ.get('LLM_COURSE_DATA') else None
needs_data = pytest.mark.skipif(DATA is None, reason='LLM_COURSE_DATA is not set')

@needs_data
def test_classify_lora(tiny_run, tmp_path):
    out = tmp_path/'spam'
    r = llm_course('finetune', '--task', 'classify', '--model', tiny_run/'model', '--out', out, '--profile', 'tiny', '--method', 'lora',
                   '--lora-r', '4', '--set', 'ft_lr=3e-3')
    m = json.loads((out/'metrics.json').read_text())
    assert m['test_accuracy'] > 0.866, m['test_accuracy']          # better than always answering `ham`
    assert set(m['test_f1']) == {'ham', 'spam'} and m['test'] == 1114   # 20% of each class: 965 ham + 149 spam
    assert m['trainable_params'] < 100_000 and m['method'] == 'lora'
    assert m['adam_state_bytes'] == 8 * m['trainable_params']   # two fp32 moments per trainable weight
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
             'ft_train is now ft_method': ['--task', 'classify', '--model', tiny_run, '--set', 'ft_train=all', '--out', tmp_path/'o5'],
             '`all` is now `full`': ['--task', 'classify', '--model', tiny_run, '--set', 'ft_method=all', '--out', tmp_path/'o6'],
             'but the method is full; add --method lora': ['--task', 'classify', '--model', tiny_run, '--lora-r', '4',
                                                          '--out', tmp_path/'o7'],
             '--prompt-tokens 0: must be at least 1': ['--task', 'classify', '--model', tiny_run, '--method', 'prompt',
                                                      '--prompt-tokens', '0', '--out', tmp_path/'o8'],
             'instruction tuning trains `full` or `lora`': ['--task', 'instruct', '--model', tiny_run, '--method', 'adapter',
                                                           '--out', tmp_path/'o9']}
    for want, args in cases.items():
        if args is None: continue
        r = llm_course('finetune', *args, check=False)
        assert r.returncode == 2, (want, r.stderr[-2000:])
        last = r.stderr.strip().splitlines()[-1]   # (above it, at most transformers' weight-loading bar)
        assert last.startswith('llm-course finetune: error: ') and want in last, (want, r.stderr)

@pytest.mark.parametrize('method', ['adapter', 'prompt'])
def test_classify_adapter_prompt_reload(tiny_run, small_labels, tmp_path, method):
    "An adapter or prompt classifier is saved unmerged, reloads with its adapters or prompt, and scores as the run did"
    out = tmp_path/method
    llm_course('finetune', '--task', 'classify', '--model', tiny_run, '--data', small_labels, '--profile', 'tiny',
               '--method', method, '--adapter-size' if method == 'adapter' else '--prompt-tokens', '4',
               '--set', 'ft_lr=3e-3', '--out', out)
    m = json.loads((out/'metrics.json').read_text())
    import numpy as np
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from llm_course.finetuning import encode_texts, load_labeled, predict_proba, stratified_split
    model = AutoModelForSequenceClassification.from_pretrained(out/'model')
    key = 'adapter_size' if method == 'adapter' else 'prompt_tokens'
    assert getattr(model.config, key) == 4 and m['method'] == method
    names = [n for n, _ in model.named_parameters()]
    assert any(f'.{method}.' in n or n.startswith(f'{method}.') for n in names), names[:5]
    texts, labels = load_labeled(str(small_labels))
    classes = sorted(set(labels))
    test_idx = stratified_split(labels, seed=json.loads((out/'config.json').read_text())['seed'])[2]
    tok = AutoTokenizer.from_pretrained(out/'model')
    room = model.config.block_size - (4 if method == 'prompt' else 0)
    pred = predict_proba(model, encode_texts(tok, [texts[i] for i in test_idx], room)).argmax(1)
    accuracy = float(np.mean(pred == np.array([classes.index(labels[i]) for i in test_idx])))
    assert abs(accuracy - m['test_accuracy']) < 1e-9, (accuracy, m['test_accuracy'])   # the saved model is the one scored

@needs_data
def test_classify_chosen_columns(tiny_run, tmp_path):
    "A CSV whose text and label columns have other names, named with --text-column and --label-column"
    rows = [line.split('\t', 1) for line in (DATA/'sms_spam.tsv').read_text(encoding='utf-8').splitlines()[:120]]
    import csv
    with open(tmp_path/'msgs.csv', 'w', newline='', encoding='utf-8') as f:
        w = csv.writer(f)
        w.writerow(['text', 'body', 'verdict'])   # `text` is a decoy the usual names would pick
        w.writerows([['x', text, label] for label, text in rows])
    out = tmp_path/'cols'
    llm_course('finetune', '--task', 'classify', '--model', tiny_run, '--data', tmp_path/'msgs.csv', '--profile', 'tiny',
               '--method', 'head', '--text-column', 'body', '--label-column', 'verdict', '--out', out)
    m = json.loads((out/'metrics.json').read_text())
    assert m['classes'] == ['ham', 'spam'] and m['train'] + m['validation'] + m['test'] == 120

def log_rows(path):
    "(step, train loss, validation loss or '') of each row of a log.csv"
    return [tuple(l.split(',')[:3]) for l in path.read_text().splitlines()[1:]]

@pytest.fixture(scope='module')
def small_labels(tmp_path_factory) -> Path:
    "The first 400 messages of the spam data: 280 training examples, 18 steps an epoch at the tiny profile's batch of 16"
    if DATA is None: pytest.skip('LLM_COURSE_DATA is not set')
    path = tmp_path_factory.mktemp('labels')/'small.tsv'
    path.write_text('\n'.join((DATA/'sms_spam.tsv').read_text(encoding='utf-8').splitlines()[:400]) + '\n', encoding='utf-8')
    return path

FT_SETTINGS = ['--set', 'ft_epochs=12', '--set', 'ft_batch_size=16', '--set', 'ft_lr=1e-3']

def test_finetune_sigkill_then_resume(tiny_run, small_labels, tmp_path):
    "Fine-tuning killed with SIGKILL and resumed gives the same losses, step for step, as a run never interrupted"
    whole, killed = tmp_path/'whole', tmp_path/'killed'
    args = ['--task', 'classify', '--model', tiny_run, '--data', small_labels, '--profile', 'tiny', *FT_SETTINGS]
    llm_course('finetune', *args, '--out', whole)
    env = {**os.environ, 'MPLBACKEND': 'Agg', 'TOKENIZERS_PARALLELISM': 'false'}
    p = subprocess.Popen([sys.executable, '-m', 'llm_course.cli', 'finetune', *map(str, args), '--out', str(killed)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.time() + 300
    first = killed/'checkpoints'/'step-000018'/'trainer_state.pt'
    while not first.exists() and p.poll() is None and time.time() < deadline: time.sleep(0.005)
    p.send_signal(signal.SIGKILL)
    p.wait()
    assert p.returncode == -signal.SIGKILL, 'the run ended before it could be killed'
    assert not (killed/'metrics.json').exists()
    killed_at = len(log_rows(killed/'log.csv'))
    assert 18 <= killed_at < 216, killed_at
    r = llm_course('finetune', '--task', 'classify', '--model', tiny_run, '--data', small_labels, '--out', killed, '--resume')
    a, b = log_rows(whole/'log.csv'), log_rows(killed/'log.csv')
    assert [s for s, _, _ in b] == [str(i) for i in range(1, 217)]
    for ra, rb in zip(a, b):
        assert abs(float(ra[1]) - float(rb[1])) < 1e-5, (ra, rb)
        assert (ra[2] == '') == (rb[2] == '') and (ra[2] == '' or abs(float(ra[2]) - float(rb[2])) < 1e-5), (ra, rb)
    ma, mb = (json.loads((d/'metrics.json').read_text()) for d in (whole, killed))
    assert mb['best_epoch'] == ma['best_epoch'] and abs(mb['test_accuracy'] - ma['test_accuracy']) < 1e-9, (ma, mb)
    assert 'test accuracy' in r.stdout

def test_finetune_resume_refuses_another_model(tiny_run, small_labels, tmp_path):
    out = tmp_path/'ft'
    llm_course('finetune', '--task', 'classify', '--model', tiny_run, '--data', small_labels, '--profile', 'tiny',
               '--set', 'ft_epochs=1', '--out', out)
    r = llm_course('finetune', '--task', 'classify', '--model', tiny_run, '--data', small_labels, '--out', out, '--resume',
                   '--set', 'pooling=mean', check=False)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines()[-1] == (f"llm-course finetune: error: --resume --set pooling=mean: would change the model "
                                                 f"or data the run in {out} started with (pooling=last); start a new run with another --out")
    other = tmp_path/'other.tsv'
    other.write_text(Path(small_labels).read_text())
    r = llm_course('finetune', '--task', 'classify', '--model', tiny_run, '--data', other, '--out', out, '--resume', check=False)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines()[-1] == (f"llm-course finetune: error: --resume --data {other}: would change the model "
                                                 f"or data the run in {out} started with (data={small_labels}); start a new run "
                                                 "with another --out")

@pytest.mark.skipif(sys.platform == 'win32', reason='gloo process groups on Linux and macOS')
def test_finetune_two_processes_match_one(tiny_run, small_labels, tmp_path):
    "Fine-tuning under torchrun: two processes with half the batch each follow the single-process run"
    args = ['--task', 'classify', '--model', tiny_run, '--data', small_labels, '--profile', 'tiny', '--set', 'ft_epochs=2',
            '--set', 'precision=fp32']   # bf16 rounds a batch of 16 and two of 8 apart by more than the slices' float sums
    llm_course('finetune', *args, '--set', 'ft_batch_size=16', '--out', tmp_path/'one')
    env = {**os.environ, 'MPLBACKEND': 'Agg', 'TOKENIZERS_PARALLELISM': 'false'}
    r = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2', '-m', 'llm_course.cli', 'finetune',
                        *map(str, args), '--set', 'ft_batch_size=8', '--out', str(tmp_path/'two')],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    one, two = log_rows(tmp_path/'one'/'log.csv'), log_rows(tmp_path/'two'/'log.csv')
    assert [s for s, _, _ in one] == [s for s, _, _ in two] == [str(i) for i in range(1, 37)]
    for ra, rb in zip(one, two):
        assert abs(float(ra[1]) - float(rb[1])) < 1e-4, (ra, rb)
    assert r.stdout.count('test accuracy') == 1 and (tmp_path/'two'/'model'/'model.safetensors').exists()
