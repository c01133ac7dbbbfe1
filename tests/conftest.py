import os, subprocess, sys
from pathlib import Path

import pytest

# Under pytest-xdist every worker (and every process it starts) would use one torch/OpenMP thread per core: on a 2-core
# machine two workers then run four or more spinning threads on two cores, and a notebook took 12 CPU-minutes instead of
# 5. Share the cores out instead (children inherit the variable).
if os.environ.get('PYTEST_XDIST_WORKER_COUNT'):
    os.environ.setdefault('OMP_NUM_THREADS', str(max(1, (os.cpu_count() or 1) // int(os.environ['PYTEST_XDIST_WORKER_COUNT']))))

def llm_course(*args, cwd=None, check=True) -> subprocess.CompletedProcess:
    "Run the `llm-course` command line in a fresh process"
    env = {**os.environ, 'MPLBACKEND': 'Agg', 'TOKENIZERS_PARALLELISM': 'false'}
    r = subprocess.run([sys.executable, '-m', 'llm_course.cli', *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env)
    if check and r.returncode != 0: raise AssertionError(f"llm-course {' '.join(map(str, args))} exited {r.returncode}:\n{r.stderr[-3000:]}")
    return r

@pytest.fixture(scope='session')
def tiny_run(tmp_path_factory) -> Path:
    "A finished `llm-course pipeline --profile tiny` run folder"
    out = tmp_path_factory.mktemp('tiny')/'run'
    llm_course('pipeline', '--profile', 'tiny', '--out', out)
    return out
