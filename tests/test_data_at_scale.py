"""`prepare` on datatrove (chapter 01b): the local executor and a local Ray cluster keep the same documents, splits, report
and data card as `prepare` on a planted-duplicates corpus and on a folder of hostile files; the Slurm executor's jobs,
written without submitting, are checked as text and then run here, one array task after another, as Slurm would."""
import io, json, os, re, stat, subprocess
from pathlib import Path

import pytest

pytest.importorskip('datatrove')
from test_prepare import PAGE, STORY, write_messy_files

from llm_course.core import load_profile
from llm_course.pipeline import stage_prepare
from llm_course.data_at_scale import prepare_datatrove


def _hostile(d: Path) -> Path:
    "A folder of the files found in the wild (tests/test_prepare.py's, in one folder): what `prepare` keeps and skips"
    d.mkdir(); (d/'sub').mkdir()
    write_messy_files(d)
    (d/'page.html').write_text(PAGE)
    (d/'sub'/'copy.html').write_text(PAGE.replace('Saturday', 'Sunday'))          # a near-duplicate page
    (d/'sub'/'same.html').write_text(PAGE)                                        # an exact copy
    (d/'story.txt').write_text(STORY)
    (d/'notes.txt').write_text('Plain notes about the harbour and its history.\n\nA second paragraph of notes.\n')
    (d/'image.png').write_bytes(b'\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR')
    (d/'empty.txt').write_text('')
    (d/'blank.txt').write_text('   \n\n  \n')
    (d/'broken.jsonl').write_text('{"text": "unterminated\n')
    (d/'long_line.txt').write_text(' '.join(f'w{i}' for i in range(200_000)))   # one 1.5 MB line, cut into documents
    (d/'menu.txt').write_text('\n'.join(['Home', 'About us', 'Shop', 'Contact', 'Login', 'Cart'] * 3))
    (d/'code.txt').write_text(PAGE.split('<p>')[1] + '\nint main() { return 0; }')
    return d

def _planted(d: Path) -> Path:
    "Documents of the embedded corpus with planted near-copies and exact copies, over 12 JSON Lines files"
    from llm_course.data import load_corpus, plant_near_copies
    base = list(load_corpus('embedded', doc_chars=600)['text'][:400])
    docs, _ = plant_near_copies(base, 80, seed=3)
    docs += docs[:25] + ['Call +44 20 7946 0958 or write to a.b@example.org.'] * 3
    d.mkdir()
    for i in range(12): (d/f'part-{i:02d}.jsonl').write_text(''.join(json.dumps({'text': t}) + '\n' for t in docs[i::12]))
    return d

@pytest.fixture(scope='module')
def corpora(tmp_path_factory):
    root = tmp_path_factory.mktemp('corpora')
    return {'hostile': _hostile(root/'hostile'), 'planted': _planted(root/'planted')}

CASES = {'hostile, defaults': ('hostile', {}), 'hostile, every rule set': ('hostile', {'filters': 'all'}),
         'planted, tail split and max_docs': ('planted', {'split': 'tail', 'max_docs': 350})}

@pytest.fixture(scope='module')
def native(corpora, tmp_path_factory):
    "`prepare` (chapter 01, `stage_prepare`) on each case: the reference"
    out = {}
    for name, (corpus, overrides) in CASES.items():
        cfg = load_profile('tiny', {'data': str(corpora[corpus]), 'max_docs': 0, **overrides})
        stage_prepare(cfg, folder := tmp_path_factory.mktemp('native'))
        out[name] = (cfg, folder)
    return out

def _contents(folder: Path) -> dict:
    from datasets import load_from_disk
    dsd = load_from_disk(str(folder/'dataset'))
    report = {k: v for k, v in json.loads((folder/'report.json').read_text()).items() if k not in ('engine', 'num_proc')}
    return {'train': dsd['train'][:], 'validation': dsd['validation'][:], 'report': report,
            'card': (folder/'data_card.md').read_text()}

def _assert_same(reference: Path, scaled: Path):
    "Same documents (text and source, in order) in the same splits, same report (but what ran it), same data card"
    a, b = _contents(reference), _contents(scaled)
    docs = lambda c: [(s, t, src) for s in ('train', 'validation') for t, src in zip(c[s]['text'], c[s]['source'])]
    da, db = docs(a), docs(b)
    same = sum(x == y for x, y in zip(da, db)) / max(len(da), len(db))
    assert (len(da), same) == (len(db), 1.0), f"{same:.2%} of the documents identical"   # no difference to explain
    assert b['report'] == a['report']
    assert b['card'] == a['card']

