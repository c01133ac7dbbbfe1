"""Do a run's samples read like its corpus? Draws many samples from a run folder's model under several sampling settings
and measures each as `llm-course pipeline` does (chapter 06's `sample_words`): the share of its words that are words of
the training split, the share of its consecutive word pairs that occur there, and how much of it is whitespace.

    python bench/sample_bench.py --run RUN [--samples 90]

RUN is a finished `llm-course pipeline` run (default: chapter 00's `main_job()`, the main job run once and cached).
A sample passes when at least 95% of its words and 70% of its word pairs are known and under half of it is whitespace.
"""
import argparse, statistics, time
from pathlib import Path

import torch
from datasets import load_from_disk
from transformers import AutoModelForCausalLM

import llm_course  # noqa: F401  (registers the model with transformers' Auto classes)
from llm_course.core import load_profile, main_job
from llm_course.evaluation import sample_words, words_and_pairs
from llm_course.generation import generate
from llm_course.tokenization import hf_tokenizer

def passes(s:dict) -> bool: return s['known_words'] >= 0.95 and s['known_pairs'] >= 0.70 and s['whitespace'] < 0.5

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--run', type=Path, help='a finished pipeline run folder (default: main_job())')
    ap.add_argument('--samples', type=int, default=90, help='samples per setting')
    ap.add_argument('--tokens', type=int, default=200, help='tokens per sample')
    args = ap.parse_args()
    run = args.run or main_job()
    cfg = load_profile('cpu')
    model = AutoModelForCausalLM.from_pretrained(run/'model').eval()
    tok = hf_tokenizer(run/'tokenizer.json')
    ref = words_and_pairs(load_from_disk(str(run/'dataset'))['train']['text'])
    prompts = {'': [tok.eos_token_id], cfg.prompt: tok(cfg.prompt, add_special_tokens=False)['input_ids']}
    settings = {f'profile: T={cfg.temperature}, top-k {cfg.top_k}, top-p {cfg.top_p}':
                    dict(temperature=cfg.temperature, top_k=cfg.top_k, top_p=cfg.top_p),
                'T=0.8, top-k 50 (the earlier default)': dict(temperature=0.8, top_k=50),
                'T=1.0, no filter': dict(temperature=1.0),
                'greedy': dict(greedy=True)}
    print(f'{run}: {args.samples} samples of {args.tokens} tokens per row (seeds {cfg.seed} on)')
    print(f"{'prompt':10} {'sampling':48} {'known words':>18} {'known pairs':>18} {'passing':>8} {'s':>5}")
    for prompt, start in prompts.items():
        for name, kw in settings.items():
            t, stats = time.perf_counter(), []
            for i in range(1 if kw.get('greedy') else args.samples):
                ids = generate(model, torch.tensor([start]), args.tokens, generator=torch.Generator().manual_seed(cfg.seed + i), **kw)
                text = prompt + tok.decode(ids[0, len(start):].tolist(), skip_special_tokens=True)
                stats.append(sample_words(text, *ref))
            w, p = [s['known_words'] for s in stats], [s['known_pairs'] for s in stats]
            print(f"{prompt or '(none)':10} {name:48} {statistics.mean(w):6.1%} (min {min(w):5.1%}) {statistics.mean(p):6.1%} "
                  f"(min {min(p):5.1%}) {sum(map(passes, stats)) / len(stats):8.1%} {time.perf_counter() - t:5.0f}")

if __name__ == '__main__': main()
