"""Speed of `check` on the form filled in Word and on a web page exported as .xls, against the
same rows as .xlsx in the same run; and each hostile Word file, page and archive of
tests/intake/hostile_formats.py: its code, time and peak memory in a process of its own.

    python benchmarks/bench_formats.py [--rows 1000] [--repeat 5]

Timings are the best of --repeat runs; the machine is shared, so compare the ratios.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' builders

from pipeline.demo import synth  # noqa: E402
from pipeline.intake.check import check_file  # noqa: E402
from tests.intake import formats, hostile_formats  # noqa: E402
from tests.intake.test_hostile_formats import measure  # noqa: E402

AS_OF = date(2026, 11, 28)


def best_of(path: Path, repeat: int) -> tuple[float, int]:
    """(fastest seconds, rows) of check_file on one file."""
    times, rows = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        rows = check_file(path, AS_OF).rows
        times.append(time.perf_counter() - start)
    return min(times), rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sub = synth.make_submission(folder / "城西街道1128.xlsx", "城西街道", args.rows, seed=1, as_of=AS_OF,
                                    with_visits=False)
        above, table = formats.split_table(formats.workbook_rows(sub.path))
        files = {"xlsx": sub.path,
                 "docx": formats.write_docx(folder / "城西街道1128.docx", table, above=above),
                 "html": formats.write_html(folder / "城西街道1128.xls", table, above=above)}
        check_file(sub.path, AS_OF)  # pandas and pandera loaded before any timing
        base, _ = best_of(files["xlsx"], args.repeat)
        for kind, path in files.items():
            seconds, rows = best_of(path, args.repeat)
            print(f"{kind:5} {rows:6} rows  {seconds * 1000:7.1f} ms  {rows / seconds:9,.0f} rows/s  "
                  f"{seconds / base:4.2f}× .xlsx  ({path.stat().st_size / 1024:,.0f} KB)")
        print("hostile files (each checked in a fresh interpreter):")
        for build, _ in hostile_formats.CASES:
            seen = measure(build(folder))
            print(f"  {build.__name__:22} {','.join(seen['codes']):15} {seen['seconds']:5.2f} s  "
                  f"{seen['rss_mb']:5.0f} MB peak")


if __name__ == "__main__":
    main()
