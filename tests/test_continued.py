"""Continued pretraining (chapter 08b's `continue_pretraining`, `llm-course train --init-from`): a trained model's
tokenizer and architecture kept on a new corpus, settings that contradict it refused, the loss on the new corpus falling
from the starting model's, and resume"""
import json, math

import pytest

from conftest import llm_course

@pytest.fixture(scope='module')
def code_corpus(tmp_path_factory):
    "A folder of Python's own source, docstrings removed: a domain the tiny run (embedded docs) never saw"
    from llm_course.pretraining import stdlib_code
    return stdlib_code(tmp_path_factory.mktemp('code')/'code', max_chars=150_000)

def _overrides(code_corpus, **more):
    return {'data': str(code_corpus), 'max_steps': '20', 'lr': '1e-3', 'ckpt_interval': '10', 'trackers': 'none',
            **{k: str(v) for k, v in more.items()}}

@pytest.fixture(scope='module')
def continued(tiny_run, code_corpus, tmp_path_factory):
    "The tiny run's model continued for 20 steps on the code corpus, from Python, with the `cpu` profile's settings"
    from llm_course.core import load_profile
    from llm_course.pipeline import continue_pretraining
    out = tmp_path_factory.mktemp('continued')/'run'
    overrides = _overrides(code_corpus)
    metrics = continue_pretraining(tiny_run, load_profile('cpu', overrides), out, 'cpu', overrides, progress=False)
    return out, metrics

def test_tokenizer_is_the_models(tiny_run, continued):
    "The new corpus is tokenized with the model's tokenizer.json, copied unchanged; a tokenizer trained on it would differ"
    from datasets import load_from_disk
    from tokenizers import Tokenizer
    from llm_course.tokenization import BPETokenizer, read_tokens
    out, _ = continued
    assert (out/'tokenizer.json').read_bytes() == (tiny_run/'model'/'tokenizer.json').read_bytes()
    assert (out/'model'/'tokenizer.json').exists()
    tokens = json.loads((out/'tokens.json').read_text())
    assert (tokens['tokenizer_from'], tokens['vocab_size']) == (str((tiny_run/'model').resolve()), 384)
    model_tok = Tokenizer.from_file(str(tiny_run/'model'/'tokenizer.json'))
    train_docs = load_from_disk(str(out/'dataset'))['train']['text']
    ids = model_tok.encode(train_docs[0]).ids
    assert read_tokens(out/'train.bin', 384)[:len(ids)].tolist() == ids
    retrained = BPETokenizer().train(train_docs, 384)
    assert retrained.encode(train_docs[0]) != ids   # what "not retrained" rules out: other merges, other ids

def test_architecture_is_the_models_and_the_start_recorded(tiny_run, continued):
    "The `cpu` profile's shape (4 layers of 128, 2,048 tokens) gave way to the tiny model's; config.json says where it began"
    out, metrics = continued
    model_config = json.loads((tiny_run/'model'/'config.json').read_text())
    config = json.loads((out/'config.json').read_text())
    shape = ('n_layer', 'n_head', 'n_embd', 'block_size', 'vocab_size')
    assert {k: config[k] for k in shape} == {k: model_config[k] for k in shape} == \
        {'n_layer': 2, 'n_head': 2, 'n_embd': 64, 'block_size': 64, 'vocab_size': 384}
    assert (config['profile'], config['max_steps'], config['lr']) == ('cpu', 20, 1e-3)   # the training is the run's
    assert config['init_from'] == metrics['init_from'] == str((tiny_run/'model').resolve())
    assert json.loads((out/'model'/'config.json').read_text())['n_layer'] == 2

@pytest.mark.parametrize('setting,value', [('n_layer', 8), ('block_size', 256), ('vocab_size', 4096), ('n_embd', 96),
                                           ('tokenizer', 'char')])
def test_contradicting_setting_refused(tiny_run, code_corpus, tmp_path, setting, value):
    "A setting set by hand that contradicts the model is a UsageError naming it, its value, the model's, and the fix"
    from llm_course.core import UsageError, load_profile
    from llm_course.pipeline import continue_pretraining
    model_value = json.loads((tiny_run/'model'/'config.json').read_text()).get(setting, 'bpe')
    overrides = _overrides(code_corpus, **{setting: value})
    with pytest.raises(UsageError) as e:
        continue_pretraining(tiny_run, load_profile('tiny', overrides), tmp_path/'run', 'tiny', overrides, progress=False)
    assert str(e.value).startswith(f"--set {setting}={value}: the model in {(tiny_run/'model').resolve()} has "
                                   f"{setting}={model_value}"), str(e.value)
    assert f"drop --set {setting}" in str(e.value)
    assert not (tmp_path/'run'/'tokens.json').exists()   # refused before anything was tokenized or trained

