"Two `llm-course serve` replicas behind Debian's nginx (the configuration `llm-course serve-config nginx` writes), under a bounded load with one replica killed midway"
import os, signal, subprocess, threading, time
from collections import Counter

import httpx
import pytest
from conftest import llm_course
from test_cli_errors import fails
from test_serving import KEY, free_port, server
from llm_course.scaling import nginx_config, nginx_path, run_load, start_nginx, throughput

@pytest.fixture(scope='module')
def nginx() -> str:
    "Debian's nginx; the test may skip without it outside CI only (.ci/run installs it)"
    exe = nginx_path()
    if exe is None:
        if os.environ.get('CI'): pytest.fail("nginx is missing under CI: .ci/run installs Debian's nginx")
        pytest.skip("no nginx here: apt-get install nginx (.ci/run does)")
    return exe

def test_serve_config_nginx(tmp_path, nginx):
    llm_course('serve-config', 'nginx', '--replicas', '3', '--first-port', '9001', '--listen', '9000',
               '--out', tmp_path/'nginx.conf')
    text = (tmp_path/'nginx.conf').read_text()
    servers = [line.split()[1] for line in text.splitlines() if line.strip().startswith('server 127.')]
    assert servers == ['127.0.0.1:9001', '127.0.0.1:9002', '127.0.0.1:9003']
    checked = subprocess.run([nginx, '-t', '-p', str(tmp_path), '-c', 'nginx.conf'], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    printed = llm_course('serve-config', 'nginx', '--server', '10.0.0.5:8000', '--server', '10.0.0.6:8000').stdout
    assert 'server 10.0.0.5:8000 max_fails=1' in printed and 'server 10.0.0.6:8000 max_fails=1' in printed

def test_serve_config_usage_errors():
    assert 'HOST:PORT' in fails('serve-config', 'nginx', '--server', 'localhost')
    assert 'at least 1' in fails('serve-config', 'nginx', '--replicas', '0')

def wait_for(url:str, seconds:float=60):
    for _ in range(int(seconds * 10)):
        try:
            if httpx.get(url, timeout=1).status_code == 200: return
        except httpx.TransportError: pass
        time.sleep(0.1)
    raise AssertionError(f'{url} did not answer in {seconds} s')

def test_replica_killed_under_load(tiny_run, tmp_path, nginx):
    n_requests, timeout = 60, 60
    with server(tiny_run/'model') as (url_a, _, _), server(tiny_run/'model') as (url_b, proc_b, _):
        listen = free_port()
        balancer = start_nginx(nginx_config([url_a.split('//')[1], url_b.split('//')[1]], listen=listen), tmp_path/'nginx')
        try:
            base = f'http://127.0.0.1:{listen}'
            wait_for(base + '/health')
            auth = {'Authorization': f'Bearer {KEY}'}
            model = httpx.get(base + '/v1/models', headers=auth).json()['data'][0]['id']
            body = {'model': model, 'prompt': 'The', 'max_tokens': 8}
            outcomes = []
            loader = threading.Thread(target=lambda: outcomes.extend(
                run_load(base + '/v1/completions', n_requests, 4, body, auth, timeout=timeout)))
            t0 = time.perf_counter()
            loader.start()
            log = tmp_path/'nginx'/'access.log'
            while len(log.read_text().splitlines()) < n_requests // 3 and loader.is_alive(): time.sleep(0.05)
            proc_b.send_signal(signal.SIGKILL)
            kill_at = time.perf_counter() - t0
            loader.join(n_requests * timeout)
            assert not loader.is_alive(), 'the load did not end'
        finally:
            balancer.terminate()
            balancer.wait(30)
    assert proc_b.poll() is not None
    ended = Counter(o.status for o in outcomes)
    assert len(outcomes) == n_requests
    # none hangs: every request ended with an HTTP answer (a completion or an error status), before the client's timeout
    assert None not in ended, [o.error for o in outcomes if o.status is None]
    assert all(o.end - o.start < timeout for o in outcomes)
    assert all(o.status == 200 or o.error for o in outcomes)
    # completions keep flowing through the survivor: most requests sent after the kill complete
    after = [o for o in outcomes if o.start > kill_at]
    assert len(after) >= n_requests // 3 and sum(o.status == 200 for o in after) >= len(after) - 4, (kill_at, ended)
    centres, rates = throughput(outcomes)
    assert sum(r for c, r in zip(centres, rates) if c > kill_at) > 0   # the figure's curve goes on after the kill
