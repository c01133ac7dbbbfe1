"A run killed with SIGKILL and resumed gives the same losses, step for step, as a run never interrupted"
import os, shutil, signal, subprocess, sys, time

from conftest import llm_course

SETTINGS = ['--set', 'max_steps=240', '--set', 'ckpt_interval=40', '--set', 'eval_interval=40', '--set', 'dropout=0.1',
            '--set', 'n_embd=128', '--set', 'n_layer=4', '--set', 'n_head=4']

def rows(path):
    return [l.split(',')[:3] for l in path.read_text().splitlines()[1:]]

def test_sigkill_then_resume(tmp_path):
    whole, killed = tmp_path/'whole', tmp_path/'killed'
    llm_course('prepare', '--profile', 'tiny', '--out', whole)
    shutil.copytree(whole, killed)
    llm_course('train', '--profile', 'tiny', '--out', whole, *SETTINGS)
    for name in ('tokenizer.json', 'train.bin', 'validation.bin', 'tokens.json'): shutil.copy(whole/name, killed/name)

    env = {**os.environ, 'MPLBACKEND': 'Agg', 'TOKENIZERS_PARALLELISM': 'false'}
    p = subprocess.Popen([sys.executable, '-m', 'llm_course.cli', 'train', '--profile', 'tiny', '--out', str(killed), *SETTINGS],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.time() + 300
    while not (killed/'checkpoints'/'step-000080'/'trainer_state.pt').exists() and p.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    p.send_signal(signal.SIGKILL); p.wait()
    assert p.returncode == -signal.SIGKILL, 'the run ended before it could be killed'
    assert not (killed/'checkpoints'/'step-000240').exists()
    killed_at = len(rows(killed/'log.csv'))
    assert 80 <= killed_at < 240

    llm_course('train', '--profile', 'tiny', '--out', killed, '--resume', *SETTINGS)
    a, b = rows(whole/'log.csv'), rows(killed/'log.csv')
    assert [r[0] for r in b] == [str(i) for i in range(1, 241)]
    for ra, rb in zip(a, b):
        assert abs(float(ra[1]) - float(rb[1])) < 1e-5, (ra, rb)
        assert (ra[2] == '') == (rb[2] == '') and (ra[2] == '' or abs(float(ra[2]) - float(rb[2])) < 1e-5), (ra, rb)