@pytest.mark.parametrize('case', CASES)
def test_local_executor_keeps_what_prepare_keeps(case, native, tmp_path):
    cfg, reference = native[case]
    report = prepare_datatrove(cfg, tmp_path/'out', 'local', tasks=3, workers=2)
    _assert_same(reference, tmp_path/'out')
    assert report['engine'] | {'version': ''} == {'name': 'datatrove', 'version': '', 'executor': 'local', 'tasks': 3,
                                                  'workers': 2}
    assert sorted(p.name for p in (tmp_path/'out'/'datatrove').iterdir()) == ['counts', 'datatrove.log', 'logs']

def test_the_hostile_folder_is_reported_as_prepare_reports_it(native, tmp_path):
    "The checks of the reference run that matter here (the comparison above makes them hold for datatrove's too)"
    report = _contents(native['hostile, defaults'][1])['report']
    skipped = {s['path'].split('/')[-1]: s['reason'] for s in report['files_skipped']}
    assert set(skipped) == {'image.png', 'latin1.txt', 'empty.txt', 'blank.txt', 'broken.jsonl', 'gone.txt'}, skipped
    assert report['removed']['near_duplicate'] >= 1 and report['removed']['exact_duplicate'] >= 1   # pages, STORY records
    assert report['records_skipped_count'] == 3 and report['pii_replaced']['EMAIL'] >= 2

@pytest.fixture(scope='module')
def ray_cluster():
    "A Ray instance on this machine with two CPUs (two workers), shut down after the module"
    ray = pytest.importorskip('ray')
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()

@pytest.mark.parametrize('case', ['hostile, every rule set', 'planted, tail split and max_docs'])
def test_ray_executor_keeps_what_prepare_keeps(case, native, ray_cluster, tmp_path):
    cfg, reference = native[case]
    report = prepare_datatrove(cfg, tmp_path/'out', 'ray', tasks=3, workers=2)
    _assert_same(reference, tmp_path/'out')
    assert report['engine']['executor'] == 'ray' and ray_cluster.is_initialized()   # ours was used, not shut down
    logs = sorted(p.name for p in (tmp_path/'out'/'datatrove'/'logs'/'signatures'/'logs').iterdir())
    assert logs == ['task_00000.log', 'task_00001.log', 'task_00002.log']

def test_slurm_jobs_written_without_submitting(native, tmp_path):
    cfg, _ = native['planted, tail split and max_docs']
    out = tmp_path/'out'
    jobs = prepare_datatrove(cfg, out, 'slurm', tasks=6, workers=3, submit=False,
                             slurm={'partition': 'batch', 'time': '01:30:00', 'mem_per_cpu_gb': 3})
    folder = Path(jobs['submit_script']).parent
    scripts = [(folder/f'{i:02d}.slurm').read_text() for i in range(1, jobs['jobs'] + 1)]
    stages = [re.search(r'--job-name=(\S+)', s).group(1) for s in scripts]
    # each stage's job array, then datatrove's job that merges that stage's statistics
    assert stages == [f'llm-course-{s}' for s in ('signatures', 'buckets', 'clusters', 'filter', 'finalize')
                      for _ in range(2)]
    arrays = [re.search(r'--array=(\S+)', s).group(1) for s in scripts[::2]]
    assert arrays == ['0-5%3', '0-5%3', '0-0%1', '0-5%3', '0-0%1']   # buckets: 6 tasks (16 bands), clusters: 1
    for name, script in zip(('signatures', 'buckets', 'clusters', 'filter', 'finalize'), scripts[::2]):
        assert script.startswith('#!/bin/bash\n')
        for line in ('#SBATCH --partition=batch', '#SBATCH --time=01:30:00', '#SBATCH --mem-per-cpu=3G',
                     '#SBATCH --cpus-per-task=1', f"source {Path(os.sys.prefix)/'bin'/'activate'}",
                     f"launch_pickled_pipeline {out.resolve()/'datatrove'/'logs'/name/'executor.pik'}"):
            assert line in script, (name, line)
    submit = (folder/'submit.sh').read_text().splitlines()
    sbatch = [l for l in submit if l.startswith('J')]
    assert sbatch[0] == 'J1=$(sbatch --parsable --export=ALL,RUN_OFFSET=0 01.slurm)'
    assert sbatch[2] == 'J3=$(sbatch --parsable --export=ALL,RUN_OFFSET=0 --dependency=afterok:$J1 03.slurm)'
    assert sbatch[1] == 'J2=$(sbatch --parsable --dependency=afterok:$J1 02.slurm)'   # merge the first stage's stats
    assert not (out/'dataset').exists()   # nothing ran

