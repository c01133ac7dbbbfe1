"""pip puts a wheel's data files (our run profiles, `settings.ini`) under a different root for each kind of install:
`sys.prefix` in a virtual environment, `/usr/local` for Colab's Python (Debian's `posix_local` scheme), the user base for
`--user`, `DIR` for `--prefix DIR`. The package must find them in every case, as Colab users need it to."""
import json, os, subprocess, sys, sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SITE = sysconfig.get_path('purelib')   # this environment's site-packages: torch, transformers, ...
SHOW = ("import json, llm_course.core as c; "
        "print(json.dumps([c.__file__, str(c.settings_path()), sorted(c.read_profiles())]))")

@pytest.fixture(scope='module')
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp('wheel')
    subprocess.run([sys.executable, '-m', 'pip', 'wheel', '-q', '--no-deps', '--disable-pip-version-check', '-w', str(out),
                    str(ROOT)], check=True, capture_output=True)
    return next(out.glob('llm_course-*.whl'))

def _seen(python, code, env, cwd) -> list:
    env = {k: v for k, v in {**os.environ, **env}.items() if k != 'LLM_COURSE_SETTINGS'}
    r = subprocess.run([python, '-c', code], capture_output=True, text=True, env=env, cwd=cwd)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.splitlines()[-1])

def test_prefix_install(wheel, tmp_path):
    "`pip install --prefix DIR`: the package under DIR's site-packages, the profiles under DIR/share"
    prefix = tmp_path/'prefix'
    # --ignore-installed: else pip uninstalls this environment's own copy of the package first
    subprocess.run([sys.executable, '-m', 'pip', 'install', '-q', '--no-deps', '--ignore-installed',
                    '--disable-pip-version-check', '--prefix', str(prefix), str(wheel)], check=True, capture_output=True)
    site = prefix/Path(SITE).relative_to(sys.prefix)
    module, ini, names = _seen(sys.executable, SHOW, {'PYTHONPATH': str(site)}, tmp_path)
    assert (Path(module).parent.parent, Path(ini)) == (site, prefix/'share'/'llm_course'/'settings.ini')
    assert names == sorted(['tiny', 'cpu', 'shakespeare-cpu', 'shakespeare-best', 'gpu-small'])
    # the server's chat page is package data: it must be in the wheel, beside the modules
    assert (site/'llm_course'/'chat.html').read_text()[:15] == '<!doctype html>'
    r = subprocess.run([sys.executable, '-m', 'llm_course.cli', 'profiles'], capture_output=True, text=True, cwd=tmp_path,
                       env={**os.environ, 'PYTHONPATH': str(site)})
    assert (r.returncode, r.stdout.splitlines()[0].split(':')[0]) == (0, f'profiles in {ini}'), r.stderr[-2000:]

def test_user_install(wheel, tmp_path):
    """`pip install --user` with the base interpreter (a virtual environment refuses `--user`): the profiles under the
    user base, beside an older install of the package that must not be the one read"""
    base = getattr(sys, '_base_executable', sys.executable)
    env = {'PYTHONUSERBASE': str(tmp_path/'userbase'), 'PYTHONNOUSERSITE': ''}
    subprocess.run([base, '-m', 'pip', 'install', '-q', '--user', '--no-deps', '--ignore-installed',
                    '--disable-pip-version-check', str(wheel)], check=True, capture_output=True, env={**os.environ, **env})
    # torch and the rest come from this environment, appended after the user site (no .pth files run from it, so this
    # environment's editable install of llm_course does not shadow the user one, though its metadata is on the path)
    code = f"import sys; sys.path.append({SITE!r}); " + SHOW
    module, ini, _ = _seen(base, code, env, tmp_path)
    userbase = tmp_path/'userbase'
    assert (Path(module).is_relative_to(userbase), Path(ini)) == (True, userbase/'share'/'llm_course'/'settings.ini')
