"""Everything that needs a GPU, in one run: the device and its measured bf16 matmul rate; our training loop (`fit`,
through Accelerate) on a GPT-2-small shape (12 x 768, vocab 50,304, context 1024) in bf16 with and without
`torch.compile`, tokens/s and MFU against the datasheet peak (H100/H200: 989 TFLOP/s dense bf16); greedy generation on
the GPU equal to `model.generate`; the serving engine on the GPU; `llm-course pipeline --profile gpu-small` end to end
on the embedded corpus; and the training panel (chapter 08c) launched through `accelerate.notebook_launcher` with one
process per GPU it finds: its losses against one process with the same global batch, and Stop half-way.

    python bench/gpu_check.py --out DIR            # on a machine with a CUDA GPU (about 5 minutes on an H100)
    python bench/gpu_check.py --out DIR --smoke    # the same code paths on the CPU, small shapes (a check of the script)

Under --smoke the panel launches 2 CPU processes. Writes DIR/gpu_check.json and prints a summary. Synthetic token
streams (uniform random ids) feed the throughput runs: throughput does not depend on what the tokens say."""
import argparse, json, os, shutil, subprocess, sys, tempfile, time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from llm_course.core import load_profile, seed_everything
from llm_course.training import matmul_flops
from llm_course.generation import generate
from llm_course.model import GPT, GPTConfig, flops_per_token, n_params
from llm_course.tokenization import TokenStream
from llm_course.training import StreamBatches, fit, peak_flops, read_log

ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
ap.add_argument('--out', type=Path, required=True)
ap.add_argument('--smoke', action='store_true', help='CPU, tiny shapes: checks the script, measures nothing')
ap.add_argument('--steps', type=int, default=60, help='optimizer steps per throughput run (the first 10 are not timed)')
ap.add_argument('--panel-launch', type=Path, help=argparse.SUPPRESS)   # internal: the panel's part, in a fresh process

def panel_run(out:Path, profile:str, device:str, processes:int, batch:int, steps:int, stop_after:int=0,
              tokens_from:Path|None=None) -> dict:
    "One run of the training panel, driven as clicks would; Stop pressed once `stop_after` rows are logged (0: never)"
    from llm_course.widgets import TrainingPanel, log_rows
    if tokens_from:   # an earlier run prepared the corpus: copy its tokens
        out.mkdir(parents=True)
        for f in ('tokens.json', 'tokenizer.json', 'train.bin', 'validation.bin'): shutil.copy(tokens_from/f, out)
    panel = TrainingPanel(profile, out, threaded=bool(stop_after))
    for key, value in (('batch_size', batch), ('max_steps', steps), ('device', device), ('precision', 'fp32')):
        panel.controls[key].value = value
    panel.processes.value = processes
    notes = {k: n.value for k, n in panel.notes.items() if n.value}
    t0 = time.perf_counter()
    panel.start()
    if stop_after:
        while len(panel.rows) < stop_after and panel.running: time.sleep(0.05)
        panel.stop()
        panel.thread.join()
    rows = log_rows(out/'log.csv')
    ckpt = (panel.result or {}).get('checkpoint') or max((out/'checkpoints').glob('step-*'), default=None)
    return {'processes': processes, 'batch_size': batch, 'notes': notes, 'info': panel.info.value,
            'error': None if panel.error is None else f'{type(panel.error).__name__}: {panel.error}',
            'status': panel.status.value, 'steps': len(rows), 'wall_s': time.perf_counter() - t0,
            'tokens_per_s_median': float(np.median([r['tokens_per_s'] for r in rows[5:]])) if len(rows) > 5 else None,
            'train_losses': [r['train_loss'] for r in rows], 'checkpoint': ckpt.name if ckpt else None}

def panel_launch(folder:Path, smoke:bool) -> dict:
    """The panel launched on every GPU it finds (2 CPU processes under --smoke), in a process that has not touched CUDA:
    `notebook_launcher` forks it, and a forked child cannot use its parent's CUDA context"""
    from llm_course.widgets import find_machine
    machine = find_machine('cpu' if smoke else 'cuda')
    n = 2 if smoke else machine.count
    profile, device, batch, steps = ('tiny', 'cpu', 4, 20) if smoke else ('cpu', 'cuda', 16, 200)
    result = {'machine': asdict(machine), 'processes': n, 'profile': profile, 'launched': n > 1}
    first = folder/('launched' if n > 1 else 'one')
    if n > 1:   # the launches first: the one-process run initialises CUDA in this process, after which none could fork
        result['launched_run'] = panel_run(first, profile, device, n, batch, steps)
    result['stopped'] = panel_run(folder/'stopped', profile, device, n, batch, 10 * steps, 5, first if n > 1 else None)
    if n == 1: first = folder/'stopped'
    result['one'] = panel_run(folder/'one', profile, device, 1, batch * n, steps, tokens_from=first)
    if n > 1:
        pairs = list(zip(result['one']['train_losses'], result['launched_run']['train_losses']))
        result['max_loss_difference'] = max((abs(a - b) for a, b in pairs), default=None)
    return result

