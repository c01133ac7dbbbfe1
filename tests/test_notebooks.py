"""Every notebook, run top to bottom by nbdev's runner, as one pytest test each, in a virtual environment that has only
`pip install ".[course]"`: what a reader gets from a notebook's first cell on Colab, so a chapter that imports a library
the `course` extra lacks fails here, not in front of a learner."""
import hashlib, json, os, re, subprocess, sys, tempfile
from pathlib import Path

import pytest
import torch
from filelock import FileLock

ROOT = Path(__file__).resolve().parent.parent
NBS = sorted(p for p in (ROOT/'nbs').glob('*.ipynb') if not p.name.startswith('_'))
COURSE_VENV = ROOT/'.venv-course'
RUN = """import sys
from nbdev.config import get_config
from nbdev.test import test_nb
ok, _ = test_nb(sys.argv[1], skip_flags=get_config().tst_flags.split())
sys.exit(0 if ok else 1)"""

def _pip(python, *args):
    subprocess.run([str(python), '-m', 'pip', 'install', '-q', '--disable-pip-version-check', *args], cwd=ROOT, check=True)

def _digest(*paths) -> str:
    return hashlib.sha256(b''.join(p.read_bytes() for p in paths)).hexdigest()

@pytest.fixture(scope='session')
def course_python() -> Path:
    """Python of `.venv-course`: this torch (the CPU build the test command installed), then `pip install ".[course]"`,
    and nbdev, which runs the notebooks as Colab's Jupyter would. Made once and remade when pyproject.toml changes; the
    package is reinstalled when its files change. Under pytest-xdist the first worker does it, the others wait."""
    py = COURSE_VENV/'bin'/'python'
    deps, pkg = COURSE_VENV/'deps.sha256', COURSE_VENV/'package.sha256'
    want_deps = _digest(ROOT/'pyproject.toml')
    want_pkg = _digest(ROOT/'settings.ini', *sorted((ROOT/'llm_course').glob('*.py')))
    with FileLock(f'{COURSE_VENV}.lock'):
        if not py.exists() or not deps.exists() or deps.read_text() != want_deps:
            subprocess.run([sys.executable, '-m', 'venv', '--clear', str(COURSE_VENV)], check=True)
            _pip(py, f"torch=={torch.__version__.split('+')[0]}")
            _pip(py, '.[course]', 'nbdev>=3.3')
            deps.write_text(want_deps)
        elif not pkg.exists() or pkg.read_text() != want_pkg:
            _pip(py, '--force-reinstall', '--no-deps', '.')
        pkg.write_text(want_pkg)
    return py

def test_course_env_lacks_dev_extras(course_python):
    "The notebooks' environment holds the course extra, not the test tools: pytest and playwright are absent"
    r = subprocess.run([str(course_python), '-c', 'import importlib.util as u; print([m for m in ("pytest", "playwright", '
                        '"sklearn", "peft") if u.find_spec(m)])'], capture_output=True, text=True, check=True, cwd='/')
    assert r.stdout.split() == ["['sklearn',", "'peft']"], r.stdout

@pytest.mark.parametrize('nb', NBS, ids=[p.stem for p in NBS])
def test_notebook(nb, course_python):
    """Runs `nb` skipping cells flagged with `tst_flags` (notest, slow, cuda), as `nbdev-test` does, in the course
    environment. A fresh process per notebook: a notebook defines its own copies of the package's classes and registers
    them with transformers' Auto classes, and that global state must not leak into the next notebook. Its scratch
    folders (`tempfile`) go to a folder of its own, removed afterwards: a run of all notebooks left about 75 MB of them."""
    with tempfile.TemporaryDirectory(prefix=f'llmc-{nb.stem}-') as tmp:
        r = subprocess.run([str(course_python), '-c', RUN, str(nb)], capture_output=True, text=True, cwd=ROOT,
                           env={**os.environ, 'TMPDIR': tmp})
    assert r.returncode == 0, f"{nb.name} failed:\n{(r.stdout + r.stderr)[-6000:]}"

def test_colab_cells_install_from_the_repository():
    "Each notebook with code opens by installing the course on Colab from the repository that pyproject.toml names"
    url = re.search(r'^Repository = "(.+)"$', (ROOT/'pyproject.toml').read_text(), re.M).group(1)
    cells = {p.name: json.loads(p.read_text())['cells'] for p in NBS}
    firsts = {n: ''.join(c[0]['source']) for n, c in cells.items() if any(x['cell_type'] == 'code' for x in c)}
    installs = {n: re.findall(r'%pip install -q "(.+)"', s) for n, s in firsts.items()}
    assert installs == {n: [f'llm-course[course] @ git+{url}'] for n in firsts}

def test_saved_outputs_are_clean():
    """What a reader sees in a saved notebook (GitHub, Colab's preview, the docs site): no stderr (library warnings,
    progress bars), no terminal control codes, no text repr where a widget should be"""
    found = {}
    for p in NBS:
        for i, c in enumerate(json.loads(p.read_text())['cells']):
            for o in c.get('outputs', []):
                text = ''.join(o.get('text', '')) + ''.join(o.get('data', {}).get('text/plain', ''))
                if o.get('output_type') == 'stream' and o.get('name') == 'stderr': found[f'{p.name} cell {i}'] = 'stderr'
                elif '\x1b' in text: found[f'{p.name} cell {i}'] = 'ANSI codes'
                elif 'children=(' in text and 'application/vnd.jupyter.widget-view+json' not in o.get('data', {}):
                    found[f'{p.name} cell {i}'] = 'widget as text'
    assert found == {}
