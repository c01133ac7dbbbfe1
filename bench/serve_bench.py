"""The server under load: `llm-course serve` in its own process on loopback, 1, 4 and 16 concurrent clients each
sending streaming completions one after another; time to first token and total latency (p50/p99), generated tokens per
second over the whole level, and errors. Runs with continuous batching (the default `--max-batch 16`) and with `--max-batch 1`
(one request at a time through the model), taking turns for `--rounds` rounds, and keeps each one's best round, so the
ratio is what batching buys (one client is the control: both should match there).

    python bench/serve_bench.py --model runs/cpu-X/model        # a model folder from `llm-course pipeline`
    python bench/serve_bench.py                                 # trains the `cpu` profile first (about 80 s)

Bounded: each client sends --requests requests of --max-tokens tokens (greedy, so every configuration does the same
work); nothing leaves 127.0.0.1."""
import argparse, asyncio, json, signal, socket, statistics, subprocess, sys, tempfile, time
from pathlib import Path

import httpx

ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
ap.add_argument('--model', type=Path, help='model folder (default: train the cpu profile now)')
ap.add_argument('--levels', default='1,4,16', help='concurrent clients, comma-separated')
ap.add_argument('--requests', type=int, default=4, help='requests per client')
ap.add_argument('--max-tokens', type=int, default=48)
ap.add_argument('--rounds', type=int, default=2, help='rounds; the two servers take turns, in swapped order each round')
args = ap.parse_args()

model = args.model
if model is None:
    from llm_course.pipeline import pipeline
    from llm_course.core import load_profile
    scratch = tempfile.TemporaryDirectory(); run = Path(scratch.name)/'run'; pipeline(load_profile('cpu'), run, progress=False); model = run/'model'

def start(max_batch):
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, '-m', 'llm_course.cli', 'serve', '--model', str(model), '--port', str(port),
                             '--max-batch', str(max_batch), '--max-queue', '256'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f'http://127.0.0.1:{port}'
    for _ in range(600):
        try:
            if httpx.get(url + '/health', timeout=1).status_code == 200: return proc, url
        except httpx.TransportError: time.sleep(0.1)
    raise SystemExit('the server did not start')

async def one(client, url, name, i):
    body = {'model': name, 'prompt': f'Item {i}. The', 'max_tokens': args.max_tokens, 'temperature': 0, 'stream': True,
            'stream_options': {'include_usage': True}}
    t0 = time.perf_counter(); first = None; tokens = 0
    async with client.stream('POST', url + '/v1/completions', json=body) as r:
        if r.status_code != 200: await r.aread(); return None
        async for line in r.aiter_lines():
            if not line.startswith('data: ') or line == 'data: [DONE]': continue
            msg = json.loads(line[6:])
            if 'error' in msg: return None
            if msg.get('usage'): tokens = msg['usage']['completion_tokens']
            elif first is None and msg['choices'][0]['text']: first = time.perf_counter() - t0
    return first, time.perf_counter() - t0, tokens

async def level(url, name, n):
    async with httpx.AsyncClient(timeout=300, limits=httpx.Limits(max_connections=n + 4)) as client:
        async def worker(w): return [await one(client, url, name, w * args.requests + k) for k in range(args.requests)]
        t0 = time.perf_counter(); res = [r for rs in await asyncio.gather(*(worker(w) for w in range(n))) for r in rs]
        wall = time.perf_counter() - t0
    ok = [r for r in res if r]
    q = lambda xs, p: statistics.quantiles(xs, n=100, method='inclusive')[p - 1] if len(xs) > 1 else xs[0]
    ttft, lat = [r[0] for r in ok if r[0] is not None], [r[1] for r in ok]
    return {'clients': n, 'requests': len(res), 'errors': len(res) - len(ok), 'tokens/s': sum(r[2] for r in ok) / wall,
            'ttft p50': q(ttft, 50), 'ttft p99': q(ttft, 99), 'latency p50': q(lat, 50), 'latency p99': q(lat, 99)}

results = {}
def show(max_batch, r, pre=''):
    print(f"{pre}max_batch={max_batch:2d} clients={r['clients']:2d}: {r['tokens/s']:7.1f} tok/s  TTFT p50 {r['ttft p50'] * 1000:6.0f} ms "
          f"p99 {r['ttft p99'] * 1000:6.0f} ms  latency p50 {r['latency p50']:.2f} s p99 {r['latency p99']:.2f} s  "
          f"errors {r['errors']}/{r['requests']}", flush=True)
for rnd in range(args.rounds):   # the two servers take turns, the order swapped each round: the machine drifts
    for max_batch in ((16, 1) if rnd % 2 == 0 else (1, 16)):
        proc, url = start(max_batch)
        try:
            name = httpx.get(url + '/v1/models').json()['data'][0]['id']
            asyncio.run(level(url, name, 1))   # warm-up
            for n in map(int, args.levels.split(',')):
                r = asyncio.run(level(url, name, n)); show(max_batch, r, f'round {rnd + 1}: ')
                if r['tokens/s'] > results.get((max_batch, n), {'tokens/s': 0})['tokens/s']: results[max_batch, n] = r
        finally:
            proc.send_signal(signal.SIGTERM); proc.wait(60)
print(f'\nthe best of {args.rounds} rounds for each:')
for (max_batch, n), r in sorted(results.items(), reverse=True): show(max_batch, r)
print('\ncontinuous batching (max_batch=16) over one at a time (max_batch=1), tokens/s: ' +
      ', '.join(f"{n} clients {results[16, n]['tokens/s'] / results[1, n]['tokens/s']:.2f}x" for n in map(int, args.levels.split(','))))
