"""The training panel launched on 2 CPU processes through `accelerate.notebook_launcher`: the same losses, step for
step, as one process with the same global batch; Stop half-way leaves a checkpoint that `llm-course train --resume`
continues; an error in the processes reaches the panel"""
import shutil, sys, time
from pathlib import Path

import pytest
from conftest import llm_course

pytestmark = pytest.mark.skipif(sys.platform == 'win32', reason='the launcher forks; gloo on Linux, macOS')

DATA_FILES = ('tokens.json', 'tokenizer.json', 'train.bin', 'validation.bin')

def make_panel(out:Path, processes:int, batch_size:int, max_steps:int, threaded=False):
    from llm_course.widgets import TrainingPanel
    panel = TrainingPanel('tiny', out, threaded=threaded)
    for name, value in (('batch_size', batch_size), ('max_steps', max_steps), ('precision', 'fp32'), ('device', 'cpu')):
        panel.controls[name].value = value
    panel.processes.value = processes
    assert panel.notes['processes'].value == '', panel.notes['processes'].value   # 2 processes fit this machine
    return panel

def copy_data(src:Path, dst:Path):
    dst.mkdir(parents=True)
    for name in DATA_FILES: shutil.copy(src/name, dst)

def losses(rows):
    "(train losses, validation losses) of a run's log rows"
    return [r['train_loss'] for r in rows], [r['val_loss'] for r in rows if r.get('val_loss') is not None]

STEPS = 60

@pytest.fixture(scope='module')
def one(tmp_path_factory):
    "A one-process panel run with the global batch of 8 (it prepares the data the other runs copy)"
    panel = make_panel(tmp_path_factory.mktemp('panel')/'one', 1, 8, STEPS)
    panel.start()
    assert panel.error is None, panel.error
    return panel

def test_two_processes_match_one(one, tmp_path):
    from llm_course.widgets import log_rows
    copy_data(one.out, tmp_path/'two')
    two = make_panel(tmp_path/'two', 2, 4, STEPS)
    two.start()
    assert two.error is None, two.status.value
    (t1, v1), (t2, v2) = losses(one.rows), losses(two.rows)
    assert len(t1) == len(t2) == STEPS and len(v1) == len(v2) > 0
    assert max(abs(a - b) for a, b in zip(t1 + v1, t2 + v2)) < 1e-4, (t1, t2)
    assert losses(log_rows(two.out/'log.csv')) == (t2, v2)                 # what the panel showed is rank 0's log
    assert two.result['steps'] == STEPS and (two.out/'checkpoints'/f'step-{STEPS:06d}'/'trainer_state.pt').exists()
    assert (two.start_button.disabled, two.stop_button.disabled) == (False, True)

def test_stop_then_resume(one, tmp_path):
    from llm_course.training import read_log
    out = tmp_path/'stopped'
    copy_data(one.out, out)
    panel = make_panel(out, 2, 4, STEPS, threaded=True)
    panel.start_button.click()
    deadline = time.time() + 300
    while len(panel.rows) < 3 and panel.running and time.time() < deadline: time.sleep(0.02)
    panel.stop_button.click()
    panel.thread.join(300)
    assert panel.error is None, panel.status.value
    stopped = panel.result['steps']
    assert 3 <= stopped < STEPS, stopped
    assert panel.status.value.startswith(f'stopped at step {stopped}')
    assert panel.result['checkpoint'] == out/'checkpoints'/f'step-{stopped:06d}'
    assert (panel.result['checkpoint']/'trainer_state.pt').exists()
    # the panel recorded the run's settings; one process with twice the batch continues it with the same global batch,
    # so that the whole log, launched then resumed, equals the uninterrupted one-process run's
    llm_course('train', '--out', out, '--resume', '--set', 'batch_size=8', '--set', 'device=cpu')
    a, b = read_log(one.out/'log.csv'), read_log(out/'log.csv')
    assert [int(r['step']) for r in b] == list(range(1, STEPS + 1))
    (ta, va), (tb, vb) = losses(a), losses(b)
    assert len(va) == len(vb) > 0
    differ = [(i + 1, x, y) for i, (x, y) in enumerate(zip(ta, tb)) if abs(x - y) >= 1e-4]
    assert max(abs(x - y) for x, y in zip(ta + va, tb + vb)) < 1e-4, differ[:5]

def test_error_in_the_processes_reaches_the_panel(one, tmp_path):
    out = tmp_path/'broken'
    copy_data(one.out, out)
    (out/'train.bin').unlink()                      # every process fails to open its training tokens
    panel = make_panel(out, 2, 4, STEPS)
    panel.start()
    assert isinstance(panel.error, RuntimeError), panel.error
    # the first process to fail ends the others, which may not get to write their own error
    assert str(panel.error).startswith('process ') and 'FileNotFoundError' in str(panel.error), panel.error
    assert 'train.bin' in str(panel.error), panel.error
    assert 'train.bin' in panel.status.value
    assert (panel.running, panel.start_button.disabled, panel.stop_button.disabled) == (False, False, True)
