"""Fine-tuning, measured: SMS spam classification by the six methods of `--method` (head, last blocks, full, LoRA,
bottleneck adapters, soft prompt) from a model we pretrained on CPU, beside a TF-IDF + logistic-regression baseline
(scikit-learn) on the same stratified split: test accuracy, spam F1, trainable parameters, AdamW's state, time; then
instruction tuning, ROUGE-L/BLEU of held-out responses before and after. Times on a shared machine are rough: compare
them within one run.

    python bench/finetune_bench.py                    # pretrains the `cpu` profile first (about 80 s on 2 cores)
    python bench/finetune_bench.py --base runs/cpu-X  # or start from a finished `llm-course pipeline` run

Needs LLM_COURSE_DATA (sms_spam.tsv, instruction_data.json) or the Hugging Face Hub."""
import argparse, json, tempfile, time
from dataclasses import replace
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from llm_course.pipeline import pipeline
from llm_course.core import load_profile
from llm_course.evaluation import classification_metrics
from llm_course.finetuning import finetune_classify, finetune_instruct, load_labeled, stratified_split

ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
ap.add_argument('--base', type=Path, help='a finished pipeline run folder (default: run the cpu profile now)')
ap.add_argument('--epochs', type=int, default=2)
ap.add_argument('--json', type=Path, help='also write the results here')
ap.add_argument('--no-instruct', action='store_true', help='classification only')
args = ap.parse_args()

scratch = tempfile.TemporaryDirectory(); work = Path(scratch.name)   # removed at exit
cfg = load_profile('cpu', {'ft_epochs': str(args.epochs)})
base = args.base
if base is None:
    base = work/'base'
    m = pipeline(cfg, base, progress=False)
    print(f"base model: cpu profile, validation loss {m['val_loss']:.3f}, {m['wall_seconds']:.0f} s")
mdir = base/'model'

texts, labels = load_labeled('ucirvine/sms_spam')
classes = sorted(set(labels)); y = np.array([classes.index(l) for l in labels])
tr, va, te = stratified_split(labels, seed=cfg.seed)   # the split finetune_classify makes
print(f"SMS spam: {len(tr)} train / {len(va)} validation / {len(te)} test, {y.mean():.1%} spam; always-ham test accuracy {1 - y[te].mean():.4f}")

rows = []
t0 = time.perf_counter()
vec = TfidfVectorizer(sublinear_tf=True)
clf = LogisticRegression(C=10, max_iter=1000).fit(vec.fit_transform([texts[i] for i in tr]), y[tr])
met = classification_metrics(y[te].tolist(), clf.predict(vec.transform([texts[i] for i in te])).tolist())
rows.append({'method': 'TF-IDF + logistic regression (scikit-learn)', 'trainable': clf.coef_.size + clf.intercept_.size,
             'adam_bytes': 0, 'seconds': time.perf_counter() - t0, 'test_accuracy': met['accuracy'], 'spam_f1': met['per_class'][1]['f1'],
             'ham_f1': met['per_class'][0]['f1']})

modes = [('head only', dict(ft_method='head', ft_lr=3e-3)),
         ('last 2 blocks + head', dict(ft_method='last', ft_blocks=2, ft_lr=1e-3)),
         ('all weights', dict(ft_method='full', ft_lr=5e-4)),
         ('LoRA r=8 (all projections) + head', dict(ft_method='lora', lora_r=8, lora_alpha=16, ft_lr=3e-3)),
         ('adapters m=16 (after attention and MLP) + head', dict(ft_method='adapter', adapter_size=16, ft_lr=3e-3)),
         ('soft prompt k=10 + head', dict(ft_method='prompt', prompt_tokens=10, ft_lr=3e-2))]
for i, (name, settings) in enumerate(modes):   # each is `llm-course finetune --task classify` with these settings, on the same split
    run = replace(cfg, **settings)
    m = finetune_classify(mdir, 'ucirvine/sms_spam', run, work/f'ft{i}')
    rows.append({'method': f"{name}, lr {run.ft_lr:g}", 'trainable': m['trainable_params'],
                 'adam_bytes': m['adam_state_bytes'], 'seconds': m['train_seconds'],
                 'best_epoch': m['best_epoch'], 'test_accuracy': m['test_accuracy'], 'spam_f1': m['test_f1']['spam'],
                 'ham_f1': m['test_f1']['ham']})
    print(f"  {rows[-1]['method']}: test accuracy {m['test_accuracy']:.4f}, spam F1 {m['test_f1']['spam']:.3f}", flush=True)

print(f"\n| classification ({args.epochs} epochs, best by validation) | trainable params | AdamW state KiB | train s "
      "| train s / full's | test accuracy | spam F1 | ham F1 |")
print('|---|---:|---:|---:|---:|---:|---:|---:|')
full_s = next(r['seconds'] for r in rows if r['method'].startswith('all weights'))
for r in rows: print(f"| {r['method']} | {r['trainable']:,} | {r['adam_bytes'] / 1024:.1f} | {r['seconds']:.1f} | "
                     f"{r['seconds'] / full_s:.2f} | {r['test_accuracy']:.4f} | {r['spam_f1']:.3f} | {r['ham_f1']:.3f} |")
print("(reference: rasbt's LLMs-from-scratch ch06 reports 95.67% test accuracy with GPT-2 124M, last block + head)")

if args.no_instruct: raise SystemExit(0)
ins_cfg = replace(cfg, ft_epochs=3, ft_lr=1e-3)
ins = finetune_instruct(base, 'instruction_data.json', ins_cfg, work/'ins')
print(f"\n| instruction tuning ({ins['train']} records, {ins_cfg.ft_epochs} epochs, lr {ins_cfg.ft_lr:g}) | validation loss | ROUGE-L | BLEU |")
print('|---|---:|---:|---:|')
print(f"| before | {ins['validation_loss_before']:.3f} | {ins['rougeL_before']:.3f} | {ins['bleu_before']:.2f} |")
print(f"| after | {ins['validation_loss']:.3f} | {ins['rougeL']:.3f} | {ins['bleu']:.2f} |")
if args.json: args.json.write_text(json.dumps({'classification': rows, 'instruct': {k: v for k, v in ins.items() if k != 'history'}}, indent=2))
