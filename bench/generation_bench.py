"""Generation, measured: greedy tokens/s of our sampler with and without the KV cache beside transformers'
`model.generate`, and the model as float32, int8 (torch.ao dynamic quantization; torchao too when installed),
onnxruntime float32 and onnxruntime int8 (with and without the KV cache): size on disk (both ONNX graphs), tokens/s,
and perplexity on validation documents.

    python bench/generation_bench.py                    # trains the `cpu` profile first (about 80 s on 2 cores)
    python bench/generation_bench.py --run runs/cpu-X   # or a finished `llm-course pipeline` run
    python bench/generation_bench.py --gpt2             # speed only, on a randomly initialised GPT-2-small shape (124M)

Each configuration generates the same number of tokens from the same prompt, inside the context; the time is the
best of `--rounds`."""
import argparse, importlib.util, tempfile, time
from pathlib import Path

import torch
from datasets import load_from_disk
from transformers import AutoModelForCausalLM

from llm_course.pipeline import pipeline
from llm_course.core import load_profile
from llm_course.evaluation import perplexity
from llm_course.deployment import OnnxLM, decode_path, export_onnx, quantize_int8, save_int8
from llm_course.generation import generate
from llm_course.model import GPT, GPTConfig
from llm_course.tokenization import hf_tokenizer

ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
ap.add_argument('--run', type=Path, help='a finished pipeline run folder (default: run the cpu profile now)')
ap.add_argument('--gpt2', action='store_true', help='time a random GPT-2-small-shaped model instead (no perplexity)')
ap.add_argument('--new-tokens', type=int, default=96)
ap.add_argument('--docs', type=int, default=40, help='validation documents for perplexity')
ap.add_argument('--rounds', type=int, default=3)
args = ap.parse_args()
scratch = tempfile.TemporaryDirectory(); tmp = Path(scratch.name)   # removed at exit

if args.gpt2:
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=50257, n_layer=12, n_head=12, n_embd=768, block_size=1024)).eval()
    model.save_pretrained(tmp/'model'); mdir, docs, tok = tmp/'model', None, None
    prompt = torch.randint(0, 50257, (1, 16))
else:
    run = args.run
    if run is None:
        run = tmp/'run'; m = pipeline(load_profile('cpu'), run, progress=False)
        print(f"model: cpu profile, validation loss {m['val_loss']:.3f}, {m['wall_seconds']:.0f} s")
    mdir, tok = run/'model', hf_tokenizer(run/'tokenizer.json')
    model = AutoModelForCausalLM.from_pretrained(mdir).eval()
    docs = list(load_from_disk(run/'dataset')['validation']['text'][:args.docs])
    prompt = torch.tensor([tok(docs[0], add_special_tokens=False)['input_ids'][:16]])
n = min(args.new_tokens, model.config.block_size - prompt.shape[1])
print(f"{sum(p.numel() for p in model.parameters()) / 1e6:.1f}M parameters, {torch.get_num_threads()} threads, "
      f"prompt {prompt.shape[1]} tokens, {n} new tokens, greedy")

def tok_s(fn):
    fn(); best = min(_timed(fn) for _ in range(args.rounds)); return n / best
def _timed(fn):
    t = time.perf_counter(); fn(); return time.perf_counter() - t

rows, ppl = {}, {}
def row(name, lm, paths=(), use_cache=True, fn=None):
    fn = fn or (lambda: generate(lm, prompt, n, greedy=True, use_cache=use_cache))
    r = {'tokens/s': tok_s(fn), 'MB': sum(p.stat().st_size for p in paths) / 1e6 if paths else float('nan')}
    if id(lm) not in ppl:   # once per model; the entry keeps `lm` alive, so its id cannot pass to a later model
        ppl[id(lm)] = lm, perplexity(lm, docs, tok)['perplexity'] if docs else float('nan')
    r['ppl'] = ppl[id(lm)][1]
    rows[name] = r; print(f"{name:28s} {r['tokens/s']:9.1f} tok/s  {r['MB']:8.2f} MB" + (f"  perplexity {r['ppl']:.3f}" if docs else ''), flush=True)

fp32_file = mdir/'model.safetensors'
with torch.no_grad():
    row('transformers generate', model, [fp32_file],
        fn=lambda: model.generate(prompt, max_new_tokens=n, min_new_tokens=n, do_sample=False, pad_token_id=0))
    row('ours, KV cache', model, [fp32_file])
    row('ours, no cache', model, [fp32_file], use_cache=False)
    q = quantize_int8(model, 'torch.ao'); save_int8(q, tmp/'int8.safetensors')
    row('int8 torch.ao, KV cache', q, [tmp/'int8.safetensors'])
    if importlib.util.find_spec('torchao'):
        row('int8 torchao, KV cache', quantize_int8(model, 'torchao'))
    export_onnx(model, tmp/'model.onnx'); export_onnx(model, tmp/'model.int8.onnx', int8=True)
    for kind, f in (('fp32', tmp/'model.onnx'), ('int8', tmp/'model.int8.onnx')):
        ort_lm, files = OnnxLM(f, model.config), [f, decode_path(f)]   # the prefill and decode graphs, each with the weights
        row(f'onnxruntime {kind}, KV cache', ort_lm, files)
        row(f'onnxruntime {kind}, no cache', ort_lm, files, use_cache=False)

base = rows['transformers generate']['tokens/s']
print('\ntokens/s relative to transformers generate: ' + ', '.join(f"{k} {v['tokens/s'] / base:.2f}x" for k, v in rows.items()))
