"Bad input: one line naming the problem and the fix, exit status 2, no traceback, nothing lost"
import json, subprocess, sys

import pytest
import llm_course as llm_course_pkg
from conftest import llm_course

def fails(*args):
    r = llm_course(*args, check=False)
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    assert 'Traceback' not in r.stderr
    lines = [l for l in r.stderr.splitlines() if l.strip() and 'examples/s' not in l]
    assert len(lines) == 1, r.stderr
    return lines[0]

def test_unknown_profile():
    assert 'valid profiles: tiny, cpu, shakespeare-cpu, shakespeare-best, gpu-small' in fails('pipeline', '--profile', 'huge')

def test_unknown_key():
    msg = fails('pipeline', '--profile', 'tiny', '--set', 'layers=2')
    assert 'unknown setting layers' in msg and 'n_layer' in msg

def test_bad_value():
    assert 'n_layer=' in fails('pipeline', '--profile', 'tiny', '--set', 'n_layer=two')

def test_missing_path(tmp_path):
    assert 'no such file or folder' in fails('pipeline', '--profile', 'tiny', '--data', tmp_path/'missing.txt', '--out', tmp_path/'o')

def test_empty_corpus(tmp_path):
    (tmp_path/'in').mkdir(); (tmp_path/'in'/'empty.txt').write_text(''); (tmp_path/'in'/'blob.bin').write_bytes(b'\x00\x01\x02')
    msg = fails('prepare', '--profile', 'tiny', '--data', tmp_path/'in', '--out', tmp_path/'o')
    assert 'no usable text' in msg and 'empty file' in msg

def test_one_document_is_not_enough(tmp_path):
    (tmp_path/'one.txt').write_text('Just one document.\n')
    assert 'need at least 2' in fails('pipeline', '--profile', 'tiny', '--data', tmp_path/'one.txt', '--out', tmp_path/'o')

def test_too_few_pairs_for_the_vocabulary(tmp_path):
    (tmp_path/'small.txt').write_text('A short document.\n\nAnother short one.\n')
    msg = fails('pipeline', '--profile', 'tiny', '--data', tmp_path/'small.txt', '--set', 'doc_chars=20', '--out', tmp_path/'o')
    assert 'lower vocab_size' in msg

def test_corpus_too_small_for_block(tmp_path):
    (tmp_path/'small.txt').write_text('A short document.\n\nAnother short one.\n')
    msg = fails('pipeline', '--profile', 'tiny', '--data', tmp_path/'small.txt', '--set', 'doc_chars=20', '--set', 'tokenizer=char', '--out', tmp_path/'o')
    assert 'lower block_size' in msg

def test_non_empty_out_is_refused_and_kept(tiny_run):
    before = (tiny_run/'metrics.json').read_text()
    assert 'pass --overwrite' in fails('pipeline', '--profile', 'tiny', '--out', tiny_run)
    assert (tiny_run/'metrics.json').read_text() == before

def test_failed_overwrite_loses_nothing(tiny_run, tmp_path):
    "A run that fails with --overwrite leaves the earlier run's files in place"
    before = {p.name: p.stat().st_mtime for p in tiny_run.iterdir()}
    fails('pipeline', '--profile', 'tiny', '--out', tiny_run, '--overwrite', '--data', tmp_path/'missing.txt')
    assert {p.name: p.stat().st_mtime for p in tiny_run.iterdir()} == before
    assert json.loads((tiny_run/'metrics.json').read_text())['profile'] == 'tiny'

def test_resume_without_checkpoint(tmp_path):
    llm_course('prepare', '--profile', 'tiny', '--out', tmp_path/'run')
    assert 'no checkpoint' in fails('train', '--profile', 'tiny', '--out', tmp_path/'run', '--resume')

def test_model_commands_check_profiles_too(tiny_run):
    assert 'valid profiles' in fails('generate', '--model', tiny_run/'model', '--profile', 'nope')
    assert 'unknown setting' in fails('evaluate', '--model', tiny_run/'model', '--set', 'temp=2')

# A CLI that starts at once: `--help`, `profiles` and usage errors import neither torch nor transformers nor datasets
# (bench/cli_startup_bench.py times them), and `import llm_course` still lets transformers' Auto classes load our models.
HEAVY = ('torch', 'transformers', 'datasets', 'numpy', 'accelerate')

def modules_after(*argv) -> list:
    "Heavy libraries loaded by `llm-course ARGV` run to its end in a fresh Python"
    code = ('import sys\nfrom llm_course.cli import main\n'
            f'try: main({list(map(str, argv))!r})\nexcept SystemExit: pass\n'
            f'print(sorted(m for m in {HEAVY!r} if m in sys.modules))')
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    return json.loads(r.stdout.strip().splitlines()[-1].replace("'", '"'))

def test_fast_commands_import_nothing_heavy(tmp_path):
    (tmp_path/'file').write_text('x')
    assert modules_after('--help') == []
    assert modules_after('profiles') == []
    assert modules_after('pipeline', '--profile', 'huge') == []
    assert modules_after('train') == []   # argparse: --out is required
    assert modules_after('prepare', '--out', tmp_path/'file') == []
    assert modules_after('generate', '--model', tmp_path, '--set', 'temp=2') == []
    assert modules_after('train', '--out', tmp_path/'none', '--resume') == []

def test_model_types_name_their_modules():
    from llm_course.model import GPTConfig
    from llm_course.pruning import PrunedGPTConfig
    assert llm_course_pkg.MODEL_TYPES == {GPTConfig.model_type: 'llm_course.model',
                                         PrunedGPTConfig.model_type: 'llm_course.pruning'}

LOAD = '''
import sys
{first}
import llm_course
assert 'llm_course.model' not in sys.modules, 'import llm_course loaded the model'
from transformers import AutoModelForCausalLM, pipeline
model = AutoModelForCausalLM.from_pretrained({model!r})
gen = pipeline('text-generation', model={model!r})
text = gen('The', max_new_tokens=4, do_sample=False)[0]['generated_text']
print(type(model).__module__, type(model).__name__, type(gen.model).__name__, text.startswith('The'))
'''

@pytest.mark.parametrize('first', ['', 'import transformers.models.auto.configuration_auto'])
def test_auto_classes_load_our_model_after_import(tiny_run, first):
    "In a fresh Python, with transformers imported before llm_course or after it"
    r = subprocess.run([sys.executable, '-c', LOAD.format(first=first, model=str(tiny_run/'model'))],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.split() == ['llm_course.model', 'GPT', 'GPT', 'True']
