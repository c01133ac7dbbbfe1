"""Tokenizer speed (needs `pip install -e ".[bench]"`), side by side in one process: BPE training against minbpe and HF `tokenizers`, encoding against
tiktoken and HF's fast GPT-2 tokenizer.

    python bench/tokenizer_bench.py --minbpe PATH_TO_MINBPE_CHECKOUT [--data FILE] [--vocabs 512,1024,4096]
                                    [--minbpe-vocabs 512,1024] [--gpt2 DIR]

PATH_TO_MINBPE_CHECKOUT is a checkout of karpathy/minbpe (the folder holding `minbpe/`), kept outside this repository.
--data defaults to $LLM_COURSE_DATA/tinyshakespeare.txt and --gpt2 to $LLM_COURSE_DATA/gpt2. minbpe recounts every pair
after each merge (about 0.4 s per merge on this text), so by default it runs only at the smaller vocabularies.
"""
import argparse, json, os, sys, time
from pathlib import Path

from llm_course.tokenization import BPETokenizer

ap = argparse.ArgumentParser()
ap.add_argument('--minbpe', required=True, type=Path)
ap.add_argument('--data', type=Path, default=Path(os.environ.get('LLM_COURSE_DATA', '.'))/'tinyshakespeare.txt')
ap.add_argument('--gpt2', type=Path, default=Path(os.environ.get('LLM_COURSE_DATA', '.'))/'gpt2')
ap.add_argument('--vocabs', default='512,1024,4096')
ap.add_argument('--minbpe-vocabs', default='512,1024')
args = ap.parse_args()
sys.path.insert(0, str(args.minbpe))
from minbpe import RegexTokenizer
from tokenizers import ByteLevelBPETokenizer

text = args.data.read_text(encoding='utf-8')
mb = len(text.encode()) / 1e6
def timed(f):
    t = time.perf_counter(); r = f(); return time.perf_counter() - t, r

print(f"training on {args.data.name} ({mb:.2f} MB)")
print(f"{'vocab':>6} {'ours s':>8} {'HF s':>8} {'minbpe s':>9} {'minbpe/ours':>12} {'ours/HF':>8}")
minbpe_vocabs = {int(v) for v in args.minbpe_vocabs.split(',') if v}
for v in map(int, args.vocabs.split(',')):
    ours, _ = timed(lambda: BPETokenizer().train(text, v))
    hf, _ = timed(lambda: ByteLevelBPETokenizer().train_from_iterator([text], vocab_size=v, min_frequency=1,
                                                                        show_progress=False, special_tokens=['<|endoftext|>']))
    mbpe = timed(lambda: RegexTokenizer().train(text, v))[0] if v in minbpe_vocabs else None
    print(f"{v:>6} {ours:>8.2f} {hf:>8.2f} {(f'{mbpe:.1f}' if mbpe else 'not run'):>9} "
          f"{(f'{mbpe / ours:.0f}x' if mbpe else '-'):>12} {ours / hf:>7.2f}x")

import tiktoken
from tiktoken.load import data_gym_to_mergeable_bpe_ranks
from tiktoken_ext.openai_public import r50k_pat_str
from transformers import GPT2TokenizerFast
g = args.gpt2
ours = BPETokenizer.from_gpt2_files(g/'encoder.json', g/'vocab.bpe')
tik = tiktoken.Encoding('gpt2', pat_str=r50k_pat_str, explicit_n_vocab=50257, special_tokens={'<|endoftext|>': 50256},
                        mergeable_ranks=data_gym_to_mergeable_bpe_ranks(str(g/'vocab.bpe'), str(g/'encoder.json')))
hf = GPT2TokenizerFast(vocab=json.loads((g/'encoder.json').read_text()),
                       merges=[tuple(l.split(' ')) for l in (g/'vocab.bpe').read_text().split('\n')[1:] if l])
lines = text.splitlines(keepends=True)
runs = {'tiktoken': lambda: tik.encode_ordinary(text),
        'HF fast, one string': lambda: hf._tokenizer.encode(text, add_special_tokens=False).ids,
        'HF fast, batch of lines': lambda: [i for e in hf._tokenizer.encode_batch(lines, add_special_tokens=False) for i in e.ids],
        'ours, cold cache': lambda: (ours.cache.clear(), ours.encode(text))[1],
        'ours, warm cache': lambda: ours.encode(text)}
print(f"\nencoding {args.data.name} with GPT-2's vocabulary (single thread where the library allows)")
speed, ref = {}, tik.encode_ordinary(text)
for name, f in runs.items():
    dt, ids = timed(f)
    speed[name] = mb / dt
    print(f"{name:>24}: {speed[name]:6.2f} MB/s, {len(ids):,} tokens, {'same ids as tiktoken' if ids == ref else 'ids differ from tiktoken (whitespace at line ends pre-tokenizes differently when lines are encoded apart)'}")
print(f"tiktoken / ours (cold): {speed['tiktoken'] / speed['ours, cold cache']:.1f}x")
