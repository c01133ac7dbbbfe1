"""Why `precision=auto` trains in fp32 on a CPU: the same model and batches under fp32 and under bf16 autocast, in one process.

    python bench/cpu_precision.py [--profile cpu] [--steps 100]

Prints the measured matmul rate of each dtype, training tokens/s under each precision, and their ratio.
"""
import argparse, tempfile
from pathlib import Path

import torch
from llm_course.core import load_profile, matmul_flops, seed_everything
from llm_course.data import load_corpus, prepare_corpus
from llm_course.model import GPT, config_from_run
from llm_course.tokenization import BPETokenizer, TokenStream, pack_tokens
from llm_course.training import fit

ap = argparse.ArgumentParser()
ap.add_argument('--profile', default='cpu'); ap.add_argument('--steps', type=int, default=100)
args = ap.parse_args()

tmp = Path(tempfile.mkdtemp())
base = load_profile(args.profile)
dsd = prepare_corpus(load_corpus(base.data, base.doc_chars), base.val_frac, base.split, base.max_docs)
tok = BPETokenizer().train(dsd['train']['text'], base.vocab_size)
hf = tok.to_hf(tmp/'tokenizer.json')
for s in ('train', 'validation'): pack_tokens(dsd[s]['text'], hf, tmp/f'{s}.bin', [tok.special_tokens['<|endoftext|>']])
train, val = (TokenStream(tmp/f'{s}.bin', tok.vocab_size, base.block_size) for s in ('train', 'validation'))

print(f"matmul 1024x1024: fp32 {matmul_flops(torch.float32, 'cpu', 1024)/1e9:.0f} GFLOP/s, "
      f"bf16 {matmul_flops(torch.bfloat16, 'cpu', 1024)/1e9:.0f} GFLOP/s; {torch.get_num_threads()} threads")
res = {}
for prec in ('fp32', 'bf16'):
    cfg = load_profile(args.profile, {'precision': prec, 'max_steps': str(args.steps), 'eval_interval': str(args.steps),
                                      'ckpt_interval': str(10 * args.steps), 'eval_batches': '2'})
    seed_everything(cfg.seed)
    m = fit(GPT(config_from_run(cfg, tok.vocab_size)), train, val, cfg, tmp/prec, progress=False)
    res[prec] = m['tokens_per_s']
    print(f"{prec}: {m['tokens_per_s']:,.0f} tokens/s, train loss {m['train_loss']:.3f}")
print(f"fp32 / bf16 tokens/s: {res['fp32'] / res['bf16']:.2f}x")
