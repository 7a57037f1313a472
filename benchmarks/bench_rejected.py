"""How a run's time grows with the rows it sends back, and what it leaves for the next week.

For each size N a fresh store gets one file of N rows that all fail (a required cell left
blank), then, a week later, one ordinary 5-row file. Both are whole `python -m pipeline run`
processes of the tree on PYTHONPATH (default: this checkout), so two commits can be compared
in one sitting (the files are always made by this checkout's pipeline.demo.synth; run it with
a Python where jiuzhu is not installed editable, whose import hook would win over PYTHONPATH):

    python benchmarks/bench_rejected.py [--tree DIR] [--sizes 2000,5000,10000,20000]

Printed per N: the run's seconds, seconds per 1,000 rows sent back (flat when
the growth is linear), and the next week's seconds.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AS_OF = date(2026, 11, 28)
MAKE = """
import sys
from datetime import date
from pathlib import Path
from pipeline.demo import synth
path, rows, seed, day = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), date.fromisoformat(sys.argv[4])
people = synth.make_people("城西街道", rows, seed=seed, as_of=day)
if sys.argv[5] == "bad":
    for person in people:
        person["name"] = None  # 对象姓名 is required: every row goes back
synth.write_submission(path, people, township="城西街道", filled_date=day)
"""


def _run(tree: Path, *args: str) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    started = time.perf_counter()
    # From a neutral folder: python puts the working folder ahead of PYTHONPATH on sys.path.
    proc = subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, cwd=tempfile.gettempdir())
    elapsed = time.perf_counter() - started
    if proc.returncode:
        raise SystemExit(proc.stderr[-2000:])
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=ROOT)
    parser.add_argument("--sizes", default="2000,5000,10000,20000")
    options = parser.parse_args()
    print(f"tree {options.tree}")
    print(f"{'rows sent back':>15} {'run s':>8} {'s / 1000 rows':>14} {'next week s':>12}")
    for size in map(int, options.sizes.split(",")):
        with tempfile.TemporaryDirectory(prefix="jiuzhu-bench-") as scratch:
            root = Path(scratch)
            inbox, outbox, store = root / "inbox", root / "outbox", root / "s.sqlite3"
            inbox.mkdir()
            _run(ROOT, "-c", MAKE, str(inbox / "城西街道1128.xlsx"), str(size), "1", AS_OF.isoformat(), "bad")
            common = ["--inbox", str(inbox), "--outbox", str(outbox), "--store", str(store)]
            first = _run(options.tree, "-m", "pipeline", "run", *common, "--as-of", AS_OF.isoformat())
            later = AS_OF + timedelta(days=7)
            _run(ROOT, "-c", MAKE, str(inbox / "城西街道1205.xlsx"), "5", "2", later.isoformat(), "good")
            second = _run(options.tree, "-m", "pipeline", "run", *common, "--as-of", later.isoformat())
        print(f"{size:>15,} {first:>8.1f} {first / size * 1000:>14.2f} {second:>12.1f}", flush=True)


if __name__ == "__main__":
    main()
