"""Near-duplicate detection and data preparation, measured. In one process run:

1. quality on a planted set: real documents (Tiny Shakespeare, cut into 1,000-character documents) plus near-copies made
   by editing 1-10% of their words; precision and recall at Jaccard 0.8 for our MinHash+LSH and datasketch's
   MinHash+MinHashLSH with the same 128 permutations (with our bands/rows, and with datasketch's own choice);
2. throughput of signatures + LSH candidates, documents/s, ours against datasketch (same shingles, num_perm, bands);
3. `llm-course prepare` (a fresh process each) on the Shakespeare file and on a generated corpus of >= 100 MB:
   documents/s and peak memory.

    python bench/dedup_bench.py [--mb 100]

Needs LLM_COURSE_DATA (tinyshakespeare.txt) or the Hub, and `pip install datasketch`."""
import argparse, json, os, re, statistics, subprocess, sys, tempfile, time
from pathlib import Path

import numpy as np
from datasketch import MinHash, MinHashLSH

from llm_course.data import (MinHasher, _jaccard, load_corpus, lsh_candidates, lsh_params, plant_near_copies,
                             shingle_hashes)

ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
ap.add_argument('--mb', type=int, default=100, help='size of the generated corpus for the prepare run')
ap.add_argument('--copies', type=int, default=600)
args = ap.parse_args()

docs = list(load_corpus('karpathy/tiny_shakespeare', doc_chars=1000)['text'])
planted, pairs = plant_near_copies(docs, args.copies, seed=0)
print(f"planted set: {len(docs)} Shakespeare documents + {len(pairs)} near-copies (1-10% of words edited)")

_W = re.compile(r'\w+')
def word_shingles(t, n=5):
    w = _W.findall(t.lower()); return {' '.join(w[i:i + n]).encode() for i in range(max(1, len(w) - n + 1))}

def datasketch_candidates(texts, params):
    lsh, ms = MinHashLSH(num_perm=128, params=params), []
    for i, t in enumerate(texts):
        m = MinHash(num_perm=128); m.update_batch(list(word_shingles(t))); ms.append(m); lsh.insert(i, m)
    return {(min(i, j), max(i, j)) for i in range(len(texts)) for j in lsh.query(ms[i]) if i != j}

def ours_candidates(texts, bands, rows):
    return lsh_candidates(MinHasher(128).signatures([shingle_hashes(t) for t in texts]), bands, rows)

# 1. quality
sh = [shingle_hashes(t) for t in planted]
J = lambda p: _jaccard(sh[p[0]], sh[p[1]])
bands, rows = lsh_params(0.8)
ds_default = lsh_params(0.8, 128, 0.5, 0.5)
found = {'ours': ours_candidates(planted, bands, rows), f'datasketch, same bands ({bands}x{rows})': datasketch_candidates(planted, (bands, rows)),
         f'datasketch, its own choice ({ds_default[0]}x{ds_default[1]})': datasketch_candidates(planted, ds_default)}
truth = {p for p in pairs if J(p) >= 0.8} | {p for f in found.values() for p in f if J(p) >= 0.8}
print(f"pairs at Jaccard >= 0.8: {len(truth)} ({sum(J(p) >= 0.8 for p in pairs)} of the planted pairs; the others were edited below 0.8)")
print('\n| method (128 permutations, threshold 0.8) | candidates | precision (LSH only) | recall | precision after the Jaccard check |')
print('|---|---:|---:|---:|---:|')
quality = {}
for name, cand in found.items():
    tp = len(cand & truth)
    quality[name] = {'candidates': len(cand), 'precision_lsh': tp / max(1, len(cand)), 'recall': tp / len(truth)}
    print(f"| {name} | {len(cand)} | {tp / max(1, len(cand)):.3f} | {tp / len(truth):.3f} | 1.000 |")

# 2. throughput: shingling + signatures + LSH candidates, interleaved, median of 3
many = list(load_corpus('karpathy/tiny_shakespeare', doc_chars=500)['text']) + list(load_corpus('embedded', doc_chars=500)['text'])
runs = {'ours': [], 'datasketch': []}
for _ in range(3):
    t0 = time.perf_counter(); ours_candidates(many, bands, rows); runs['ours'].append(time.perf_counter() - t0)
    t0 = time.perf_counter(); datasketch_candidates(many, (bands, rows)); runs['datasketch'].append(time.perf_counter() - t0)
med = {k: statistics.median(v) for k, v in runs.items()}
print(f"\nthroughput on {len(many):,} documents (shingles, 128-permutation signatures, {bands}x{rows} LSH, candidate pairs): "
      f"ours {len(many) / med['ours']:,.0f} docs/s, datasketch {len(many) / med['datasketch']:,.0f} docs/s: "
      f"ours/datasketch {med['datasketch'] / med['ours']:.1f}x")

# 3. prepare, each in a fresh process so that its peak memory is its own
def prepare(data, out, extra=()):
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, '-c', 'import resource, sys; from llm_course.cli import main\n'
                        'try: main(sys.argv[1:])\nfinally: print("PEAK_KB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)',
                        'prepare', '--data', str(data), '--out', str(out), *extra], capture_output=True, text=True,
                       env={**os.environ, 'HF_DATASETS_DISABLE_PROGRESS_BARS': '1'})
    wall = time.perf_counter() - t0
    if r.returncode: sys.exit(r.stderr[-2000:])
    peak = int(re.findall(r'PEAK_KB (\d+)', r.stderr)[-1]) / 1024
    rep = json.loads((Path(out)/'report.json').read_text())
    return wall, peak, rep

scratch = tempfile.TemporaryDirectory(); tmp = Path(scratch.name)   # removed at exit
gen = tmp/'generated'; gen.mkdir()
rng, words = np.random.default_rng(0), ' '.join(docs).split()
paras = [' '.join(words[i:i + 80]) for i in range(0, len(words) - 80, 80)]
size, k = 0, 0
while size < args.mb * 2**20:   # files of ~1 MB: paragraphs with ~5% of words replaced at random, some repeated exactly
    out = []
    for _ in range(2000):
        w = paras[rng.integers(len(paras))].split()
        for j in rng.choice(len(w), 4, replace=False): w[j] = words[rng.integers(len(words))]
        out.append(' '.join(w))
    out += out[:40]
    text = '\n\n'.join(out) + '\n'; (gen/f'part-{k:04d}.txt').write_text(text); size += len(text.encode()); k += 1
print("\n| prepare (default settings: NFC, PII masking, exact + near dedup at 0.8; num_proc auto) | documents in | out | wall s | documents/s | MB/s | peak memory MiB |")
print('|---|---:|---:|---:|---:|---:|---:|')
rows_out = {}
for name, data in (('Tiny Shakespeare (1.1 MB)', 'karpathy/tiny_shakespeare'), (f'generated corpus ({size / 2**20:.0f} MB, {k} files)', gen)):
    wall, peak, rep = prepare(data, tmp/f'out-{len(rows_out)}')
    mb = (rep['train_characters'] + rep['validation_characters']) / 2**20
    rows_out[name] = {'wall': wall, 'peak_mib': peak, 'documents_in': rep['documents_in'], 'documents_out': rep['documents_out'], 'removed': rep['removed']}
    print(f"| {name} | {rep['documents_in']:,} | {rep['documents_out']:,} | {wall:.1f} | {rep['documents_in'] / wall:,.0f} | "
          f"{(size / 2**20 if 'generated' in name else 1.06) / wall:.2f} | {peak:,.0f} |")
    print(f"|  removed: {', '.join(f'{a} {b:,}' for a, b in rep['removed'].items())} |||||||")
