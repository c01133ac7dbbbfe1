"Every notebook, run top to bottom by nbdev's own runner, as one pytest test each, in a process of its own"
import subprocess, sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NBS = sorted(p for p in (ROOT/'nbs').glob('*.ipynb') if not p.name.startswith('_'))
RUN = """import sys
from nbdev.config import get_config
from nbdev.test import test_nb
ok, _ = test_nb(sys.argv[1], skip_flags=get_config().tst_flags.split())
sys.exit(0 if ok else 1)"""

@pytest.mark.parametrize('nb', NBS, ids=[p.stem for p in NBS])
def test_notebook(nb):
    """Runs `nb` skipping cells flagged with `tst_flags` (notest, slow, cuda), as `nbdev-test` does. A fresh process per
    notebook: a notebook defines its own copies of the package's classes and registers them with transformers' Auto
    classes, and that global state must not leak into the next notebook."""
    r = subprocess.run([sys.executable, '-c', RUN, str(nb)], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, f"{nb.name} failed:\n{(r.stdout + r.stderr)[-6000:]}"