args = ap.parse_args()
if args.panel_launch:   # before anything below touches CUDA
    args.panel_launch.mkdir(parents=True, exist_ok=True)
    (args.panel_launch/'panel.json').write_text(json.dumps(panel_launch(args.panel_launch, args.smoke), default=str))
    sys.exit(0)
args.out.mkdir(parents=True, exist_ok=True)
cuda = torch.cuda.is_available() and not args.smoke
if not cuda and not args.smoke: sys.exit('no CUDA device: run with --smoke to check the script on the CPU')
device = 'cuda' if cuda else 'cpu'
report = {'torch': torch.__version__, 'device': torch.cuda.get_device_name() if cuda else 'cpu', 'smoke': args.smoke}
if cuda:
    report |= {'cuda': torch.version.cuda, 'bf16_supported': torch.cuda.is_bf16_supported(),
               'measured_bf16_tflops': matmul_flops(torch.bfloat16, 'cuda', 8192) / 1e12,
               'datasheet_peak_tflops': peak_flops('cuda', 'bf16') / 1e12}
print(json.dumps(report), flush=True)

# GPT-2 small (vocab padded to a multiple of 64, as nanoGPT does), or a toy shape for --smoke
shape = dict(vocab_size=50304, n_layer=12, n_head=12, n_embd=768, block_size=1024) if cuda else \
        dict(vocab_size=512, n_layer=2, n_head=2, n_embd=64, block_size=64)
batch = 16 if cuda else 4
scratch = tempfile.TemporaryDirectory(); tmp = Path(scratch.name)   # removed at exit
rng = np.random.default_rng(0)
for split, n in (('train', 20_000_000 if cuda else 50_000), ('validation', 2_000_000 if cuda else 10_000)):
    rng.integers(0, shape['vocab_size'], n, dtype=np.uint16).tofile(tmp/f'{split}.bin')
train, val = (TokenStream(tmp/f'{s}.bin', shape['vocab_size'], shape['block_size']) for s in ('train', 'validation'))

def throughput(compile_:bool) -> dict:
    "Train `args.steps` steps; tokens/s and MFU over the steps after the first 10 (compilation and warm-up)"
    cfg = load_profile('cpu', {'n_layer': str(shape['n_layer']), 'n_head': str(shape['n_head']), 'n_embd': str(shape['n_embd']),
                               'block_size': str(shape['block_size']), 'batch_size': str(batch), 'max_steps': str(args.steps),
                               'eval_interval': str(10 * args.steps), 'ckpt_interval': str(10 * args.steps), 'eval_batches': '2',
                               'warmup_steps': '10', 'device': device, 'precision': 'bf16' if cuda else 'fp32',
                               'compile': str(compile_).lower(), 'trackers': 'none', 'dropout': '0.0', 'bias': 'false'})
    seed_everything(0)
    model = GPT(GPTConfig(**shape, dropout=0.0, bias=False))
    run = tmp/f'run-{compile_}'
    t0 = time.perf_counter(); m = fit(model, StreamBatches(train, val, cfg), cfg, run, progress=False); wall = time.perf_counter() - t0
    rows = read_log(run/'log.csv')[10:]
    tok_s = float(np.median([r['tokens_per_s'] for r in rows]))
    return {'compile': compile_, 'params_M': n_params(model) / 1e6, 'tokens_per_s_median': tok_s,
            'mfu_median': float(np.median([r['mfu'] for r in rows])), 'peak_flops': m['peak_flops'], 'precision': m['mixed_precision'],
            'flops_per_token': flops_per_token(model), 'wall_s': wall, 'final_train_loss': m['train_loss'],
            'max_memory_GiB': torch.cuda.max_memory_allocated() / 2**30 if cuda else None}

for compile_ in (False, True):
    if cuda: torch.cuda.reset_peak_memory_stats()
    r = report[f"train_{'compiled' if compile_ else 'eager'}"] = throughput(compile_)
    print(f"train {'compiled' if compile_ else 'eager   '}: {r['tokens_per_s_median']:,.0f} tokens/s, MFU {r['mfu_median']:.1%} "
          f"({r['precision']}, peak {r['peak_flops'] / 1e12:.0f} TFLOP/s), wall {r['wall_s']:.0f} s", flush=True)

