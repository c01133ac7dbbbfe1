"""Write README.md from nbs/index.ipynb: markdown cells as they are, code cells as Python blocks with their text output.

nbdev-readme needs Quarto, which our build machines lack; this is the same idea in a few lines. `.ci/run` fails when
README.md differs from what this writes. Run it after editing nbs/index.ipynb: `python .ci/readme.py`.
"""
import json, re, sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent

def cell_markdown(cell) -> str:
    src = ''.join(cell['source'])
    if cell['cell_type'] == 'markdown': return src
    if re.search(r'^#\|\s*(hide|exporti?)\b', src, re.M): return ''
    code = '\n'.join(l for l in src.splitlines() if not l.startswith('#|')).strip()
    if 'test_eq' in code: return ''   # checks belong to the notebook, not the README
    out = [f'```python\n{code}\n```']
    for o in cell.get('outputs', []):
        data = o.get('data', {})
        if 'text/markdown' in data: out.append(''.join(data['text/markdown']))
        elif 'text/plain' in data: out.append('```\n' + ''.join(data['text/plain']) + '\n```')
        elif o.get('output_type') == 'stream' and o.get('name') == 'stdout': out.append('```\n' + ''.join(o['text']).rstrip() + '\n```')
    return '\n\n'.join(out)

def readme() -> str:
    nb = json.loads((root/'nbs'/'index.ipynb').read_text(encoding='utf-8'))
    parts = [cell_markdown(c) for c in nb['cells']]
    return '\n\n'.join(p.strip() for p in parts if p.strip()) + '\n'

if __name__ == '__main__':
    (root/'README.md').write_text(readme(), encoding='utf-8')
    sys.exit(0)
