"""One training step of nanoGPT's Shakespeare-char shape (4x128, context 64, batch 12, vocab 65) under each variant we tried
for speed, in one process, interleaved, with nanoGPT's own model beside ours when its path is given.

    python bench/train_step_bench.py [--nanogpt PATH_TO_NANOGPT_CHECKOUT] [--rounds 5] [--steps 30]

Variants: eager fp32, `torch.compile`, the math attention path instead of flash, bf16 autocast (what `precision=auto`
picks on a CPU with bf16 units; attention stays in float32, chapter 03's `fused_attention`), and bf16 autocast with the
attention kernel in bf16 too. Prints the median ms per step and each variant's ratio to ours in eager fp32; then, from a
`torch.profiler` trace of the eager step, the rate of its matrix products against the same shapes timed alone, and the
step's time shared among matrix products, attention, GELU, LayerNorm and AdamW.
"""
import argparse, contextlib, statistics, sys, time
import torch, torch.nn.functional as F
from torch.nn.attention import sdpa_kernel, SDPBackend
import llm_course.attention
from llm_course.training import cpu_bf16_speedup
from llm_course.model import GPT, GPTConfig
from llm_course.training import keep_freed_memory, param_groups

ap = argparse.ArgumentParser()
ap.add_argument('--nanogpt', help='a nanoGPT checkout (kept outside this repository): its GPT runs beside ours')
ap.add_argument('--rounds', type=int, default=5); ap.add_argument('--steps', type=int, default=30)
args = ap.parse_args()
keep_freed_memory()   # as `fit` does on a CPU
V, B, T, L, C = 65, 12, 64, 4, 128
g = torch.Generator().manual_seed(0)
x, y = torch.randint(0, V, (B, T), generator=g), torch.randint(0, V, (B, T), generator=g)

def ours_step(compiled=False, ctx=contextlib.nullcontext):
    torch.manual_seed(0)
    m = GPT(GPTConfig(vocab_size=V, n_layer=L, n_head=4, n_embd=C, block_size=T, bias=False))
    opt = torch.optim.AdamW(param_groups(m, 0.1), lr=1e-3, betas=(0.9, 0.99), fused=True)
    f = torch.compile(m) if compiled else m
    def step():
        with ctx():
            loss = F.cross_entropy(f(x).logits.flatten(0, 1).float(), y.flatten())
        loss.backward(); torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0); opt.step(); opt.zero_grad(set_to_none=True)
        return loss.item()
    return step

@contextlib.contextmanager
def bf16_attention_kernel():
    "bf16 autocast with the attention kernel in bf16 too, as before `fused_attention` kept it in float32 on a CPU"
    keep = llm_course.attention.fused_attention
    llm_course.attention.fused_attention = lambda q, k, v, mask=None, dropout_p=0.0, is_causal=False: \
        F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout_p, is_causal=is_causal)
    try:
        with torch.autocast('cpu', torch.bfloat16): yield
    finally: llm_course.attention.fused_attention = keep

steps = {'ours eager': ours_step(), 'ours compiled': ours_step(compiled=True),
         'ours math attention': ours_step(ctx=lambda: sdpa_kernel(SDPBackend.MATH)),
         'ours bf16 autocast': ours_step(ctx=lambda: torch.autocast('cpu', torch.bfloat16)),
         'ours bf16, bf16 attention': ours_step(ctx=bf16_attention_kernel)}
if args.nanogpt:
    sys.path.insert(0, args.nanogpt)
    from model import GPT as NanoGPT, GPTConfig as NanoConfig
    torch.manual_seed(0)
    n = NanoGPT(NanoConfig(vocab_size=V, n_layer=L, n_head=4, n_embd=C, block_size=T, dropout=0.0, bias=False))
    nopt = n.configure_optimizers(0.1, 1e-3, (0.9, 0.99), 'cpu')   # its own choice on a CPU: AdamW without fusion
    def nano_step():
        _, loss = n(x, y); loss.backward(); torch.nn.utils.clip_grad_norm_(n.parameters(), 1.0); nopt.step(); nopt.zero_grad(set_to_none=True)
        return loss.item()
    steps['nanoGPT eager'] = nano_step
for f in steps.values(): [f() for _ in range(3)]   # warm-up (and compilation)
ms = {k: [] for k in steps}
for _ in range(args.rounds):
    for k, f in steps.items():
        t = time.perf_counter()
        for _ in range(args.steps): f()
        ms[k].append((time.perf_counter() - t) / args.steps * 1e3)
base = statistics.median(ms['ours eager'])
print(f"this CPU's bf16 matmuls run {cpu_bf16_speedup():.2f}x its fp32 ones; {torch.get_num_threads()} threads")
for k, v in ms.items(): print(f"{k:26s} {statistics.median(v):6.2f} ms/step   {statistics.median(v) / base:.2f}x ours eager")
if 'nanoGPT eager' in ms:
    n = statistics.median(ms['nanoGPT eager'])
    print(f"nanoGPT's step time / ours: {n / base:.2f}x in fp32, {n / statistics.median(ms['ours bf16 autocast']):.2f}x with ours under bf16 autocast")

from torch.profiler import profile
with profile() as p:
    for _ in range(10): steps['ours eager']()
ops = p.key_averages()
def self_us(keys): return sum(e.self_cpu_time_total for e in ops if any(k in e.key for k in keys))   # over the 10 steps
MATMUL = ('aten::mm', 'aten::addmm', 'aten::bmm')
mm_s = self_us(MATMUL) / 1e6 / 10
shapes = [(C, 3 * C), (C, C), (C, 4 * C), (4 * C, C), (C, V)]   # (in, out) of each linear; three products each per step
flops = sum(3 * 2 * B * T * i * o * (L if o != V else 1) for i, o in shapes)
def alone(i, o):
    a, w = torch.randn(B * T, i), torch.randn(o, i); a @ w.t()
    t = time.perf_counter()
    for _ in range(50): a @ w.t()
    return (time.perf_counter() - t) / 50
alone_s = sum(3 * alone(i, o) * (L if o != V else 1) for i, o in shapes)
print(f"matrix products in the step: {flops / mm_s / 1e9:.0f} GFLOP/s; the same shapes timed alone: {flops / alone_s / 1e9:.0f} GFLOP/s")
groups = {'matrix products': MATMUL, 'attention': ('scaled_dot_product',),
          'GELU': ('aten::gelu',), 'LayerNorm': ('layer_norm',), 'AdamW': ('adamw',)}
total = sum(e.self_cpu_time_total for e in ops)
share = {g: self_us(keys) / total for g, keys in groups.items()}
print("share of the eager step's CPU time: " + ', '.join(f'{g} {s:.0%}' for g, s in share.items()) + f', the rest {1 - sum(share.values()):.0%}')