# generation on the device: our sampler equals model.generate, greedy
seed_everything(0)
model = GPT(GPTConfig(**shape)).to(device).eval()
if cuda: model = model.to(torch.bfloat16)
prompt = torch.randint(0, shape['vocab_size'], (2, 16), device=device)
n_new = min(64, shape['block_size'] - prompt.shape[1])
ours = generate(model, prompt, n_new, greedy=True)
ref = model.generate(prompt, max_new_tokens=n_new, do_sample=False, pad_token_id=0)
report['generate_equal_to_model_generate'] = bool(torch.equal(ours, ref))
sync = torch.cuda.synchronize if cuda else (lambda: None)
for name, fn in (('ours', lambda: generate(model, prompt[:1], n_new, greedy=True)),
                 ('transformers', lambda: model.generate(prompt[:1], max_new_tokens=n_new, min_new_tokens=n_new, do_sample=False, pad_token_id=0))):
    fn(); sync(); t = time.perf_counter(); fn(); sync()
    report[f'generate_tokens_per_s_{name}'] = n_new / (time.perf_counter() - t)
print(f"generate: equal to model.generate {report['generate_equal_to_model_generate']}; "
      f"{report['generate_tokens_per_s_ours']:.0f} vs {report['generate_tokens_per_s_transformers']:.0f} tokens/s", flush=True)

# the serving engine on the device: 8 concurrent greedy jobs give each one's tokens alone
import threading
from llm_course.serving import Engine, Job
class _Tok:   # ids in, ids out: the engine only needs decode and eos_token_id
    eos_token_id = None
    def decode(self, ids, skip_special_tokens=True): return ' '.join(map(str, ids)) + (' ' if ids else '')
eng = Engine(model, _Tok(), max_batch=8).start()
outs, done = [[] for _ in range(8)], threading.Semaphore(0)
def emitter(i): return lambda e: (outs[i].append(e), done.release() if ('done' in e or 'error' in e) else None)
prompts = [torch.randint(0, shape['vocab_size'], (8 + 3 * i,)).tolist() for i in range(8)]
eng.submit([Job(p, 24, emitter(i), temperature=0) for i, p in enumerate(prompts)])
for _ in prompts: done.acquire(timeout=300)
eng.close()
alone = [generate(model, torch.tensor([p], device=device), 24, greedy=True)[0, len(p):].tolist() for p in prompts]
batched = [''.join(e.get('text', '') for e in o).split() for o in outs]
report['engine_batched_equal_alone'] = sum(list(map(int, b)) == a for b, a in zip(batched, alone))
print(f"serving engine: {report['engine_batched_equal_alone']}/8 batched jobs token-equal to generating alone "
      f"(in bf16 a different batch shape may change a rounding and so a greedy choice)", flush=True)

# the whole pipeline with the GPU profile, on the embedded corpus (no network on the device machine)
cmd = [sys.executable, '-m', 'llm_course.cli', 'pipeline', '--profile', 'gpu-small' if cuda else 'tiny', '--data', 'embedded',
       '--out', str(tmp/'pipeline'), '--set', f"max_steps={1000 if cuda else 20}", '--set', 'trackers=none']
t0 = time.perf_counter(); r = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, 'TQDM_DISABLE': '1'})
report['pipeline'] = {'returncode': r.returncode, 'wall_s': time.perf_counter() - t0, 'stdout_tail': r.stdout[-1500:],
                      'stderr_tail': r.stderr[-1500:] if r.returncode else ''}
if r.returncode == 0: report['pipeline']['metrics'] = json.loads((tmp/'pipeline'/'metrics.json').read_text())
print(f"pipeline --profile {'gpu-small' if cuda else 'tiny'}: exit {r.returncode} in {report['pipeline']['wall_s']:.0f} s", flush=True)

# the training panel launched on every GPU (notebook_launcher forks: run it from a process that never touched CUDA)
cmd = [sys.executable, __file__, '--out', str(args.out), '--panel-launch', str(tmp/'panel')] + (['--smoke'] if args.smoke else [])
t0 = time.perf_counter(); r = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, 'TQDM_DISABLE': '1'})
report['panel_launch'] = json.loads((tmp/'panel'/'panel.json').read_text()) if r.returncode == 0 else \
                         {'returncode': r.returncode, 'stderr_tail': r.stderr[-3000:]}
report['panel_launch']['wall_s'] = time.perf_counter() - t0
p = report['panel_launch']
if r.returncode: print(f"panel launch: exit {r.returncode}\n{r.stderr[-1500:]}", flush=True)
else:
    launched = p.get('launched_run', p['one'])
    print(f"panel launch: {p['processes']} process(es) on {p['machine']['count']} x {p['machine']['name']}: "
          f"{launched['steps']} steps, error {launched['error']}, {launched['tokens_per_s_median'] or 0:,.0f} tokens/s; "
          f"largest loss difference from 1 process {p.get('max_loss_difference')}; Stop: {p['stopped']['status']}", flush=True)
(args.out/'gpu_check.json').write_text(json.dumps(report, indent=2, default=str))
print(f"wrote {args.out/'gpu_check.json'}")