def test_loss_on_new_corpus_goes_down(tiny_run, continued):
    "The starting loss is the tiny model's own on the new validation documents; 20 steps bring it down"
    from datasets import load_from_disk
    from llm_course.evaluation import perplexity
    from llm_course.model import load_model_folder
    out, metrics = continued
    model, tokenizer = load_model_folder(tiny_run)
    start = perplexity(model, load_from_disk(str(out/'dataset'))['validation']['text'], tokenizer)['loss']
    assert math.isclose(metrics['initial_val_loss'], start, rel_tol=1e-5), (metrics['initial_val_loss'], start)
    assert metrics['val_loss'] < metrics['initial_val_loss'] - 0.1, metrics
    assert metrics['training']['steps'] == 20

def test_resume(tiny_run, code_corpus, tmp_path):
    "A continued run resumed from its checkpoint goes on from its weights (not the starting model's), to more steps"
    from llm_course.core import UsageError, load_profile
    from llm_course.pipeline import continue_pretraining
    from llm_course.training import read_log
    out, overrides = tmp_path/'run', _overrides(code_corpus)
    first = continue_pretraining(tiny_run, load_profile('tiny', overrides), out, 'tiny', overrides, progress=False)
    more = {**overrides, 'max_steps': '30'}
    with pytest.raises(UsageError, match=r"--set n_layer=3: the run in .*started from .*has n_layer=2"):
        continue_pretraining(None, load_profile('tiny', {**more, 'n_layer': '3'}), out, 'tiny', {'n_layer'}, resume=True)
    with pytest.raises(UsageError, match='resume it without --init-from'):
        continue_pretraining(out/'model', load_profile('tiny', more), out, 'tiny', resume=True)
    second = continue_pretraining(None, load_profile('tiny', more), out, 'tiny', resume=True, progress=False)
    rows = read_log(out/'log.csv')
    assert [r['step'] for r in rows] == list(range(1, 31))
    assert (out/'checkpoints'/'step-000030').exists() and second['training']['steps'] == 30
    assert second['init_from'] == first['init_from'] and second['initial_val_loss'] == first['initial_val_loss']
    # step 21 starts from step 20's weights: its loss is near step 20's, far below the starting model's at step 1
    assert rows[20]['train_loss'] < (rows[0]['train_loss'] + rows[19]['train_loss']) / 2, [r['train_loss'] for r in rows]
    assert second['val_loss'] < first['val_loss'], (first['val_loss'], second['val_loss'])
    assert json.loads((out/'config.json').read_text())['init_from'] == first['init_from']   # still recorded

def test_cli_train_init_from(tiny_run, code_corpus, tmp_path):
    "`llm-course prepare` then `train --init-from`: refused with a contradicting --set, then trained, then resumed"
    out = tmp_path/'run'
    llm_course('prepare', '--profile', 'tiny', '--data', code_corpus, '--out', out)
    bad = llm_course('train', '--profile', 'tiny', '--out', out, '--init-from', tiny_run, '--set', 'n_layer=3', check=False)
    assert bad.returncode == 2, bad.stderr[-2000:]
    assert f"--set n_layer=3: the model in {(tiny_run/'model').resolve()} has n_layer=2" in bad.stderr, bad.stderr
    llm_course('train', '--profile', 'tiny', '--out', out, '--init-from', tiny_run, '--set', 'max_steps=10',
               '--set', 'ckpt_interval=5')
    assert (out/'tokenizer.json').read_bytes() == (tiny_run/'model'/'tokenizer.json').read_bytes()
    assert json.loads((out/'config.json').read_text())['init_from'] == str((tiny_run/'model').resolve())
    assert (out/'model'/'config.json').exists()
    llm_course('train', '--profile', 'tiny', '--out', out, '--resume', '--set', 'max_steps=15')
    steps = [int(line.split(',')[0]) for line in (out/'log.csv').read_text().splitlines()[1:]]
    assert steps == list(range(1, 16))
    assert json.loads((out/'config.json').read_text())['init_from'] == str((tiny_run/'model').resolve())
