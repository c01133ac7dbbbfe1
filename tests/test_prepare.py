"`llm-course prepare` on a folder of the files found in the wild: what it keeps, what it skips and why, what it removes"
import json

from conftest import llm_course

PAGE = """<!DOCTYPE html><html><head><title>Harbour news</title><script>track();</script></head><body>
<h1>The harbour reopens</h1><p>After two years of work the old harbour opened again on Saturday, and the first boats came
in with the morning tide. The mayor thanked the builders and the families who had waited for so long. Most of the old
stone walls were kept, and the new quay is wide enough for the ferries that used to stop at the next town.</p>
<p>The fish market will open in the spring. The council said that the cost of the work stayed within the budget that was
agreed at the start, and that the harbour should pay for itself within ten years. Write to news@harbour.example for
the opening times, or call +44 20 7946 0958.</p></body></html>"""

STORY = ("The lighthouse keeper kept a diary for forty years. Every evening he wrote down the weather, the ships that passed "
         "and the birds that rested on the rail of the lamp room. In the winter of the great storm he wrote that the waves "
         "reached the top of the tower, and that he had never been so afraid.\nHis daughter found the diaries after his death "
         "and gave them to the town library, where they can still be read. Historians have used them to date the arrival of "
         "the first steamships in the bay. They also show how the number of sea birds has changed over the years.\n")

def test_bad_files_are_skipped_with_reasons(tmp_path):
    d = tmp_path/'in'; d.mkdir(); (d/'sub').mkdir()
    (d/'page.html').write_text(PAGE)
    (d/'sub'/'copy.html').write_text(PAGE.replace('Saturday', 'Sunday'))          # a near-duplicate page
    (d/'notes.txt').write_text('Plain notes about the harbour and its history.\n\nA second paragraph of notes.\n')
    (d/'image.png').write_bytes(b'\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR')
    (d/'latin1.txt').write_bytes('caf\xe9 cr\xe8me'.encode('latin-1'))
    (d/'empty.txt').write_text('')
    (d/'blank.txt').write_text('   \n\n  \n')
    (d/'records.jsonl').write_text('{"text": "a record"}\n{"body": "no text column"}\n')
    (d/'broken.jsonl').write_text('{"text": "unterminated\n')
    (d/'one_line.txt').write_text(' '.join(f'w{i}' for i in range(5_500_000)))    # a single 50 MB line, no newline
    r = llm_course('prepare', '--profile', 'tiny', '--data', d, '--out', tmp_path/'o', '--set', 'max_docs=0')
    report = json.loads((tmp_path/'o'/'report.json').read_text())
    skipped = {s['path'].split('/')[-1]: s['reason'] for s in report['files_skipped']}
    assert set(skipped) == {'image.png', 'latin1.txt', 'empty.txt', 'blank.txt', 'broken.jsonl'}, skipped
    assert 'binary' in skipped['image.png'] and 'not UTF-8' in skipped['latin1.txt'] and 'empty' in skipped['blank.txt']
    assert report['removed']['near_duplicate'] == 1
    assert report['pii_replaced']['EMAIL'] == 2 and report['pii_replaced']['PHONE'] == 2   # masked in both pages, before dedup
    from datasets import load_from_disk
    dsd = load_from_disk(str(tmp_path/'o'/'dataset'))
    texts = list(dsd['train']['text']) + list(dsd['validation']['text'])
    page = next(t for t in texts if 'harbour reopens' in t)
    assert '<p>' not in page and 'track()' not in page and '<EMAIL>' in page and '<PHONE>' in page
    assert max(map(len, texts)) <= 2000 and sum(t.count(' w') > 100 for t in texts) >= 20_000   # the long line, cut into documents
    card = (tmp_path/'o'/'data_card.md').read_text()
    assert 'near_duplicate' in card and 'image.png' in card and (tmp_path/'o'/'data_report.png').read_bytes()[:4] == b'\x89PNG'
    assert 'near duplicate 1' in r.stdout

def test_quality_filters_count_per_rule(tmp_path):
    d = tmp_path/'in'; d.mkdir()
    (d/'page.html').write_text(PAGE)
    (d/'story.txt').write_text(STORY)
    (d/'menu.txt').write_text('\n'.join(['Home', 'About us', 'Shop', 'Contact', 'Login', 'Cart'] * 3))
    (d/'code.txt').write_text(PAGE.split('<p>')[1] + '\nint main() { return 0; }')
    llm_course('prepare', '--profile', 'tiny', '--data', d, '--out', tmp_path/'o', '--set', 'filters=all')
    report = json.loads((tmp_path/'o'/'report.json').read_text())
    assert report['documents_out'] == 2   # the news page and the story pass every rule
    rules = {k for k, v in report['removed'].items() if v and ':' in k}
    assert rules and all(k.split(':')[0] in ('gopher_quality', 'gopher_repetition', 'c4', 'fineweb') for k in rules), rules
    assert report['documents_in'] - sum(report['removed'].values()) == report['documents_out']

