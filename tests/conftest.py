import os, shutil, subprocess, sys
from pathlib import Path

import pytest

# Under pytest-xdist every worker (and every process it starts) would use one torch/OpenMP thread per core: on a 2-core
# machine two workers then run four or more spinning threads on two cores, and a notebook took 12 CPU-minutes instead of
# 5. Share the cores out instead (children inherit the variable).
if os.environ.get('PYTEST_XDIST_WORKER_COUNT'):
    os.environ.setdefault('OMP_NUM_THREADS', str(max(1, (os.cpu_count() or 1) // int(os.environ['PYTEST_XDIST_WORKER_COUNT']))))

def pytest_configure(config):
    """Start the main job (`main_job()`: `llm-course pipeline` once, cached) in the background as the session begins, in
    the controlling process only: the notebooks from 03 on and the default-profile test wait for it, so it should not
    start only when the first of them asks while the other worker sits idle."""
    if os.environ.get('PYTEST_XDIST_WORKER'): return
    config._main_job = subprocess.Popen([sys.executable, '-c', 'from llm_course.core import main_job; main_job()'],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

def pytest_unconfigure(config):
    job = getattr(config, '_main_job', None)
    if job is not None and job.poll() is None: job.terminate()

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

# Flags for a browser on a machine without network: without the background-networking ones Chromium keeps trying hosts
CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
                 '--disable-sync', '--no-first-run']

def launch_chromium(playwright):
    """Debian's Chromium where it is installed (.ci/run installs it), else the one `playwright install chromium` fetched
    (GitHub's runners). Skips the test when neither is here, except under CI, where a browser test must not vanish."""
    exe = shutil.which('chromium') or shutil.which('chromium-browser')
    try: return playwright.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
    except Exception as e:
        if os.environ.get('CI'): raise
        pytest.skip(f'no Chromium here ({type(e).__name__}); .ci/run installs Debian\'s chromium')
