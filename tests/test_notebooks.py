"Every notebook, run top to bottom by nbdev's own runner, as one pytest test each"
from pathlib import Path

import pytest
from nbdev.config import get_config
from nbdev.test import test_nb as run_notebook

NBS = sorted(p for p in (Path(__file__).resolve().parent.parent/'nbs').glob('*.ipynb') if not p.name.startswith('_'))

@pytest.mark.parametrize('nb', NBS, ids=[p.stem for p in NBS])
def test_notebook(nb):
    "Runs `nb` skipping cells flagged with `tst_flags` (notest, slow, cuda), as `nbdev-test` does"
    ok, _ = run_notebook(nb, skip_flags=get_config().tst_flags.split())
    assert ok, f"{nb.name} failed: its traceback is printed above"
