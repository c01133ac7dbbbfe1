"""Data preparation on datatrove (chapter 01b), measured. In one process, on one generated corpus (JSON Lines files of
~0.7 MB: web-page-like documents of sentences of Tiny Shakespeare's words, plus exact repeats and near-copies), the
wall time, documents/s and MB/s of:

1. our `prepare` (chapter 01: `load_corpus` + `prepare_corpus` + `save_prepared`), with 1 and 2 processes;
2. datatrove's own equivalent steps: `GopherQualityFilter`, `GopherRepetitionFilter`, `C4QualityFilter`,
   `FineWebQualityFilter` and its four MinHash stages (16 buckets of 8 hashes, 5-grams, as our 16 bands of 8 rows),
   with our word tokenizer (its English one is spaCy's, not a dependency here), with 1 task and with 2 tasks on 2 workers;
3. ours on datatrove (`prepare_datatrove`, local executor) with 1 worker and with 2 workers,

and checks that 3 wrote the same dataset as 1. Ours runs cleaning and PII masking too; datatrove's own does neither.
Every timing is taken in this one run, so compare ratios: the absolute figures depend on the machine and its load.

    python bench/prepare_scale_bench.py [--mb 100]

Needs LLM_COURSE_DATA (tinyshakespeare.txt) or the Hub, and `pip install 'llm-course[scale]'`."""
import argparse, json, os, shutil, tempfile, time
from pathlib import Path

import numpy as np
from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.dedup import MinhashDedupBuckets, MinhashDedupCluster, MinhashDedupFilter, MinhashDedupSignature
from datatrove.pipeline.dedup.minhash import MinhashConfig
from datatrove.pipeline.filters import C4QualityFilter, FineWebQualityFilter, GopherQualityFilter, GopherRepetitionFilter
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter
from datatrove.utils.hashing import HashConfig

from llm_course.core import load_profile, quiet_progress_bars
from llm_course.data import load_corpus
from llm_course.pipeline import stage_prepare
from llm_course.data_at_scale import CourseWordTokenizer, _quiet, prepare_datatrove

def corpus(folder: Path, mb: int) -> tuple[int, int]:
    """Write the generated corpus (its files, bytes): web-page-like documents that mostly pass the quality rules, made of
    sentences of Tiny Shakespeare's words, two to a line; in each file 2% exact repeats and 2% near-copies"""
    import re
    words = re.findall(r"[a-z]+", ' '.join(load_corpus('karpathy/tiny_shakespeare', doc_chars=1000)['text']).lower())
    rng = np.random.default_rng(0)
    def sentence():
        i, n = rng.integers(len(words) - 20), rng.integers(8, 16)
        return ' '.join(words[i:i + n]).capitalize() + '.'
    def document():
        s = [sentence() for _ in range(rng.integers(6, 14))]
        return '\n'.join(' '.join(s[i:i + 2]) for i in range(0, len(s), 2))
    size, k = 0, 0
    while size < mb * 2**20:
        out = [document() for _ in range(1000)]
        out += out[:20]                                                           # exact repeats
        out += [t.replace(' the ', ' a ', 1).replace(' and ', ' or ', 1) for t in out[20:40]]   # near-copies
        text = ''.join(json.dumps({'text': t}) + '\n' for t in out)
        (folder/f'part-{k:04d}.jsonl').write_text(text)
        size += len(text.encode())
        k += 1
    return k, size

def datatrove_own(data: Path, work: Path, tasks: int, workers: int) -> dict:
    """datatrove's filters, then its four MinHash stages; the documents read and kept. Its default shingle hash, xxhash,
    fails with xxhash 4 ('Strings must be encoded before hashing': datatrove 0.10.1 passes `str`), so SHA-1 (64 bits)"""
    tok, mh = CourseWordTokenizer(), MinhashConfig(n_grams=5, num_buckets=16, hashes_per_bucket=8,
                                               hash_config=HashConfig(hash_fc='sha1'))   # see the docstring
    run = lambda pipeline, n, name: LocalPipelineExecutor(pipeline, tasks=n, workers=min(workers, n), start_method='fork',
                                                          logging_dir=str(work/'logs'/name)).run()
    stats = run([JsonlReader(str(data)), GopherQualityFilter(language=tok), GopherRepetitionFilter(language=tok),
                 C4QualityFilter(language=tok), FineWebQualityFilter(language=tok),
                 JsonlWriter(str(work/'filtered'), compression=None),
                 MinhashDedupSignature(str(work/'sigs'), config=mh, language=tok)], tasks, 'signatures')
    run([MinhashDedupBuckets(str(work/'sigs'), str(work/'buckets'), config=mh)], mh.num_buckets, 'buckets')
    run([MinhashDedupCluster(str(work/'buckets'), str(work/'remove'), config=mh)], 1, 'clusters')
    run([JsonlReader(str(work/'filtered')), MinhashDedupFilter(str(work/'remove')),
         JsonlWriter(str(work/'out'), compression=None)], tasks, 'filter')
    kept = sum(1 for f in (work/'out').glob('*.jsonl') for _ in open(f))
    return {'documents_in': sum(1 for f in data.glob('*.jsonl') for _ in open(f)), 'documents_out': kept}

