"""What `precision=auto` picks on this CPU, and what it is worth: the same model and batches trained under fp32 and under
bf16 autocast, in one process.

    python bench/cpu_precision.py [--profile cpu] [--steps 100] [--rounds 3]

Prints the measured matmul rate of each dtype and `auto`'s choice, training tokens/s and final training loss under
each precision (the median of --rounds runs taking turns), and the ratio.
"""
import argparse, statistics, tempfile
from pathlib import Path

import torch
from llm_course.core import cpu_bf16_units, load_profile, pick_precision, seed_everything
from llm_course.training import cpu_bf16_speedup, matmul_flops
from llm_course.data import load_corpus, prepare_corpus
from llm_course.model import GPT, config_from_run
from llm_course.tokenization import BPETokenizer, TokenStream, pack_tokens
from llm_course.training import StreamBatches, fit

ap = argparse.ArgumentParser()
ap.add_argument('--profile', default='cpu'); ap.add_argument('--steps', type=int, default=100); ap.add_argument('--rounds', type=int, default=3)
args = ap.parse_args()

scratch = tempfile.TemporaryDirectory(); tmp = Path(scratch.name)   # removed at exit
base = load_profile(args.profile)
dsd, _ = prepare_corpus(load_corpus(base.data, base.doc_chars), base.val_frac, base.split, base.max_docs)
tok = BPETokenizer().train(dsd['train']['text'], base.vocab_size)
hf = tok.to_hf(tmp/'tokenizer.json')
for s in ('train', 'validation'): pack_tokens(dsd[s]['text'], hf, tmp/f'{s}.bin', [tok.special_tokens['<|endoftext|>']])
train, val = (TokenStream(tmp/f'{s}.bin', tok.vocab_size, base.block_size) for s in ('train', 'validation'))

print(f"matmul 1024x1024: fp32 {matmul_flops(torch.float32, 'cpu', 1024)/1e9:.0f} GFLOP/s, "
      f"bf16 {matmul_flops(torch.bfloat16, 'cpu', 1024)/1e9:.0f} GFLOP/s; {torch.get_num_threads()} threads; "
      f"bf16/fp32 at 512: {cpu_bf16_speedup():.2f}x; bf16 units: {cpu_bf16_units()}, so precision=auto picks {pick_precision('auto', 'cpu').replace('no', 'fp32')}")
res = {'fp32': [], 'bf16': []}
for r in range(args.rounds):
    for prec in (('fp32', 'bf16') if r % 2 == 0 else ('bf16', 'fp32')):
        cfg = load_profile(args.profile, {'precision': prec, 'max_steps': str(args.steps), 'eval_interval': str(args.steps),
                                          'ckpt_interval': str(10 * args.steps), 'eval_batches': '2', 'trackers': 'none'})
        seed_everything(cfg.seed)
        m = fit(GPT(config_from_run(cfg, tok.vocab_size)), StreamBatches(train, val, cfg), cfg, tmp/f'{prec}-{r}', progress=False)
        res[prec].append(m['tokens_per_s'])
        print(f"round {r + 1}, {prec}: {m['tokens_per_s']:,.0f} tokens/s, train loss {m['train_loss']:.3f}", flush=True)
fp32, bf16 = statistics.median(res['fp32']), statistics.median(res['bf16'])
print(f"median tokens/s: fp32 {fp32:,.0f}, bf16 {bf16:,.0f}; bf16 / fp32: {bf16 / fp32:.2f}x")
