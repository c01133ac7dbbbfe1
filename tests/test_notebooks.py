"Every notebook, run top to bottom by nbdev's own runner, as one pytest test each, in a process of its own"
import os, subprocess, sys, tempfile
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
    classes, and that global state must not leak into the next notebook. Its scratch folders (`tempfile`) go to a
    folder of its own, removed afterwards: a run of all notebooks left about 75 MB of them in /tmp."""
    with tempfile.TemporaryDirectory(prefix=f'llmc-{nb.stem}-') as tmp:
        r = subprocess.run([sys.executable, '-c', RUN, str(nb)], capture_output=True, text=True, cwd=ROOT, env={**os.environ, 'TMPDIR': tmp})
    assert r.returncode == 0, f"{nb.name} failed:\n{(r.stdout + r.stderr)[-6000:]}"
