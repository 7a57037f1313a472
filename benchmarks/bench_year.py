"""A year of history: 52 weekly `jiuzhu run`s of the district into one store, each timed.

    python benchmarks/bench_year.py [--tree DIR] [--weeks 52] [--svg benchmarks/year.svg]

Each week every one of the 30 townships sends one workbook: 5–20 new people, corrections of
some of its earlier pending people (a 办理结果 given, 调查情况 filled in) and a 走访记录 sheet
for its people of the last five weeks. Each run is a whole `python -m pipeline run` process of
the tree on PYTHONPATH (default: this checkout), so two commits can be compared in one sitting;
the inputs are written with this checkout's synth module, outside the timing. Printed per week:
the roster's size (run-report.json), the run's seconds and the store's size; at the end the
last week's time against the first's, and the curve as an SVG (--svg). The machine is shared:
compare runs of the same sitting.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.demo import synth  # noqa: E402
from pipeline.demo.people import make_visits  # noqa: E402
from pipeline.rules import townships  # noqa: E402

FIRST = date(2025, 12, 6)  # a Saturday; the 52nd week is 2026-11-28


def week_inbox(inbox: Path, week: int, as_of: date, pending: dict[str, list]) -> None:
    """The 30 workbooks of one week; `pending` (township → its people still without a result,
    with the week they came) is updated."""
    inbox.mkdir(parents=True, exist_ok=True)
    for n, town in enumerate(townships.listed()):
        rng = random.Random(week * 1000 + n)
        new = synth.make_people(town.name, rng.randint(5, 20), seed=week * 1000 + n, as_of=as_of)
        waiting = pending.setdefault(town.name, [])
        corrected = []
        for person, _ in rng.sample(waiting, min(len(waiting), rng.randint(0, 4))):
            fixed = person.copy()
            fixed.investigation = fixed.investigation or "已入户调查，核实家庭收入和财产情况"
            fixed.result = f"纳入临时救助，{as_of - timedelta(days=2):%Y年%m月%d日}"
            corrected.append(fixed)
        done_keys = {(p.name, p.id_number) for p in corrected}
        waiting[:] = [(p, w) for p, w in waiting if (p.name, p.id_number) not in done_keys]
        waiting.extend((p, week) for p in new if not p.result)
        recent = [p for p, w in waiting if w > week - 5]
        visits = make_visits(recent, as_of, seed=week * 1000 + n)
        synth.write_submission(inbox / f"{town.name}_{as_of:%Y%m%d}.xlsx", [*corrected, *new], township=town.name,
                               filled_date=as_of - timedelta(days=1), visits=visits, seed=week * 1000 + n)


def svg(points: list[tuple[int, float]], path: Path) -> None:
    """Seconds per run against week number, as a plain polyline."""
    width, height, pad = 640, 320, 40
    top = max(s for _, s in points) * 1.1
    xy = [(pad + (w - 1) * (width - 2 * pad) / max(1, len(points) - 1), height - pad - s / top * (height - 2 * pad))
          for w, s in points]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
    ticks = "".join(f'<text x="{pad - 6}" y="{height - pad - v / top * (height - 2 * pad) + 4:.1f}" '
                    f'text-anchor="end" font-size="11">{v:.1f}</text>' for v in (0, top / 2, top / 1.1))
    path.write_text(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
        f'<rect width="100%" height="100%" fill="white"/>'
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="black"/>'
        f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="black"/>{ticks}'
        f'<text x="{width / 2}" y="{height - 8}" text-anchor="middle" font-size="12">week</text>'
        f'<text x="{pad}" y="{pad - 12}" font-size="12">seconds per whole run</text>'
        f'<polyline points="{line}" fill="none" stroke="#c00" stroke-width="2"/></svg>\n', encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=ROOT)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--svg", type=Path)
    parser.add_argument("--keep", type=Path, help="keep the year's store and last inbox in this folder")
    options = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIUZHU_")}
    env.update(PYTHONPATH=str(options.tree))
    work = Path(tempfile.mkdtemp(prefix="jiuzhu-bench-year-"))
    pending: dict[str, list] = {}
    points = []
    try:
        store = work / "jiuzhu.sqlite3"
        print(f"tree {options.tree}")
        print(f"{'week':>4} {'as of':>10} {'roster':>7} {'rows sent back':>14} {'run s':>7} {'store MB':>9}", flush=True)
        for week in range(1, options.weeks + 1):
            as_of = FIRST + timedelta(weeks=week - 1)
            inbox = work / "inbox"
            week_inbox(inbox, week, as_of, pending)
            start = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "pipeline", "run", "--inbox", str(inbox), "--outbox",
                                   str(work / "outbox"), "--store", str(store), "--as-of", as_of.isoformat()],
                                  env=env, cwd=work, capture_output=True, text=True)
            seconds = time.perf_counter() - start
            if proc.returncode:
                raise SystemExit(proc.stderr[-3000:])
            report = json.loads((work / "outbox" / as_of.isoformat() / "run-report.json").read_text(encoding="utf-8"))
            size = sum(p.stat().st_size for p in work.glob("jiuzhu.sqlite3*")) / 2 ** 20
            points.append((week, seconds))
            back = sum(f["rejected"] for f in report["files"])
            print(f"{week:>4} {as_of.isoformat():>10} {report['roster']['total']:>7} {back:>14} {seconds:>7.2f} "
                  f"{size:>9.1f}", flush=True)
            shutil.rmtree(work / "outbox" / as_of.isoformat())  # the outputs of a year need not pile up here
        first = min(s for _, s in points[:3])
        last = min(s for _, s in points[-3:])
        print(f"last three weeks' best {last:.2f} s against the first three's {first:.2f} s: {last / first:.2f}×")
        if options.svg:
            svg(points, options.svg)
            print(f"curve written to {options.svg}")
        if options.keep:
            shutil.copytree(work, options.keep, dirs_exist_ok=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
