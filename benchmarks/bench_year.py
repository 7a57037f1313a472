"""A year of history: 52 weekly `jiuzhu run`s of the district into one store, each timed by phase.

    python benchmarks/bench_year.py [--tree DIR] [--weeks 52] [--svg benchmarks/year.svg]

Each week every one of the 30 townships sends one workbook: 5–20 new people, corrections of
some of its earlier pending people (a 办理结果 given, 调查情况 filled in) and a 走访记录 sheet
for its people of the last five weeks. Each run is a whole `python -m pipeline run` process of
the tree on PYTHONPATH (default: this checkout), so two commits can be compared in one sitting;
the inputs are written with this checkout's synth module, outside the timing.

The process is started through a small wrapper (PHASES, below) that times the run's parts
without changing them: the checkpoints the run passes (publish.checkpoint: checked, merged,
rendered, published) and a few calls of the run (the undo snapshot, the standing of the roster,
the letters drafted, the outputs built). A run's seconds are then split into
  fixed     what must not grow with history: start-up, check, merge, the letters drafted, the
            store's own per-run queries, the moves, COMMIT and exit;
  snapshot  the undo copy of the store taken before the run (proportional to the store's size);
  output    what is proportional to the roster: its standing (every person classified, the
            visit gaps, the township table) and the outputs built from it (ledger, gaps,
            overdue list, summary, the townships' packets), also given per 1,000 people.
Printed per week: the roster's size (run-report.json), the parts, the whole run, the store's
size, and the fixed part's CPU seconds (of the run's own process), which the load of a shared
machine moves far less than its wall-clock seconds. The first and the last week are run
--repeat times, each again on a copy of the store, its snapshots and the inbox, and the best
of each part is kept. At the end: the last week's parts against the first's, the store's size
by table, and the curves as an SVG (--svg). Compare runs of the same sitting.

    python benchmarks/bench_year.py --weeks 40 --profile 1 40   # year-week-N.prof, for pstats
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

# Run inside the child process in place of `python -m pipeline`: wraps publish.checkpoint and a
# few of the run's calls with a clock (wall and the process's CPU time), runs the CLI, and writes
# what it saw to $BENCH_PHASES as the process ends.
# Nothing is imported that the run would not import itself; the calls of modules that the run
# imports late (pandas behind them) are wrapped at the first checkpoint, once they are loaded.
PHASES = r"""
import importlib, json, os, sys, time
def now():
    return time.time(), time.process_time()

marks, spans, parent = {"boot": now()}, {}, os.getpid()
profile = None
if os.environ.get("BENCH_PROFILE"):  # --profile: this week's run under cProfile (its own process only)
    import cProfile
    profile = cProfile.Profile()
    profile.enable()

def wrap(module, name):
    mod = importlib.import_module(module)
    inner = getattr(mod, name)
    def timed(*args, **kwargs):
        start = now()
        try:
            return inner(*args, **kwargs)
        finally:
            spans.setdefault(f"{module.rsplit('.', 1)[1]}.{name}", []).append((*start, *now()))
    setattr(mod, name, timed)

from pipeline import publish
checkpoint = publish.checkpoint
def marked(stage):
    marks[stage] = now()
    if stage == "checked":
        for module, name in (("pipeline.roster.cases", "standing"), ("pipeline.roster.letters", "draft"),
                             ("pipeline.reports.build", "build")):
            wrap(module, name)
    checkpoint(stage)
publish.checkpoint = marked
for module, name in (("pipeline.roster.snapshots", "take"), ("pipeline.roster.snapshots", "prune")):
    wrap(module, name)

exit_now = os._exit  # the CLI ends the process this way (cli.entry), skipping atexit
def ending(code):
    if os.getpid() == parent:  # not a forked worker
        marks["exit"] = now()
        if profile:
            profile.disable()
            profile.dump_stats(os.environ["BENCH_PROFILE"])
        with open(os.environ["BENCH_PHASES"], "w") as fh:
            json.dump({"marks": marks, "spans": spans}, fh)
    exit_now(code)
