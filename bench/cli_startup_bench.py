"""How fast `llm-course` starts: `--help`, `profiles` and a usage error, beside `python -c pass` and `python -c "import torch"`.

Each command runs in a fresh Python, several rounds interleaved (so load on a shared machine hits them alike); the table
shows the median wall time of each and its ratio to `import torch` and to an empty Python. The last row,
`import llm_course.model`, is what every command paid before the model's registration with transformers became lazy.

    .venv/bin/python bench/cli_startup_bench.py [--rounds 7]
"""
import argparse, statistics, subprocess, sys, time
from pathlib import Path

PY = sys.executable
CLI = [PY, '-m', 'llm_course.cli']
CASES = {
    'python -c pass': [PY, '-c', 'pass'],
    'python -c "import torch"': [PY, '-c', 'import torch'],
    'python -c "import llm_course"': [PY, '-c', 'import llm_course'],
    'llm-course --help': CLI + ['--help'],
    'llm-course profiles': CLI + ['profiles'],
    'llm-course pipeline --profile huge (usage error)': CLI + ['pipeline', '--profile', 'huge'],
    'llm-course prepare --out FILE (usage error)': CLI + ['prepare', '--out', __file__],
    'python -c "import llm_course.model" (before)': [PY, '-c', 'import llm_course.model'],
}

def wall(cmd):
    "Seconds `cmd` takes to run to its end"
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=Path(__file__).parent.parent)
    return time.perf_counter() - t

def main(rounds:int):
    times = {name: [] for name in CASES}
    for name, cmd in CASES.items(): wall(cmd)   # warm the file cache once
    for _ in range(rounds):
        for name, cmd in CASES.items(): times[name].append(wall(cmd))
    med = {name: statistics.median(ts) for name, ts in times.items()}
    torch_s, empty_s = med['python -c "import torch"'], med['python -c pass']
    print(f"median of {rounds} rounds, {sys.platform}, Python {sys.version.split()[0]}")
    print(f"{'command':50} {'seconds':>8} {'/ import torch':>15} {'/ empty python':>15}")
    for name, s in med.items(): print(f"{name:50} {s:8.2f} {s/torch_s:15.2f} {s/empty_s:15.1f}")

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--rounds', type=int, default=7, help='fresh processes per command (the median is shown)')
    main(ap.parse_args().rounds)
