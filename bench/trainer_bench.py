"""Our training loop against Hugging Face `transformers.Trainer` on the same model, data and settings, in one process.

    python bench/trainer_bench.py [--steps 150] [--profile cpu] [--rounds 2]

Both train a fresh `GPT` of the profile (same seed) on the profile's corpus, tokenized once: batch 16 x 128 tokens,
AdamW (lr 2e-3, betas 0.9/0.99, weight decay 0.1), warmup then cosine decay, gradient clipping at 1.0, fp32 on the CPU.
`Trainer` reads consecutive 128-token blocks through its DataLoader; ours samples random windows from the memory-mapped
stream. The figure is the median time per optimizer step, batch loading included (evaluation, start-up and saving
excluded on both sides), taken over rounds that alternate the two, as tokens/s."""
import argparse, statistics, tempfile, time
from pathlib import Path

import numpy as np
import torch
from datasets import Dataset
from transformers import Trainer, TrainerCallback, TrainingArguments

from llm_course.pipeline import stage_prepare, stage_tokenize
from llm_course.core import load_profile, seed_everything
from llm_course.model import GPT, config_from_run
from llm_course.tokenization import TokenStream
from llm_course.training import StreamBatches, fit, read_log

ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
ap.add_argument('--steps', type=int, default=150)
ap.add_argument('--profile', default='cpu')
ap.add_argument('--rounds', type=int, default=2)
args = ap.parse_args()

scratch = tempfile.TemporaryDirectory(); work = Path(scratch.name)   # removed at exit
cfg = load_profile(args.profile, {'max_steps': str(args.steps), 'eval_interval': str(10 * args.steps), 'eval_batches': '1',
                                  'ckpt_interval': str(10 * args.steps), 'trackers': 'none', 'device': 'cpu', 'precision': 'fp32'})
stage_prepare(cfg, work); info = stage_tokenize(cfg, work)
train = TokenStream(work/'train.bin', info['vocab_size'], cfg.block_size)
val = TokenStream(work/'validation.bin', info['vocab_size'], cfg.block_size)
T = cfg.block_size
blocks = Dataset.from_dict({'input_ids': [train.data[i:i + T].astype(np.int64) for i in range(0, len(train.data) - T, T)]})
tokens_per_step = cfg.batch_size * T

class StepTimes(TrainerCallback):
    "Wall time from one optimizer step's end to the next: the step with its batch loading, as our loop's timer counts it"
    def __init__(self): self.times, self.t = [], None
    def on_step_end(self, args, state, control, **kw):
        now = time.perf_counter()
        if self.t is not None: self.times.append(now - self.t)
        self.t = now

def run_trainer() -> list[float]:
    seed_everything(cfg.seed); model = GPT(config_from_run(cfg, info['vocab_size']))
    targs = TrainingArguments(output_dir=str(work/'hf'), per_device_train_batch_size=cfg.batch_size, max_steps=args.steps,
                              learning_rate=cfg.lr, weight_decay=cfg.weight_decay, adam_beta1=cfg.beta1, adam_beta2=cfg.beta2,
                              warmup_steps=cfg.warmup_steps, lr_scheduler_type='cosine', max_grad_norm=cfg.grad_clip,
                              logging_steps=args.steps, save_strategy='no', eval_strategy='no', report_to='none', use_cpu=True,
                              dataloader_num_workers=0, disable_tqdm=True, seed=cfg.seed)
    cb = StepTimes()
    collate = lambda rows: {'input_ids': (x := torch.tensor(np.stack([r['input_ids'] for r in rows]))), 'labels': x}
    Trainer(model=model, args=targs, train_dataset=blocks.with_format('numpy'), data_collator=collate, callbacks=[cb]).train()
    return cb.times[5:]

def run_ours() -> list[float]:
    seed_everything(cfg.seed); model = GPT(config_from_run(cfg, info['vocab_size']))
    out = work/f'ours-{time.monotonic_ns()}'
    fit(model, StreamBatches(train, val, cfg), cfg, out, progress=False)
    return [tokens_per_step / r['tokens_per_s'] for r in read_log(out/'log.csv')][5:]

times = {'Trainer': [], 'ours': []}
for _ in range(args.rounds):
    times['Trainer'] += run_trainer(); times['ours'] += run_ours()
med = {k: statistics.median(v) for k, v in times.items()}
print(f"{args.profile} profile, {args.steps} steps x {args.rounds} rounds, batch {cfg.batch_size} x {T} tokens:")
for k, m in med.items(): print(f"  {k:>8}: {m * 1e3:6.1f} ms/step, {tokens_per_step / m:9,.0f} tokens/s")
print(f"ours / Trainer tokens/s: {med['Trainer'] / med['ours']:.2f}x")
