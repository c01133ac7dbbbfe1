"""On a CPU, one process of two threads against two processes of one thread each (torchrun, DDP over gloo) with the same
global batch: which uses two cores better?

    python bench/cpu_ddp_bench.py [--profile shakespeare-cpu] [--steps 300] [--rounds 2]

Prepares the profile's data once, then trains it for --steps steps both ways, taking turns for --rounds rounds; prints
each way's median tokens/s (from `log.csv`, after the first 50 steps) and wall time, and whether both logged the same
training losses step for step, up to float rounding (chapter 05 splits one global batch between the processes)."""
import argparse, csv, os, shutil, statistics, subprocess, sys, tempfile, time
from pathlib import Path
from llm_course.core import load_profile

ap = argparse.ArgumentParser()
ap.add_argument('--profile', default='shakespeare-cpu'); ap.add_argument('--steps', type=int, default=300)
ap.add_argument('--rounds', type=int, default=2)
args = ap.parse_args()
scratch = tempfile.TemporaryDirectory(); work = Path(scratch.name)   # removed at exit
subprocess.run([sys.executable, '-m', 'llm_course.cli', 'prepare', '--profile', args.profile, '--out', work/'data'], check=True, capture_output=True)
train = ['train', '--profile', args.profile, '--set', f'max_steps={args.steps}', '--set', 'eval_interval=1000000', '--set', 'ckpt_interval=1000000']
half = load_profile(args.profile).batch_size // 2
ways = {'1 process x 2 threads': ([sys.executable, '-m', 'llm_course.cli', *train], {}),
        '2 processes x 1 thread': ([sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2', '-m', 'llm_course.cli',
                                    *train, '--set', f'batch_size={half}'], {'OMP_NUM_THREADS': '1'})}
res, losses = {w: ([], []) for w in ways}, {}
for r in range(args.rounds):
    for w, (cmd, env) in (ways.items() if r % 2 == 0 else reversed(ways.items())):
        out = work/f'run{r}'; shutil.rmtree(out, ignore_errors=True); shutil.copytree(work/'data', out)
        t = time.perf_counter()
        subprocess.run([*cmd, '--out', str(out)], check=True, capture_output=True, env={**os.environ, **env})
        rows = list(csv.DictReader(open(out/'log.csv')))
        res[w][0].append(statistics.median(float(x['tokens_per_s']) for x in rows[50:] if x['tokens_per_s']))
        res[w][1].append(time.perf_counter() - t); losses[w] = [float(x['train_loss']) for x in rows if x['train_loss']]
for w, (tps, wall) in res.items(): print(f'{w:24s} {statistics.median(tps):8,.0f} tokens/s   {statistics.median(wall):6.1f} s wall')
a, b = (statistics.median(v[0]) for v in res.values())
l1, l2 = losses.values()
print(f'two processes / one: {b / a:.2f}x tokens/s; training losses of the last round differ by at most '
      f'{max(abs(x - y) for x, y in zip(l1, l2)):.1e} over {len(l1)} steps')