def test_nothing_usable_fails_in_one_line(tmp_path):
    d = tmp_path/'in'; d.mkdir(); (d/'a.bin').write_bytes(b'\x00' * 10); (d/'b.txt').write_text('')
    r = llm_course('prepare', '--profile', 'tiny', '--data', d, '--out', tmp_path/'o', check=False)
    assert r.returncode == 2
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith('llm-course prepare: error:') and 'no usable text' in last and 'a.bin: binary' in last

def test_unknown_filter_is_refused(tmp_path):
    r = llm_course('prepare', '--profile', 'tiny', '--set', 'filters=gopher', '--out', tmp_path/'o', check=False)
    assert r.returncode == 2 and 'unknown gopher' in r.stderr

def write_messy_files(d):
    """Into folder `d`: a JSON Lines file cut off mid-line, a CSV with a bad row, a paper with a blank page, a crawl, a
    dangling link and a Latin-1 file (also used by tests/test_data_at_scale.py)"""
    import io
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter
    from llm_course.data import text_pdf
    lines = [json.dumps({'text': f'{STORY} Record {i}.'}) for i in range(5)]
    (d/'records.jsonl').write_text('\n'.join(lines) + '\n{"text": "cut off by a cra')
    (d/'rows.csv').write_text(f'id,text\n1,"{STORY} First row."\n2,"x",extra\n3,"{STORY} Third row."\n')
    (d/'paper.pdf').write_bytes(text_pdf(['A paper about lighthouses and the keepers who lived in them.', '']))
    with open(d/'crawl.warc', 'wb') as f:
        w = WARCWriter(f, gzip=False)
        http = StatusAndHeaders('200 OK', [('Content-Type', 'text/html')], protocol='HTTP/1.1')
        w.write_record(w.create_warc_record('https://harbour.example/news', 'response',
                                            payload=io.BytesIO(PAGE.encode()), http_headers=http))
    (d/'gone.txt').symlink_to(d/'nowhere.txt')
    (d/'latin1.txt').write_bytes('caf\xe9 cr\xe8me br\xfbl\xe9e, a dessert of the lighthouse keeper'.encode('latin-1'))

def test_a_bad_record_costs_that_record_not_its_file(tmp_path):
    """A folder as a user with messy data has it: a JSON Lines file whose last line was cut off, a CSV file with a bad
    row, a paper with a blank page, a crawl, a dangling link and a Latin-1 file. Every good record is kept; every bad
    record is in the report with its file, where it was and why; a skipped file's reason says how to fix it"""
    d = tmp_path/'in'; d.mkdir()
    write_messy_files(d)
    r = llm_course('prepare', '--profile', 'tiny', '--data', d, '--out', tmp_path/'o', '--set', 'filters=none',
                   '--set', 'dedup_threshold=0')   # the records are near-copies of each other on purpose
    report = json.loads((tmp_path/'o'/'report.json').read_text())
    skipped = {s['path'].split('/')[-1]: s['reason'] for s in report['files_skipped']}
    assert skipped == {'gone.txt': f"dangling symbolic link (to {d/'nowhere.txt'})",
                       'latin1.txt': 'not UTF-8 text (invalid byte at offset 3); if it is Latin-1 or Windows-1252, '
                                     'convert it first: iconv -f cp1252 -t utf-8 IN > OUT'}
    bad = [(b['path'].split('/')[-1], b['at'], b['reason']) for b in report['records_skipped']]
    assert bad == [
        ('paper.pdf', 'page 2', 'no text layer (a scanned page? run OCR on it first)'),
        ('records.jsonl', 'line 6', 'not JSON (Unterminated string starting at, column 10)'),
        ('rows.csv', 'line 5', '3 fields where the header has 2')], bad   # row 1's text spans lines 2-4
    assert report['records_skipped_count'] == 3
    from datasets import load_from_disk
    dsd = load_from_disk(str(tmp_path/'o'/'dataset'))
    texts = list(dsd['train']['text']) + list(dsd['validation']['text'])
    sources = list(dsd['train']['source']) + list(dsd['validation']['source'])
    assert sorted(t.split()[-1] for t in texts if 'Record' in t) == [f'{i}.' for i in range(5)]   # every good line
    assert sum('First row.' in t or 'Third row.' in t for t in texts) == 2
    assert 'https://harbour.example/news' in sources and any(s.endswith('paper.pdf#page=1') for s in sources)
    assert 'bad records left out: 3' in (tmp_path/'o'/'data_card.md').read_text()
    assert '4 file(s) read, 2 skipped, 3 bad record(s) left out' in r.stdout