os._exit = ending

from pipeline.cli import entry
sys.argv[0] = "jiuzhu"
entry()
"""
def split(seen: dict, spawned: float, ended: float, roster: int) -> dict[str, float]:
    """A run's seconds by part (the module docstring); `seen` is what PHASES wrote. The *_cpu parts
    are CPU seconds of the run's own process (its forked children aside: the readers, and the
    writer of the ledger and packets): on a shared machine they show whether the work grows
    when the wall clock mostly shows the load."""
    marks, spans = seen["marks"], seen["spans"]

    def spent(name: str, cpu: bool = False) -> float:
        return sum(span[3] - span[1] if cpu else span[2] - span[0] for span in spans.get(name, []))

    take = spans["snapshots.take"][0]
    part = {"total": ended - spawned, "start": take[0] - spawned, "snapshot": spent("snapshots.take"),
            "check": marks["checked"][0] - take[2], "letters": spent("letters.draft"),
            "merge": marks["merged"][0] - marks["checked"][0], "standing": spent("cases.standing"),
            "outputs": spent("build.build")}
    part["output"] = part["standing"] + part["outputs"]
    part["fixed"] = part["total"] - part["snapshot"] - part["output"]
    part["rest"] = part["fixed"] - part["start"] - part["check"] - part["merge"] - part["letters"]
    part["per_1k"] = part["output"] / roster * 1000
    part["output_cpu"] = sum(spent(name, cpu=True) for name in ("cases.standing", "build.build"))
    part["snapshot_cpu"] = spent("snapshots.take", cpu=True)
    part["fixed_cpu"] = marks["exit"][1] - marks["boot"][1] - part["snapshot_cpu"] - part["output_cpu"]
    part["merge_cpu"] = marks["merged"][1] - marks["checked"][1]
    part["with_snapshot"] = part["fixed"] + part["snapshot"]
    return part


def store_make_up(store: Path) -> list[tuple[str, float]]:
    """MB per table of the store, each with its indexes, largest first (SQLite's dbstat)."""
    import sqlite3

    db = sqlite3.connect(store)
    try:
        owner = dict(db.execute("SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')"))
        sizes: dict[str, float] = {}
        for name, size in db.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"):
            table = owner.get(name, name if not name.startswith("sqlite_autoindex_") else name.split("_")[2])
            sizes[table] = sizes.get(table, 0) + size / 2 ** 20
    finally:
        db.close()
    return sorted(sizes.items(), key=lambda item: -item[1])


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



CURVES = (("total", "#000", "whole run"), ("fixed", "#c00", "fixed part"), ("output", "#06c", "output part"),
          ("snapshot", "#999", "undo snapshot"), ("fixed_cpu", "#e80", "fixed part, CPU"))


def svg(rows: list[dict], path: Path) -> None:
    """Two panels: seconds per run by part against week number; the output part per 1,000 people."""
    width, height, pad = 720, 300, 48

    def panel(top_y: int, series: list[tuple[str, str, list[float]]], title: str) -> str:
        top = max(max(v) for _, _, v in series) * 1.1 or 1

        def y(v: float) -> float:
            return top_y + height - pad - v / top * (height - 2 * pad)

        def x(i: int) -> float:
            return pad + i * (width - 2 * pad) / max(1, len(rows) - 1)

        out = [f'<line x1="{pad}" y1="{y(0):.1f}" x2="{width - pad}" y2="{y(0):.1f}" stroke="black"/>',
               f'<line x1="{pad}" y1="{y(top):.1f}" x2="{pad}" y2="{y(0):.1f}" stroke="black"/>',
               f'<text x="{pad}" y="{top_y + pad - 16}" font-size="12">{title}</text>']
        out += [f'<text x="{pad - 6}" y="{y(v) + 4:.1f}" text-anchor="end" font-size="11">{v:.2f}</text>'
                for v in (0, top / 2.2, top / 1.1)]
        out += [f'<text x="{x(i):.1f}" y="{y(0) + 14:.1f}" text-anchor="middle" font-size="10">{r["week"]}</text>'
                for i, r in enumerate(rows) if r["week"] == 1 or r["week"] % 4 == 0]
        for n, (label, colour, values) in enumerate(series):
            line = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
            out.append(f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2"/>')
            out.append(f'<text x="{width - pad - 110}" y="{top_y + pad + 14 * n}" font-size="11" fill="{colour}">'
                       f'{label}</text>')
        return "".join(out)

    parts = panel(0, [(label, colour, [r[key] for r in rows]) for key, colour, label in CURVES],
                  "seconds per run, by part, against week")
    per = panel(height, [("output s per 1,000 people", "#06c", [r["per_1k"] for r in rows])],
                "output part per 1,000 people on the roster (s), against week")
    last = rows[-1]
    path.write_text(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{2 * height + 20}">'
        f'<rect width="100%" height="100%" fill="white"/>{parts}{per}'
        f'<text x="{width / 2}" y="{2 * height + 10}" text-anchor="middle" font-size="12">week (roster '
        f'{rows[0]["roster"]:,} → {last["roster"]:,} people; store {last["store"]:.1f} MB)</text></svg>\n',
        encoding="utf-8")


def run_week(env: dict, where: Path, as_of: date) -> tuple[dict, dict]:
    """One whole run of the week in `where` (its inbox, outbox and store): its report and its parts."""
    spawned = time.time()
    proc = subprocess.run([sys.executable, "-c", PHASES, "run", "--inbox", str(where / "inbox"), "--outbox",
                           str(where / "outbox"), "--store", str(where / "jiuzhu.sqlite3"), "--as-of",
                           as_of.isoformat()], env={**env, "BENCH_PHASES": str(where / "phases.json")},
                          cwd=where, capture_output=True, text=True)
    ended = time.time()
    if proc.returncode:
        raise SystemExit(proc.stderr[-3000:])
    outdir = where / "outbox" / as_of.isoformat()
    report = json.loads((outdir / "run-report.json").read_text(encoding="utf-8"))
    part = split(json.loads((where / "phases.json").read_text()), spawned, ended, report["roster"]["total"])
    shutil.rmtree(outdir)  # the outputs of a year need not pile up here
    return report, part


def run_again(env: dict, work: Path, as_of: date) -> dict:
    """The week run once more on a copy of the store, its snapshots and the inbox as they are now."""
    again = work / "again"
    shutil.rmtree(again, ignore_errors=True)
    again.mkdir()
    for item in work.iterdir():
        if item.name.startswith("jiuzhu.sqlite3") and item.is_file():
            shutil.copy2(item, again / item.name)
        elif item.name in ("inbox", "jiuzhu.sqlite3.snapshots"):
            shutil.copytree(item, again / item.name)
    try:
        return run_week(env, again, as_of)[1]
    finally:
        shutil.rmtree(again, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=ROOT)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--repeat", type=int, default=3,
                        help="the first and the last week are run this many times (on copies), the best kept")
    parser.add_argument("--svg", type=Path)
    parser.add_argument("--keep", type=Path, help="keep the year's store and last inbox in this folder")
    parser.add_argument("--profile", type=int, nargs="*", default=[], metavar="WEEK",
                        help="run these weeks under cProfile, into year-week-N.prof here (their times then count it)")
    options = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIUZHU_")}
    env.update(PYTHONPATH=str(options.tree))
    work = Path(tempfile.mkdtemp(prefix="jiuzhu-bench-year-"))
    pending: dict[str, list] = {}
    rows = []
    try:
        print(f"tree {options.tree}")
        # Byte code first, so that week 1 does not pay for compiling the tree (the libraries have theirs).
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(options.tree / "pipeline")], env=env, check=True,
                       capture_output=True)
        print("wall seconds; start = to the snapshot, rest = the store's other per-run work, moves, COMMIT, exit; "
              f"cpu = of the run's own process; weeks 1 and {options.weeks}: best of {options.repeat}")
        print(f"{'week':>4} {'roster':>6} {'start':>5} {'check':>5} {'merge':>5} {'letters':>7} {'rest':>5} "
              f"{'FIXED':>5} {'snapshot':>8} {'standing':>8} {'outputs':>7} {'OUTPUT':>6} {'per 1k':>6} "
              f"{'total':>5} {'store MB':>8} {'fixed/wk1':>9} {'fixed cpu':>9} {'cpu/wk1':>7} {'merge cpu':>9}", flush=True)
        for week in range(1, options.weeks + 1):
            as_of = FIRST + timedelta(weeks=week - 1)
            week_inbox(work / "inbox", week, as_of, pending)
            env.pop("BENCH_PROFILE", None)
            if week in options.profile:
                env["BENCH_PROFILE"] = str(Path(f"year-week-{week}.prof").resolve())
            again = options.repeat - 1 if week in (1, options.weeks) and week not in options.profile else 0
            tries = [run_again(env, work, as_of) for _ in range(again)]
            report, part = run_week(env, work, as_of)
            part = {key: min(t[key] for t in [*tries, part]) for key in part}
            roster = report["roster"]["total"]
            size = sum(p.stat().st_size for p in work.glob("jiuzhu.sqlite3*") if p.is_file()) / 2 ** 20
            rows.append({"week": week, "roster": roster, "store": size, **part})
            print(f"{week:>4} {roster:>6} {part['start']:>5.2f} {part['check']:>5.2f} {part['merge']:>5.2f} "
                  f"{part['letters']:>7.3f} {part['rest']:>5.2f} {part['fixed']:>5.2f} {part['snapshot']:>8.3f} "
                  f"{part['standing']:>8.2f} {part['outputs']:>7.2f} {part['output']:>6.2f} {part['per_1k']:>6.3f} "
                  f"{part['total']:>5.2f} {size:>8.1f} {part['fixed'] / rows[0]['fixed']:>8.2f}× "
                  f"{part['fixed_cpu']:>9.2f} {part['fixed_cpu'] / rows[0]['fixed_cpu']:>6.2f}× "
                  f"{part['merge_cpu']:>9.2f}", flush=True)
        summarise(rows, work / "jiuzhu.sqlite3")
        if options.svg:
            svg(rows, options.svg)
            print(f"curves written to {options.svg}")
        if options.keep:
            shutil.copytree(work, options.keep, dirs_exist_ok=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def summarise(rows: list[dict], store: Path) -> None:
    """The aim checked: the fixed part of the last week against the first's (each the best of
    --repeat runs, the machine being shared), the output part per 1,000 people, the store's make-up."""
    first, last = rows[0], rows[-1]
    for key, label in (("fixed", "fixed part"), ("fixed_cpu", "fixed part, CPU of the run's process"),
                       ("merge_cpu", "of which the merge, CPU"), ("with_snapshot", "fixed part and undo snapshot"),
                       ("snapshot", "undo snapshot"), ("snapshot_cpu", "undo snapshot, CPU"),
                       ("output", "output part"), ("output_cpu", "output part, CPU"), ("total", "whole run")):
        print(f"{label}: week {last['week']} {last[key]:.2f} s against week 1's {first[key]:.2f} s: "
              f"{last[key] / first[key]:.2f}×")
    print(f"output part per 1,000 people: week 1 {first['per_1k']:.3f} s, week {last['week']} {last['per_1k']:.3f} s "
          f"(roster {first['roster']:,} → {last['roster']:,})")
    print(f"store after {len(rows)} weeks: {last['store']:.1f} MB; "
          + ", ".join(f"{table} {mb:.1f}" for table, mb in store_make_up(store) if mb >= 0.05))
    kept = sum(p.stat().st_size for p in Path(f"{store}.snapshots").glob("*") if p.is_file()) / 2 ** 20
    print(f"undo snapshots beside it: {kept:.1f} MB")


if __name__ == "__main__":
    main()
