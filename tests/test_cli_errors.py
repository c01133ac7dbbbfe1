"Bad input: one line naming the problem and the fix, exit status 2, no traceback, nothing lost"
import json

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
