"""Our training loop against nanoGPT's own `train.py` on its README CPU recipe for Shakespeare-char, side by side.

    python bench/nanogpt_bench.py --nanogpt PATH_TO_NANOGPT_CHECKOUT [--data FILE] [--iters 2000] [--rounds 2] [--best shakespeare-best]

PATH_TO_NANOGPT_CHECKOUT is a checkout of karpathy/nanoGPT kept outside this repository; it is copied to a temporary
folder, where its `data/shakespeare_char/prepare.py` turns the local text (--data, default
$LLM_COURSE_DATA/tinyshakespeare.txt) into its .bin files (90/10 split, no download). Both runs use the same model
(4 layers, 4 heads, 128 wide, no dropout), context 64, batch 12, lr 1e-3 with warmup and cosine decay to 1e-4, AdamW
beta2 0.99; ours is `llm-course pipeline --profile shakespeare-cpu`, whose char tokenizer and `split=tail` mirror
nanoGPT's data. nanoGPT's CPU path always trains in fp32; ours runs twice, with `precision=auto` (bf16 autocast on a CPU
with bf16 units, else fp32) and with `precision=fp32`. The contenders take turns, for
--rounds rounds (a shared machine drifts by 10-20% over minutes), and each figure is the median over rounds. Prints
per-iteration time (median), tokens/s, wall time and final validation loss; with --best, also the wall time and
validation loss of one of our profiles run unchanged on the same data.
"""
import argparse, csv, json, os, re, shutil, statistics, subprocess, sys, tempfile, time
from pathlib import Path

ap = argparse.ArgumentParser()
ap.add_argument('--nanogpt', type=Path, required=True)
ap.add_argument('--data', type=Path, default=Path(os.environ.get('LLM_COURSE_DATA', '.'))/'tinyshakespeare.txt')
ap.add_argument('--iters', type=int, default=2000)
ap.add_argument('--rounds', type=int, default=2)
ap.add_argument('--best', help='also run this profile of ours (e.g. shakespeare-best) as it is, against nanoGPT\'s wall time')
args = ap.parse_args()
scratch = tempfile.TemporaryDirectory(); work = Path(scratch.name)   # removed at exit
peer = work/'nanogpt'; shutil.copytree(args.nanogpt, peer)
shutil.copy(args.data, peer/'data'/'shakespeare_char'/'input.txt')
subprocess.run([sys.executable, 'data/shakespeare_char/prepare.py'], cwd=peer, check=True, capture_output=True)
tokens_per_iter = 12 * 64
env = {**os.environ, 'TQDM_DISABLE': '1'}

def nanogpt():
    "nanoGPT's train.py on its CPU recipe: (median ms per iteration, wall s, final val loss, precision)"
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, 'train.py', 'config/train_shakespeare_char.py', '--device=cpu', '--compile=False',
                        '--eval_iters=20', '--log_interval=1', '--block_size=64', '--batch_size=12', '--n_layer=4', '--n_head=4',
                        '--n_embd=128', f'--max_iters={args.iters}', f'--lr_decay_iters={args.iters}', '--dropout=0.0'],
                       cwd=peer, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode: sys.exit(f"nanoGPT failed:\n{r.stderr[-2000:]}")
    ms = [float(m) for m in re.findall(r'iter \d+: loss [\d.]+, time ([\d.]+)ms', r.stdout)][1:]
    val = [float(v) for v in re.findall(r'step \d+: train loss [\d.]+, val loss ([\d.]+)', r.stdout)]
    return statistics.median(ms), wall, val[-1], 'fp32'

def ours(profile, *sets):
    "`llm-course pipeline --profile PROFILE`: (median ms per iteration, wall s, final val loss, precision, whole-split val loss, steps)"
    out = work/f'ours-{len(list(work.iterdir()))}'
    t0 = time.perf_counter()
    o = subprocess.run([sys.executable, '-m', 'llm_course.cli', 'pipeline', '--profile', profile, '--data', str(args.data),
                        '--out', str(out), *[a for s in sets for a in ('--set', s)]], capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    if o.returncode: sys.exit(f"llm-course --profile {profile} failed:\n{o.stderr[-2000:]}")
    rows, m = list(csv.DictReader(open(out/'log.csv'))), json.loads((out/'metrics.json').read_text())
    ms = [m['training']['tokens'] / m['training']['steps'] / float(r_['tokens_per_s']) * 1e3 for r_ in rows[1:]]
    val = [float(r_['val_loss']) for r_ in rows if r_['val_loss']]
    shutil.rmtree(out)
    return statistics.median(ms), wall, val[-1], m['training']['mixed_precision'], m['val_loss'], len(rows)

contenders = {'nanoGPT': nanogpt,
              'ours (auto)': lambda: ours('shakespeare-cpu', f'max_steps={args.iters}'),
              'ours (fp32)': lambda: ours('shakespeare-cpu', f'max_steps={args.iters}', 'precision=fp32')}
if args.best: contenders[args.best] = lambda: ours(args.best)
runs = {k: [] for k in contenders}
for r in range(args.rounds):
    for k in (list(contenders) if r % 2 == 0 else list(contenders)[::-1]):   # alternate the order between rounds
        runs[k].append(contenders[k]()); print(f"round {r + 1}: {k}: {runs[k][-1]}", flush=True)

med = lambda k, i: statistics.median(x[i] for x in runs[k])
print(f"\n{'':>16} {'precision':>9} {'ms/iter':>8} {'tokens/s':>9} {'wall s':>7} {'val loss':>9}")
for k in contenders:
    if k == args.best: continue
    print(f"{k:>16} {'bf16' if runs[k][0][3] == 'bf16' else 'fp32':>9} {med(k, 0):8.1f} {tokens_per_iter / med(k, 0) * 1e3:9,.0f} "
          f"{med(k, 1):7.0f} {med(k, 2):9.3f}")
if args.best:
    print(f"{args.best:>16} {'bf16' if runs[args.best][0][3] == 'bf16' else 'fp32':>9} {'':>8} {'':>9} {med(args.best, 1):7.0f} "
          f"{med(args.best, 2):9.3f}   ({runs[args.best][0][5]} steps; wall {med(args.best, 1) / med('nanoGPT', 1):.2f}x nanoGPT's; "
          f"{med(args.best, 4):.3f} over the whole validation split)")
for k in ('ours (auto)', 'ours (fp32)'):
    print(f"{k} tokens/s / nanoGPT's: {med('nanoGPT', 0) / med(k, 0):.2f}x (median iteration; per round: "
          f"{', '.join(f'{n[0] / o[0]:.2f}x' for n, o in zip(runs['nanoGPT'], runs[k]))})")
print("ours' wall time includes data preparation, final evaluation on the whole validation split, export and samples")