def timed(fn):
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--mb', type=int, default=20, help='size of the generated corpus in MB (the issue asks for 100)')
    args = ap.parse_args()
    quiet_progress_bars()
    scratch = tempfile.TemporaryDirectory()
    tmp = Path(scratch.name)
    data = tmp/'corpus'
    data.mkdir()
    n_files, size = corpus(data, args.mb)
    mb = size / 2**20
    settings = {'data': str(data), 'filters': 'all', 'pii': True, 'dedup_threshold': 0.8, 'max_docs': 0}
    print(f"corpus: {n_files} JSON Lines files, {mb:.1f} MB; {os.cpu_count()} cores (shared with other jobs: "
          "figures taken under load)")
    print(f"settings: filters=all (Gopher quality and repetition, C4, FineWeb), PII masking, exact + MinHash dedup at "
          f"0.8 (16 bands x 8 rows)\n")
    rows = {}
    for procs in (1, 2):
        cfg = load_profile('cpu', {**settings, 'num_proc': procs})
        wall, (_, rep) = timed(lambda: stage_prepare(cfg, tmp/f'native-{procs}'))
        rows[f'ours, `prepare` (num_proc={procs})'] = (wall, rep['documents_in'], rep['documents_out'], procs)
    for tasks in (1, 2):
        work = tmp/f'theirs-{tasks}'
        with _quiet(tmp/'theirs.log'): wall, rep = timed(lambda: datatrove_own(data, work, tasks, tasks))
        rows[f"datatrove's own filters + MinHash ({tasks} task(s), {tasks} worker(s))"] = (
            wall, rep['documents_in'], rep['documents_out'], tasks)
    same = {}
    for workers in (1, 2):
        cfg = load_profile('cpu', settings)
        wall, rep = timed(lambda: prepare_datatrove(cfg, tmp/f'scaled-{workers}', 'local', workers=workers))
        rows[f'ours on datatrove (local, {workers} worker(s))'] = (wall, rep['documents_in'], rep['documents_out'], workers)
        a, b = (json.loads((tmp/f'{x}'/'report.json').read_text()) for x in ('native-1', f'scaled-{workers}'))
        same[workers] = all(a[k] == b[k] for k in a if k not in ('num_proc',))
    print('| run | wall s | documents in | out | documents/s | MB/s | MB/s per core |')
    print('|---|---:|---:|---:|---:|---:|---:|')
    for name, (wall, n_in, n_out, cores) in rows.items():
        print(f'| {name} | {wall:.1f} | {n_in:,} | {n_out:,} | {n_in / wall:,.0f} | {mb / wall:.2f} | {mb / wall / cores:.2f} |')
    w = {k: v[0] for k, v in rows.items()}
    keys = list(w)
    print(f"\nratios (time of one over time of the other, same run):")
    print(f"- ours `prepare` vs datatrove's own, 1 core each: {w[keys[2]] / w[keys[0]]:.2f}x as fast")
    print(f"- ours on datatrove vs datatrove's own, 1 worker each: {w[keys[2]] / w[keys[4]]:.2f}x as fast")
    print(f"- ours on datatrove vs ours `prepare`, 1 core each: {w[keys[0]] / w[keys[4]]:.2f}x as fast")
    print(f"- ours on datatrove, 2 workers vs 1: {w[keys[4]] / w[keys[5]]:.2f}x; datatrove's own, 2 vs 1: "
          f"{w[keys[2]] / w[keys[3]]:.2f}x; `prepare`, 2 processes vs 1: {w[keys[0]] / w[keys[1]]:.2f}x")
    print(f"- ours on datatrove wrote the same dataset and report as `prepare`: 1 worker {same[1]}, 2 workers {same[2]}")
    print("(datatrove's own keeps other documents: no cleaning or PII masking, its own rule details, no Jaccard check)")

if __name__ == '__main__':
    main()
