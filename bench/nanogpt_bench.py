"""Our training loop against nanoGPT's own `train.py` on its README CPU recipe for Shakespeare-char, side by side.

    python bench/nanogpt_bench.py --nanogpt PATH_TO_NANOGPT_CHECKOUT [--data FILE] [--iters 2000] [--best shakespeare-best]

PATH_TO_NANOGPT_CHECKOUT is a checkout of karpathy/nanoGPT kept outside this repository; it is copied to a temporary
folder, where its `data/shakespeare_char/prepare.py` turns the local text (--data, default
$LLM_COURSE_DATA/tinyshakespeare.txt) into its .bin files (90/10 split, no download). Both runs use the same model
(4 layers, 4 heads, 128 wide, no dropout), context 64, batch 12, lr 1e-3 with warmup and cosine decay to 1e-4, AdamW
beta2 0.99, in fp32 on the CPU; ours is `llm-course pipeline --profile shakespeare-cpu`, whose char tokenizer and
`split=tail` mirror nanoGPT's data. Prints per-iteration time (median), tokens/s, wall time and final validation loss;
with --best, also the wall time and validation loss of one of our profiles run unchanged on the same data.
"""
import argparse, csv, os, re, shutil, statistics, subprocess, sys, tempfile, time
from pathlib import Path

ap = argparse.ArgumentParser()
ap.add_argument('--nanogpt', type=Path, required=True)
ap.add_argument('--data', type=Path, default=Path(os.environ.get('LLM_COURSE_DATA', '.'))/'tinyshakespeare.txt')
ap.add_argument('--iters', type=int, default=2000)
ap.add_argument('--best', help='also run this profile of ours (e.g. shakespeare-best) as it is, against nanoGPT\'s wall time')
args = ap.parse_args()
work = Path(tempfile.mkdtemp())
peer = work/'nanogpt'; shutil.copytree(args.nanogpt, peer)
shutil.copy(args.data, peer/'data'/'shakespeare_char'/'input.txt')
subprocess.run([sys.executable, 'data/shakespeare_char/prepare.py'], cwd=peer, check=True, capture_output=True)
tokens_per_iter = 12 * 64

t0 = time.perf_counter()
r = subprocess.run([sys.executable, 'train.py', 'config/train_shakespeare_char.py', '--device=cpu', '--compile=False',
                    '--eval_iters=20', '--log_interval=1', '--block_size=64', '--batch_size=12', '--n_layer=4', '--n_head=4',
                    '--n_embd=128', f'--max_iters={args.iters}', f'--lr_decay_iters={args.iters}', '--dropout=0.0'],
                   cwd=peer, capture_output=True, text=True)
peer_wall = time.perf_counter() - t0
if r.returncode: sys.exit(f"nanoGPT failed:\n{r.stderr[-2000:]}")
peer_ms = [float(m) for m in re.findall(r'iter \d+: loss [\d.]+, time ([\d.]+)ms', r.stdout)][1:]
peer_val = [float(v) for v in re.findall(r'step \d+: train loss [\d.]+, val loss ([\d.]+)', r.stdout)]

out = work/'ours'
t0 = time.perf_counter()
o = subprocess.run([sys.executable, '-m', 'llm_course.cli', 'pipeline', '--profile', 'shakespeare-cpu', '--data', str(args.data),
                    '--out', str(out), '--set', f'max_steps={args.iters}'], capture_output=True, text=True,
                   env={**os.environ, 'TQDM_DISABLE': '1'})
ours_wall = time.perf_counter() - t0
if o.returncode: sys.exit(f"llm-course failed:\n{o.stderr[-2000:]}")
rows = list(csv.DictReader(open(out/'log.csv')))
ours_ms = [tokens_per_iter / float(r_['tokens_per_s']) * 1e3 for r_ in rows[1:]]
ours_val = [float(r_['val_loss']) for r_ in rows if r_['val_loss']]

best = None
if args.best:
    t0 = time.perf_counter()
    b = subprocess.run([sys.executable, '-m', 'llm_course.cli', 'pipeline', '--profile', args.best, '--data', str(args.data),
                        '--out', str(work/'best')], capture_output=True, text=True, env={**os.environ, 'TQDM_DISABLE': '1'})
    best_wall = time.perf_counter() - t0
    if b.returncode: sys.exit(f"llm-course --profile {args.best} failed:\n{b.stderr[-2000:]}")
    brows = list(csv.DictReader(open(work/'best'/'log.csv')))
    best = (best_wall, [float(r_['val_loss']) for r_ in brows if r_['val_loss']][-1], len(brows),
            __import__('json').loads((work/'best'/'metrics.json').read_text())['val_loss'])

pm, om = statistics.median(peer_ms), statistics.median(ours_ms)
print(f"{'':>10} {'ms/iter':>8} {'tokens/s':>9} {'wall s':>7} {'val loss':>9}")
print(f"{'nanoGPT':>10} {pm:8.1f} {tokens_per_iter / pm * 1e3:9,.0f} {peer_wall:7.0f} {peer_val[-1]:9.3f}")
print(f"{'ours':>10} {om:8.1f} {tokens_per_iter / om * 1e3:9,.0f} {ours_wall:7.0f} {ours_val[-1]:9.3f}")
if best: print(f"{args.best:>10} {'':>8} {'':>9} {best[0]:7.0f} {best[1]:9.3f}   ({best[2]} steps; wall {best[0] / peer_wall:.2f}x "
              f"nanoGPT's; {best[3]:.3f} over the whole validation split)")
print(f"ours tokens/s / nanoGPT's: {pm / om:.2f}x (median iteration; ours' wall time includes data preparation, "
      f"final evaluation on the whole validation split, export and samples)")
shutil.rmtree(work)
