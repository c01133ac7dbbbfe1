"The OpenAI-compatible server as a user runs it: `llm-course serve` in its own process, on a real port"
import json, os, signal, socket, subprocess, sys, threading, time
from contextlib import contextmanager

import httpx
import pytest
from openai import OpenAI
from conftest import launch_chromium, llm_course

KEY = 'sk-test-key'

def free_port() -> int:
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

@contextmanager
def server(model_dir, *extra, key=KEY):
    "Run `llm-course serve` until the block ends; yields (base URL, the process, a list that collects its stderr lines)"
    port = free_port()
    args = [sys.executable, '-m', 'llm_course.cli', 'serve', '--model', str(model_dir), '--port', str(port), *extra]
    if key: args += ['--api-key', key]
    proc = subprocess.Popen(args, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                            env={**os.environ, 'TOKENIZERS_PARALLELISM': 'false'})
    lines = []
    threading.Thread(target=lambda: lines.extend(iter(proc.stderr.readline, '')), daemon=True).start()
    url = f'http://127.0.0.1:{port}'
    try:
        for _ in range(600):
            if proc.poll() is not None: raise AssertionError(f"serve exited {proc.returncode}:\n{''.join(lines)[-3000:]}")
            try:
                if httpx.get(url + '/health', timeout=1).status_code == 200: break
            except httpx.TransportError: time.sleep(0.1)
        else: raise AssertionError(f"serve did not answer /health in 60 s:\n{''.join(lines)[-3000:]}")
        yield url, proc, lines
    finally:
        if proc.poll() is None: proc.send_signal(signal.SIGTERM)
        try: proc.wait(30)
        except subprocess.TimeoutExpired: proc.kill(); proc.wait()

@pytest.fixture(scope='module')
def chat_model(tmp_path_factory):
    "A tiny model with a context of 512 tokens: room for a chat prompt and a few turns (tiny's 64 tokens are not)"
    out = tmp_path_factory.mktemp('serve')/'run'
    llm_course('pipeline', '--profile', 'tiny', '--set', 'block_size=512', '--set', 'max_steps=10', '--out', out)
    return out/'model'

@pytest.fixture(scope='module')
def live(chat_model):
    with server(chat_model) as (url, proc, lines): yield url, lines

def test_openai_client(live):
    url, _ = live
    client = OpenAI(base_url=url + '/v1', api_key=KEY)
    [model] = client.models.list().data
    c = client.completions.create(model=model.id, prompt='The with statement', max_tokens=12, temperature=0)
    assert c.choices[0].finish_reason in ('length', 'stop') and c.usage.completion_tokens <= 12
    streamed = ''.join(ch.choices[0].text for ch in client.completions.create(model=model.id, prompt='The with statement', max_tokens=12,
                                                                              temperature=0, stream=True))
    assert streamed == c.choices[0].text
    msgs = [{'role': 'system', 'content': 'Answer.'}, {'role': 'user', 'content': 'Name a colour.'}]
    chat = client.chat.completions.create(model=model.id, messages=msgs, max_tokens=10, seed=1, temperature=0.7)
    parts = list(client.chat.completions.create(model=model.id, messages=msgs, max_tokens=10, seed=1, temperature=0.7, stream=True))
    assert ''.join(p.choices[0].delta.content or '' for p in parts if p.choices) == chat.choices[0].message.content
    assert parts[0].choices[0].delta.role == 'assistant' and parts[-1].choices[0].finish_reason in ('length', 'stop')

def test_errors_are_never_500(live):
    url, _ = live
    h = {'Authorization': f'Bearer {KEY}'}
    model = httpx.get(url + '/v1/models', headers=h).json()['data'][0]['id']
    assert httpx.get(url + '/v1/models').status_code == 401
    bad = [({'model': model, 'prompt': 'x', 'max_tokens': -1}, 422), ({'model': model, 'prompt': 'x', 'top_p': 0}, 422),
           ({'model': model, 'prompt': 'x', 'n': 100}, 422), ({'model': model, 'prompt': 'x', 'stop': ['a'] * 9}, 422),
           ({'model': model, 'prompt': ''}, 422), ({'model': model, 'prompt': 'word ' * 2000, 'max_tokens': 4}, 400),
           ({'model': model, 'prompt': 3}, 422), ({'prompt': 'x'}, 422), ({'model': 'other', 'prompt': 'x'}, 404), ([1, 2], 422)]
    for body, status in bad:
        r = httpx.post(url + '/v1/completions', json=body, headers=h)
        assert r.status_code == status, (body, r.status_code, r.text)
        assert r.json()['error']['message']
    r = httpx.post(url + '/v1/chat/completions', json={'model': model, 'messages': [{'role': 'robot', 'content': 'hi'}]}, headers=h)
    assert r.status_code == 422 and 'messages.0.role' in r.json()['error']['param']
    r = httpx.post(url + '/v1/completions', content=b'\xff\xfe not json', headers=h | {'Content-Type': 'application/json'})
    assert r.status_code == 400 and r.json()['error']['message']

def sse_stream(url, body, headers, first_only=False):
    "POST a streaming request; return its `data:` payloads (all, or only the first when `first_only`)"
    out = []
    with httpx.stream('POST', url, json=body, headers=headers, timeout=120) as r:
        assert r.status_code == 200, r.read()
        for line in r.iter_lines():
            if line.startswith('data: '):
                out.append(line[6:])
                if first_only: break
    return out

