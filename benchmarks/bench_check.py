"""Speed of `check` against a bare python_calamine read of the same files, in the same run.

    python benchmarks/bench_check.py [--rows 10000] [--files 30] [--file-rows 300] [--repeat 5]

Prints rows/s and the ratio check / bare read (aim: ≤ 2× in-process, issue 18), and the wall time of
the whole `jiuzhu check` process on the big workbook, Python start included (aim: < 2 s).
Timings are the best of --repeat runs; the machine is shared, so compare ratios.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from baseline import bare_read, best

from pipeline.demo import synth
from pipeline.intake.check import check_files
from pipeline.rules import townships

AS_OF = date(2026, 11, 28)


def check_all(paths: list[Path]) -> int:
    return check_files(paths, AS_OF).stats["rows"]


def process_time(path: Path, repeat: int) -> float:
    jiuzhu = shutil.which("jiuzhu") or str(Path(sys.executable).with_name("jiuzhu"))
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([jiuzhu, "check", str(path), "--as-of", AS_OF.isoformat()], capture_output=True)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--files", type=int, default=30)
    parser.add_argument("--file-rows", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="jiuzhu-bench-"))
    try:
        big = synth.make_submission(work / "big.xlsx", "城西街道", args.rows, seed=1, as_of=AS_OF,
                                    with_visits=True).path
        names = [t.name for t in townships.listed()]
        week = [synth.make_submission(work / f"week{i:02d}.xlsx", names[i % len(names)], args.file_rows,
                                      seed=i, as_of=AS_OF, with_visits=True).path for i in range(args.files)]
        check_all([big])  # warm imports and caches once, as a real process would after start
        for label, paths, rows in ((f"1 file × {args.rows} rows", [big], args.rows),
                                   (f"{args.files} files × {args.file_rows} rows", week, args.files * args.file_rows)):
            bare = best(bare_read, paths, args.repeat)
            ours = best(check_all, paths, args.repeat)
            print(f"{label}: bare calamine read {bare * 1000:.0f} ms, check {ours * 1000:.0f} ms "
                  f"({rows / ours:,.0f} rows/s), ratio {ours / bare:.2f}×")
        print(f"whole `jiuzhu check` process on {args.rows} rows: {process_time(big, args.repeat):.2f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
