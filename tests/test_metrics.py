"`GET /metrics` of a live `llm-course serve`, its alert rules under promtool, and Debian's Prometheus firing one of them"
import json, os, shutil, subprocess, time

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from test_serving import KEY, chat_model, free_port, server
from llm_course.api import ALERT_RULES

def scrape(url) -> dict:
    "Every sample of the server's /metrics: {(name, labels as sorted tuples): value}"
    text = httpx.get(url + '/metrics').text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}

def requests(figures, route, status) -> float:
    return figures.get(('llm_course_requests_total', (('route', route), ('status', str(status)))), 0)

def tool(name) -> str:
    "The path of Prometheus' `name` binary; skips the test where it is missing, except under CI (.ci/run installs it)"
    path = shutil.which(name)
    if path is None:
        if os.environ.get('CI'): raise AssertionError(f'{name} is not installed: .ci/run installs Debian\'s prometheus')
        pytest.skip(f"no {name} here: apt-get install prometheus")
    return path

@pytest.fixture(scope='module')
def model_dir(chat_model): return chat_model   # a context of 512 tokens: room for long replies

def test_metrics_agree_with_the_traffic(model_dir):
    with server(model_dir, '--max-batch', '2') as (url, proc, lines):
        h = {'Authorization': f'Bearer {KEY}'}
        name = httpx.get(url + '/v1/models', headers=h).json()['data'][0]['id']
        ask = lambda n, **kw: httpx.post(url + '/v1/completions', headers=h, timeout=60,
                                         json={'model': name, 'prompt': 'The', 'max_tokens': n, 'seed': n, **kw})
        usages = [ask(n).json()['usage'] for n in (3, 8, 20, 1)]
        with httpx.stream('POST', url + '/v1/completions', headers=h, json={'model': name, 'prompt': 'A', 'max_tokens': 6,
                          'stream': True, 'stream_options': {'include_usage': True}}) as r:
            events = [line for line in r.iter_lines() if line.startswith('data: {')]
        usages.append(json.loads(events[-1][6:])['usage'])
        chat = httpx.post(url + '/v1/chat/completions', headers=h,
                          json={'model': name, 'messages': [{'role': 'user', 'content': 'Hi'}], 'max_tokens': 4})
        usages.append(chat.json()['usage'])
        statuses = [httpx.post(url + '/v1/completions', json={'model': name, 'prompt': 'x'}).status_code,   # no key
                    ask(4, model='gpt-9').status_code, ask(4, temperature=9).status_code,
                    httpx.get(url + '/no/such/path').status_code]
        assert statuses == [401, 404, 422, 404]
        figures = scrape(url)
        assert requests(figures, '/v1/completions', 200) == 5
        assert requests(figures, '/v1/chat/completions', 200) == 1
        assert [requests(figures, '/v1/completions', s) for s in (401, 404, 422)] == [1, 1, 1]
        assert requests(figures, 'other', 404) == 1   # unknown paths share one label
        assert figures[('llm_course_request_duration_seconds_count', (('route', '/v1/completions'),))] == 5 + 3
        assert figures[('llm_course_time_to_first_token_seconds_count', ())] == 6
        assert figures[('llm_course_completion_tokens_total', ())] == sum(u['completion_tokens'] for u in usages)
        assert figures[('llm_course_prompt_tokens_total', ())] == sum(u['prompt_tokens'] for u in usages)
        assert [figures[(f'llm_course_jobs_{k}', ())] for k in ('running', 'waiting')] == [0, 0]
        assert figures[('llm_course_queue_capacity', ())] == 64
        # a client that leaves in the middle of a stream: one cancellation
        with httpx.stream('POST', url + '/v1/completions', headers=h, json={'model': name, 'prompt': 'The',
                          'max_tokens': 500, 'temperature': 0, 'stream': True}) as r:
            next(r.iter_lines())
        for _ in range(100):
            if httpx.get(url + '/health').json()['cancelled']: break
            time.sleep(0.1)
        after = scrape(url)
        assert (after[('llm_course_cancellations_total', ())], after[('llm_course_timeouts_total', ())]) == (1, 0)
        assert after[('llm_course_engine_failures_total', ())] == 0

def test_alert_rules_pass_promtool():
    r = subprocess.run([tool('promtool'), 'check', 'rules', str(ALERT_RULES)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert 'SUCCESS: 5 rules found' in r.stdout

def test_prometheus_fires_an_alert(model_dir, tmp_path):
    "Prometheus scrapes a live server every second; requests that time out make the shipped LLMServerErrors alert fire"
    prometheus = tool('prometheus')
    rules = yaml.safe_load(ALERT_RULES.read_text())
    for rule in rules['groups'][0]['rules']: rule['for'] = '1s'   # the shipped rules wait minutes: this test, a second
    (tmp_path/'rules.yml').write_text(yaml.safe_dump(rules))
    with server(model_dir, '--timeout', '0.005', key=None) as (url, proc, lines):
        port = free_port()
        config = {'global': {'scrape_interval': '1s', 'evaluation_interval': '1s'}, 'rule_files': [str(tmp_path/'rules.yml')],
                  'scrape_configs': [{'job_name': 'llm', 'static_configs': [{'targets': [url.removeprefix('http://')]}]}]}
        (tmp_path/'prometheus.yml').write_text(yaml.safe_dump(config))
        prom_url = f'http://127.0.0.1:{port}'
        prom = subprocess.Popen([prometheus, f'--config.file={tmp_path/"prometheus.yml"}', f'--web.listen-address=127.0.0.1:{port}',
                                 f'--storage.tsdb.path={tmp_path/"data"}'], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            name = model_dir.parent.name   # (no /v1/models call: every /v1 request here should fail)
            statuses, firing = [], []
            for _ in range(240):   # about 60 s at most
                r = httpx.post(url + '/v1/completions', json={'model': name, 'prompt': 'The', 'max_tokens': 400}, timeout=30)
                statuses.append(r.status_code)
                try: reply = httpx.get(prom_url + '/api/v1/alerts')
                except httpx.TransportError: reply = None   # not listening yet
                # while it starts, Prometheus answers 503 'Service Unavailable' in plain text
                alerts = reply.json()['data']['alerts'] if reply is not None and reply.status_code == 200 else []
                firing = [a for a in alerts if a['state'] == 'firing']
                if firing: break
                time.sleep(0.25)
            # nearly all time out at 5 ms (a request that ends in one step may finish first, on a fast moment)
            assert statuses.count(504) >= len(statuses) - 2 and statuses.count(504) > 0, statuses
            assert [a['labels']['alertname'] for a in firing] == ['LLMServerErrors'], firing
            assert firing[0]['labels']['severity'] == 'page'
            assert float(firing[0]['value']) > 0.05   # the alert's value: the share of /v1 requests that failed
            # Prometheus and the server agree on the timeouts (both counted from the engine)
            query = httpx.get(prom_url + '/api/v1/query', params={'query': 'llm_course_timeouts_total'}).json()
            assert 0 < float(query['data']['result'][0]['value'][1]) <= statuses.count(504)
            assert scrape(url)[('llm_course_timeouts_total', ())] == statuses.count(504)
        finally:
            prom.terminate()
            prom.wait(30)