def _fake_slurm_tools(bin_dir: Path):
    "`srun` that runs its command here, and `scontrol show hostnames` that names this machine"
    bin_dir.mkdir()
    tools = {'srun': '#!/bin/bash\nwhile [[ "$1" == -* ]]; do [[ "$1" == -n ]] && shift; shift; done\nexec "$@"\n',
             'scontrol': '#!/bin/bash\necho localhost\n'}
    for name, text in tools.items():
        (bin_dir/name).write_text(text)
        (bin_dir/name).chmod((bin_dir/name).stat().st_mode | stat.S_IEXEC)

def test_slurm_jobs_run_as_slurm_would_run_them(native, tmp_path):
    """Each written job array run here, task by task, with the environment Slurm gives a task (array index, node list)
    and stand-ins for `srun` and `scontrol`: the last job writes the same dataset as `prepare`"""
    cfg, reference = native['planted, tail split and max_docs']
    out = tmp_path/'out'
    jobs = prepare_datatrove(cfg, out, 'slurm', tasks=3, workers=2, submit=False)
    folder = Path(jobs['submit_script']).parent
    _fake_slurm_tools(tmp_path/'bin')
    env = {**os.environ, 'PATH': f"{tmp_path/'bin'}:{os.environ['PATH']}", 'SLURM_NODELIST': 'localhost',
           'SLURM_JOB_ID': '1', 'RUN_OFFSET': '0'}
    for i in range(1, jobs['jobs'] + 1, 2):   # the stages' arrays (the stats merges are not needed for the data)
        script = (folder/f'{i:02d}.slurm').read_text()
        last = int(re.search(r'--array=0-(\d+)', script).group(1))
        for task in range(last + 1):
            r = subprocess.run(['bash', str(folder/f'{i:02d}.slurm')], env={**env, 'SLURM_ARRAY_TASK_ID': str(task)},
                               capture_output=True, text=True)
            assert r.returncode == 0, r.stderr[-2000:]
    _assert_same(reference, out)

def test_errors_name_the_input_and_the_fix(corpora, tmp_path):
    from llm_course.core import UsageError
    cfg = load_profile('tiny', {'data': str(corpora['planted'])})
    with pytest.raises(UsageError, match="executor='spark': use one of local, ray, slurm"):
        prepare_datatrove(cfg, tmp_path/'o', 'spark')
    with pytest.raises(UsageError, match='no such file or folder'):
        prepare_datatrove(load_profile('tiny', {'data': str(tmp_path/'missing')}), tmp_path/'o')
    bad = tmp_path/'bad'; bad.mkdir(); (bad/'a.bin').write_bytes(b'\x00' * 10); (bad/'b.txt').write_text('')
    with pytest.raises(UsageError, match=r'no usable text found \(skipped .*a.bin: binary'):
        prepare_datatrove(load_profile('tiny', {'data': str(bad)}), tmp_path/'o', tasks=2)

def test_cli_prepare_engine_datatrove(native, tmp_path, capsys):
    "`llm-course prepare --engine datatrove` writes what `prepare` writes; its options without the engine are refused"
    from llm_course.cli import main
    cfg, reference = native['hostile, defaults']
    args = ['prepare', '--profile', 'tiny', '--set', 'max_docs=0', '--data', cfg.data]
    main(args + ['--out', str(tmp_path/'dt'), '--engine', 'datatrove', '--tasks', '2', '--workers', '2'])
    _assert_same(reference, tmp_path/'dt')
    assert 'prepare (datatrove, local, 2 tasks on 2 workers)' in capsys.readouterr().out
    with pytest.raises(SystemExit) as e: main(args + ['--out', str(tmp_path/'native'), '--workers', '2'])
    assert e.value.code == 2
    assert '--executor, --tasks and --workers are options of --engine datatrove' in capsys.readouterr().err
    assert not (tmp_path/'native').exists()   # refused before anything was written
