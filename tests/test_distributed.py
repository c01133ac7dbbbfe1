"Data-parallel training on CPU: two processes under torchrun follow the single-process run with the same global batch"
import os, shutil, subprocess, sys

import pytest
from conftest import llm_course

def log_losses(path):
    rows = [l.split(',') for l in path.read_text().splitlines()[1:]]
    return [float(r[1]) for r in rows], [float(r[2]) for r in rows if r[2]]

@pytest.mark.skipif(sys.platform == 'win32', reason='gloo process groups on Linux and macOS')
def test_two_processes_match_one(tmp_path):
    one, two = tmp_path/'one', tmp_path/'two'
    llm_course('prepare', '--profile', 'tiny', '--out', one)
    shutil.copytree(one, two)
    llm_course('train', '--profile', 'tiny', '--out', one, '--set', 'batch_size=8', '--set', 'max_steps=12')
    env = {**os.environ, 'MPLBACKEND': 'Agg', 'TOKENIZERS_PARALLELISM': 'false'}
    r = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2', '-m', 'llm_course.cli', 'train',
                        '--profile', 'tiny', '--out', str(two), '--set', 'batch_size=4', '--set', 'max_steps=12'],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    (t1, v1), (t2, v2) = log_losses(one/'log.csv'), log_losses(two/'log.csv')
    assert len(t1) == len(t2) == 12 and len(v1) == len(v2) > 0
    assert max(abs(a - b) for a, b in zip(t1 + v1, t2 + v2)) < 1e-4, (t1, t2)
    assert (two/'model'/'model.safetensors').exists() and r.stdout.count('validation loss') == 1
