"""Our GPT (needs `pip install -e ".[bench]"`; llms-from-scratch pulls in TensorFlow for its download helpers) against transformers' GPT2LMHeadModel and rasbt's LLMs-from-scratch GPTModel (PyPI `llms-from-scratch`),
same shapes, side by side in one process: forward+backward time per token, and generation speed with and without the
KV cache.

    python bench/model_bench.py [--shapes cpu,gpt2-small] [--reps 10] [--gen-rounds 3]

Prints each model's time and the ratio ours / theirs (below 1.0: ours is faster).
"""
import argparse, time

import torch
import torch.nn.functional as F
from transformers import GPT2Config, GPT2LMHeadModel
from llm_course.generation import generate
from llm_course.model import GPT, GPTConfig

SHAPES = {'cpu': dict(n_layer=4, n_head=4, n_embd=128, block_size=128, vocab_size=2048, batch=16),
          'gpt2-small': dict(n_layer=12, n_head=12, n_embd=768, block_size=256, vocab_size=50257, batch=2)}
ap = argparse.ArgumentParser()
ap.add_argument('--shapes', default='cpu,gpt2-small'); ap.add_argument('--reps', type=int, default=10)
ap.add_argument('--gen-rounds', type=int, default=3)
args = ap.parse_args()

def models(s):
    torch.manual_seed(0)
    ours = GPT(GPTConfig(vocab_size=s['vocab_size'], n_layer=s['n_layer'], n_head=s['n_head'], n_embd=s['n_embd'],
                         block_size=s['block_size'], mlp='gelu_tanh'))
    hf = GPT2LMHeadModel(GPT2Config(vocab_size=s['vocab_size'], n_layer=s['n_layer'], n_head=s['n_head'], n_embd=s['n_embd'],
                                    n_positions=s['block_size'], resid_pdrop=0, embd_pdrop=0, attn_pdrop=0))
    out = {'ours': ours, 'transformers GPT2LMHeadModel': hf}
    try:
        from llms_from_scratch.ch04 import GPTModel
        out['rasbt GPTModel'] = GPTModel({'vocab_size': s['vocab_size'], 'context_length': s['block_size'], 'emb_dim': s['n_embd'],
                                          'n_heads': s['n_head'], 'n_layers': s['n_layer'], 'drop_rate': 0.0, 'qkv_bias': True})
    except ImportError: print('llms-from-scratch not installed: pip install llms-from-scratch')
    return out

def logits_of(m, x):
    out = m(x)
    return out if torch.is_tensor(out) else out.logits

def train_step_times(ms, x, reps):
    "Median forward+backward time of each model, the models taking turns so that drift in the machine hits all alike"
    times = {k: [] for k in ms}
    for i in range(reps + 2):
        for k, m in ms.items():
            m.train(); t = time.perf_counter()
            F.cross_entropy(logits_of(m, x[:, :-1]).flatten(0, 1), x[:, 1:].flatten()).backward()
            m.zero_grad(set_to_none=True)
            if i >= 2: times[k].append(time.perf_counter() - t)
    return {k: sorted(v)[len(v) // 2] for k, v in times.items()}

@torch.no_grad()
def uncached(m, ids, n, block):
    for _ in range(n): ids = torch.cat([ids, logits_of(m, ids[:, -block:])[:, -1:].argmax(-1)], 1)
    return ids

print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
for name in args.shapes.split(','):
    s = SHAPES[name]; ms = models(s)
    x = torch.randint(0, s['vocab_size'], (s['batch'], s['block_size'] + 1))
    tokens = s['batch'] * s['block_size']
    print(f"\n[{name}] {s['n_layer']} layers, {s['n_embd']} wide, {s['n_head']} heads, context {s['block_size']}, vocab {s['vocab_size']}, "
          f"batch {s['batch']}: forward+backward, median of {args.reps}")
    t = train_step_times(ms, x, args.reps)
    for k, v in t.items():
        print(f"  {k:>30}: {v * 1e3:8.1f} ms/step  {v / tokens * 1e6:7.2f} us/token  ours/this {t['ours'] / v:5.2f}x")
    prompt, n = x[:1, :16], min(100, s['block_size'] - 16)
    ours, hf = ms['ours'].eval(), ms['transformers GPT2LMHeadModel'].eval()
    gen = {}
    fns = {'ours, KV cache': lambda: generate(ours, prompt, n, greedy=True),
           'ours, no cache': lambda: uncached(ours, prompt, n, s['block_size']),
           'ours via model.generate': lambda: ours.generate(prompt, max_new_tokens=n, do_sample=False, pad_token_id=0),
           'GPT2LMHeadModel.generate': lambda: hf.generate(prompt, max_new_tokens=n, do_sample=False, pad_token_id=0)}
    for f in fns.values(): f()   # warm-up
    for _ in range(args.gen_rounds):   # the four take turns; each keeps its best round
        for k, f in fns.items():
            t0 = time.perf_counter(); f(); gen[k] = max(gen.get(k, 0), n / (time.perf_counter() - t0))
    print(f"  greedy generation of {n} tokens after a 16-token prompt, batch 1, best of {args.gen_rounds} rounds:")
    for k, v in gen.items(): print(f"  {k:>30}: {v:8.0f} tokens/s  ({v / gen['ours, KV cache']:.2f}x ours with cache)")