def test_sixteen_concurrent_streams(live):
    "With the default limits, 16 clients streaming at once are all served; tokens are the same as when alone"
    url, _ = live
    h = {'Authorization': f'Bearer {KEY}'}
    model = httpx.get(url + '/v1/models', headers=h).json()['data'][0]['id']
    body = lambda i: {'model': model, 'prompt': f'Item {i}:', 'max_tokens': 24, 'temperature': 0, 'stream': True}
    alone = [sse_stream(url + '/v1/completions', body(i), h) for i in range(2)]
    results = [None] * 16
    def client(i): results[i] = sse_stream(url + '/v1/completions', body(i % 2), h)
    threads = [threading.Thread(target=client, args=(i,)) for i in range(16)]
    for t in threads: t.start()
    for t in threads: t.join(120)
    for i, r in enumerate(results):
        assert r is not None and r[-1] == '[DONE]'
        text = lambda events: ''.join(json.loads(e)['choices'][0]['text'] for e in events[:-1])
        assert text(r) == text(alone[i % 2])

def test_disconnect_stops_generation(live):
    url, lines = live
    h = {'Authorization': f'Bearer {KEY}'}
    model = httpx.get(url + '/v1/models', headers=h).json()['data'][0]['id']
    before, seen = httpx.get(url + '/health').json()['cancelled'], len(lines)
    sse_stream(url + '/v1/completions', {'model': model, 'prompt': 'The', 'max_tokens': 500, 'temperature': 0, 'stream': True}, h,
               first_only=True)   # greedy: an end-of-text token cannot end it early
    # The engine counts the cancellation at its next step; the access log writes its line when the response's handler
    # returns, which may come a little later: wait for both (only this request's lines: the server is shared)
    logged = lambda: [json.loads(l) for l in lines[seen:] if l.startswith('{')]
    completion_logged = lambda: any(l['path'] == '/v1/completions' and l['status'] == 200 and l['completion_tokens'] > 0
                                    for l in logged())
    for _ in range(100):
        health = httpx.get(url + '/health').json()
        if health['cancelled'] > before and health['running'] == 0 and completion_logged(): break
        time.sleep(0.05)
    assert health['cancelled'] == before + 1 and health['running'] == 0
    assert completion_logged(), [l for l in logged() if l["path"] != "/health"]

def test_graceful_shutdown(chat_model):
    "SIGTERM while a reply streams: the reply finishes, then the server exits 0"
    with server(chat_model, key=None) as (url, proc, lines):
        model = httpx.get(url + '/v1/models').json()['data'][0]['id']
        got = []
        t = threading.Thread(target=lambda: got.extend(sse_stream(url + '/v1/completions', {'model': model, 'prompt': 'The',
                                                                                             'max_tokens': 500, 'temperature': 0,
                                                                                             'stream': True}, {})))
        t.start()
        for _ in range(100):
            if httpx.get(url + '/health').json()['running']: break
            time.sleep(0.02)
        proc.send_signal(signal.SIGTERM)
        t.join(60); proc.wait(60)
        assert got and got[-1] == '[DONE]' and proc.returncode == 0, (got[-2:], proc.returncode, ''.join(lines)[-2000:])

def test_cli_errors(chat_model, tmp_path):
    r = subprocess.run([sys.executable, '-m', 'llm_course.cli', 'serve', '--model', str(tmp_path)], capture_output=True, text=True)
    assert r.returncode == 2 and 'no config.json' in r.stderr
    r = subprocess.run([sys.executable, '-m', 'llm_course.cli', 'serve', '--model', str(chat_model), '--max-batch', '0'], capture_output=True, text=True)
    assert r.returncode == 2 and 'max_batch=0' in r.stderr
    with socket.socket() as busy:
        busy.bind(('127.0.0.1', 0)); busy.listen()
        r = subprocess.run([sys.executable, '-m', 'llm_course.cli', 'serve', '--model', str(chat_model), '--port', str(busy.getsockname()[1])],
                           capture_output=True, text=True)
    assert r.returncode == 2 and 'cannot listen there' in r.stderr, r.stderr

def test_chat_page_in_chromium(live):
    "The page at / loads the model list, takes the key, and streams a reply into the conversation"
    from playwright.sync_api import sync_playwright
    url, _ = live
    with sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(); errors = []
        page.on('pageerror', lambda e: errors.append(str(e)))
        page.goto(url + '/')
        page.wait_for_selector('#status:has-text("Enter the API key")')
        page.fill('#key', KEY); page.dispatch_event('#key', 'change')
        page.wait_for_selector('#status:has-text("Ready")')
        page.fill('#max', '12'); page.fill('#text', 'Name a colour.'); page.click('#send')
        page.wait_for_selector('#status:has-text("Done")', timeout=60_000)
        assert page.inner_text('.msg.user') == 'Name a colour.'
        assert len(page.query_selector_all('.msg.assistant')) == 1
        page.fill('#text', 'And another?'); page.click('#send')   # the second turn sends the whole conversation
        page.wait_for_selector('.msg.assistant >> nth=1', timeout=60_000)
        page.wait_for_selector('#status:has-text("Done")', timeout=60_000)
        browser.close()
    assert not errors, errors
