"""The documentation site as its readers meet it: `nbdev-docs` builds it from the notebooks (a page that fails to build
fails here), and headless Chromium walks every page, served on 127.0.0.1, checking what a reader would trip over."""
import functools, http.server, importlib, inspect, json, os, re, shutil, subprocess, sys, threading
from pathlib import Path

import pytest
from fastcore.docments import docments

from conftest import launch_chromium

ROOT = Path(__file__).resolve().parent.parent
NBS = sorted(p for p in (ROOT/'nbs').glob('*.ipynb') if not p.name.startswith('_'))
QUARTO = shutil.which('quarto')

def page_name(nb:Path) -> str:
    "The page nbdev makes of notebook `nb`: its name without the number prefix"
    return re.sub(r'^\d+[a-z]?_', '', nb.stem) + '.html'

def markdown_of(nb:Path) -> str:
    return '\n'.join(''.join(c['source']) for c in json.loads(nb.read_text())['cells'] if c['cell_type'] == 'markdown')

def title_of(nb:Path) -> str:
    return re.search(r'^# (.+)$', markdown_of(nb), re.M).group(1).strip()

@pytest.fixture(scope='module')
def site() -> Path:
    "The site built by `nbdev-docs` into `_docs/`"
    if not QUARTO:
        if os.environ.get('CI'): pytest.fail("quarto is not on PATH: .ci/run installs it with ../shared/tools/quarto/install")
        pytest.skip('quarto is not on PATH (.ci/run installs it)')
    r = subprocess.run([str(Path(sys.executable).parent/'nbdev-docs')], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, f"nbdev-docs failed:\n{(r.stdout + r.stderr)[-6000:]}"
    return ROOT/'_docs'

@pytest.fixture(scope='module')
def base_url(site):
    handler = functools.partial(type('Quiet', (http.server.SimpleHTTPRequestHandler,), {'log_message': lambda *a: None}),
                                directory=str(site))
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f'http://127.0.0.1:{server.server_address[1]}/'
    server.shutdown()

@pytest.fixture(scope='module')
def pages(base_url) -> dict:
    """Every page of the sidebar opened in Chromium (nothing but 127.0.0.1 reachable, as on our machines): what each
    shows, as plain data for the checks below"""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page()
        page.route('**/*', lambda route: route.continue_() if route.request.url.startswith(base_url) else route.abort())
        errors = []   # require.js comes from a CDN, out of reach here: the widget pages' `define` calls fail without it
        page.on('pageerror', lambda e: None if 'define is not defined' in str(e) else errors.append(str(e)))
        page.goto(base_url + 'index.html', wait_until='load')
        sidebar = page.eval_on_selector_all('#quarto-sidebar a.sidebar-item-text[href]', 'as => as.map(a => a.href)')
        out = {'sidebar': [h[len(base_url):] or 'index.html' for h in sidebar], 'errors': errors, 'by_page': {}}
        for href in sidebar:
            resp = page.goto(href, wait_until='load')
            page.wait_for_function('Array.from(document.images).every(i => i.complete)')
            out['by_page'][href[len(base_url):] or 'index.html'] = page.evaluate("""() => ({
                title: document.querySelector('h1.title')?.innerText.trim(),
                ids: Array.from(document.querySelectorAll('[id]'), e => e.id),
                links: Array.from(document.querySelectorAll('a[href]'), a => a.href),
                images: Array.from(document.images, i => ({src: i.src, width: i.naturalWidth})),
                math: Array.from(document.querySelectorAll('span.math'), s => s.textContent),
                text: document.body.innerText,
                html: document.documentElement.outerHTML,
                stderr: Array.from(document.querySelectorAll('.cell-output-stderr'), e => e.innerText.slice(0, 200)),
                sections: Object.fromEntries(Array.from(document.querySelectorAll('section.level3'),
                    s => [s.id, {heading: s.querySelector('h3')?.innerText, code: s.querySelector('pre')?.innerText}])),
            })""") | {'status': resp.status}
        # Every internal link's target: the page answers, and the fragment names an element on it
        targets = {l.split('#')[0] for d in out['by_page'].values() for l in d['links'] if l.startswith(base_url)}
        out['targets'] = {}
        for t in sorted(targets):
            if t.endswith('.html') and t[len(base_url):] not in out['by_page']:
                r = page.goto(t, wait_until='load')
                out['targets'][t] = {'status': r.status, 'ids': page.evaluate("Array.from(document.querySelectorAll('[id]'), e => e.id)")}
            elif not t.endswith('.html'):
                out['targets'][t] = {'status': page.request.get(t).status, 'ids': []}
        browser.close()
    return out

def test_every_chapter_is_in_the_sidebar_and_opens(pages):
    test_pages = {page_name(nb): title_of(nb) for nb in NBS}
    assert sorted(pages['sidebar']) == sorted(test_pages)
    assert {p: (d['status'], d['title']) for p, d in pages['by_page'].items()} == {p: (200, t) for p, t in test_pages.items()}
    assert pages['errors'] == []

def test_no_broken_internal_link(pages, base_url):
    ids = {base_url + p: set(d['ids']) for p, d in pages['by_page'].items()}
    ids |= {t: set(d['ids']) for t, d in pages['targets'].items()}
    status = {base_url + p: d['status'] for p, d in pages['by_page'].items()} | {t: d['status'] for t, d in pages['targets'].items()}
    broken = set()
    for p, d in pages['by_page'].items():
        for link in d['links']:
            if not link.startswith(base_url): continue
            target, _, frag = link.partition('#')
            if status.get(target) != 200 or (frag and target.endswith('.html') and frag not in ids[target]): broken.add((p, link))
    assert sorted(broken) == []

def test_no_duplicate_ids(pages):
    dups = {p: sorted({i for i in d['ids'] if d['ids'].count(i) > 1}) for p, d in pages['by_page'].items()}
    assert {p: v for p, v in dups.items() if v} == {}

def _api(module) -> dict:
    "The functions and classes a module exports, with their parameters' docments"
    out = {}
    for name in module.__all__:
        o = getattr(module, name)
        if not (inspect.isfunction(o) or inspect.isclass(o)) or getattr(o, '__module__', None) != module.__name__: continue
        varargs = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        out[name] = {k: v.docment for k, v in docments(o, full=True).items()
                     if k not in ('self', 'cls', 'return') and v.kind not in varargs}
    return out

def test_every_export_has_its_api_entry_with_documented_parameters(pages):
    "Each exported function and class has a section with its signature, and each parameter its docments comment there"
    missing, undocumented = [], []
    for nb in NBS:
        m = re.search(r'^#\|\s*default_exp\s+(\S+)', ''.join(''.join(c['source']) for c in json.loads(nb.read_text())['cells']), re.M)
        if not m: continue
        secs = pages['by_page'][page_name(nb)]['sections']
        for name, params in _api(importlib.import_module(f'llm_course.{m.group(1)}')).items():
            sec = secs.get(name.lower())
            if not sec or sec['heading'] != name or not sec['code'] or not re.search(rf'(def|class) {re.escape(name)}\b', sec['code']):
                missing.append(f'{m.group(1)}.{name}'); continue
            undocumented += [f'{m.group(1)}.{name}({p})' for p, doc in params.items()
                             if not doc or f'# {doc.splitlines()[0]}' not in sec['code']]
    assert (missing, undocumented) == ([], [])

def test_prose_reaches_the_page(pages):
    """Every markdown cell shows on its page: the longest run of plain words of each is in the page's text (nbdev turns a
    notebook's first markdown cell into the title and summary and drops everything else in that cell)"""
    lost = {}
    for nb in NBS:
        text = ' '.join(pages['by_page'][page_name(nb)]['text'].split()).replace('\u2019', "'")   # Quarto's curly quotes
        for c in json.loads(nb.read_text())['cells']:
            if c['cell_type'] != 'markdown': continue
            md = re.sub(r'`[^`]*`|\$[^$]*\$|\[[^\]]*\]\([^)]*\)|<[^>]+>', ' ', ''.join(c['source']))
            runs = sorted((' '.join(r.split()) for r in re.findall(r"(?:[A-Za-z][a-z']*,? ){5,}[A-Za-z][a-z']*", md)), key=len)
            if runs and runs[-1] not in text: lost.setdefault(nb.name, []).append(runs[-1][:60])
    assert lost == {}

def test_formulas_reach_mathjax(pages):
    "Every inline and display formula of a notebook's markdown is on its page as MathJax input"
    lost = {}
    for nb in NBS:
        md = re.sub(r'```.*?```|`[^`\n]*`', '', markdown_of(nb), flags=re.S)
        formulas = [f.strip() for f in re.findall(r'\$\$(.+?)\$\$|\$([^$\n]+?)\$', md, re.S) for f in f if f.strip()]
        shown = {re.sub(r'\s+', ' ', s.strip()[2:-2].strip()) for s in pages['by_page'][page_name(nb)]['math']}
        if gone := [f for f in formulas if re.sub(r'\s+', ' ', f) not in shown]: lost[nb.name] = gone[:5]
    assert lost == {}

def test_every_figure_loads(pages, base_url):
    broken = [(p, i['src']) for p, d in pages['by_page'].items() for i in d['images'] if i['src'].startswith(base_url) and not i['width']]
    assert broken == []
    figures = {p: sum(i['src'].startswith(base_url) for i in d['images']) for p, d in pages['by_page'].items()}
    assert figures['generation.html'] >= 2   # chapter 08 draws the sampling filters and the KV cache's speed

def test_outputs_are_clean(pages):
    "No cell markers, terminal control codes, progress bars or library warnings in what a page shows"
    found = {}
    for p, d in pages['by_page'].items():
        hits = [pat for pat in ('#|', '\x1b', '[2K', 'it/s]', 'Warning:') if pat in d['text']]
        if hits or d['stderr']: found[p] = hits + d['stderr']
    assert found == {}

def test_training_panel_is_a_widget(pages):
    "05a's panel is saved as widget state, which the page renders with the widget manager, not as its text repr"
    html = pages['by_page']['widgets.html']['html']
    state = json.loads(re.search(r'application/vnd.jupyter.widget-state\+json">(.*?)</script>', html, re.S).group(1))['state']
    views = [json.loads(v)['model_id'] for v in re.findall(r'application/vnd.jupyter.widget-view\+json">(.*?)</script>', html, re.S)]
    assert (len(views) > 0, [v for v in views if v not in state]) == (True, [])
    assert 'VBox(children=' not in pages['by_page']['widgets.html']['text']
    assert {'DropdownModel', 'IntSliderModel', 'ButtonModel'} <= {w['model_name'] for w in state.values()}
