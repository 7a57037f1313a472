"""Speed and memory of the weekly `jiuzhu run`, against a bare python_calamine read of the same files.

    python benchmarks/bench_run.py [--rows 300] [--repeat 3] [--stress-rows 10000] [--stress-repeat 1]
                                   [--skip-stress] [--profile]

Two inboxes of 30 township workbooks (synth.make_district, xlsx): a district week of 30 × --rows
rows and a stress case of 30 × --stress-rows rows. For each, the whole `jiuzhu run` process,
Python start included, on a fresh copy of the inbox and a fresh outbox and store (a run moves
its files to inbox/archive): wall time, peak RSS of that process (os.wait4), rows/s, and the
ratio to a bare read of the same files in this process.
Aims: district week < 3 s; stress < 60 s and < 2 GB.
--profile also runs the district week in-process, in one process (JIUZHU_WORKERS=1): time per
stage of the run, then the top of a pyinstrument profile (pip install -e '.[bench]').
Timings are the best of the repeats; the machine is shared, so compare ratios.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from baseline import bare_read, best

from pipeline.demo import synth

AS_OF = date(2026, 11, 28)
WEEK_AIM_S = 3.0
STRESS_AIM_S = 60.0
STRESS_AIM_MB = 2048
PROFILE_LINES = 60

# What a run imports besides the CLI, to price Python start apart from the work.
RUN_IMPORTS = ("import pipeline.cli, pipeline.run, pipeline.reports.build, pipeline.reports.feedback, pipeline.reports.ledger, "
               "pipeline.reports.summary, pipeline.reports.visit_gaps, pipeline.reports.reminders, pipeline.console")


@dataclass
class Measure:
    """Best wall time, and the largest memory over the repeats of one whole process: `rss_mb` is
    the peak RSS of its largest process (os.wait4), `tree_mb` the peak of the proportional set
    size (PSS) summed over the run and the children it forks, as TreeMemory samples it."""

    seconds: float
    rss_mb: float
    tree_mb: float = 0.0


def _tree_pss_kb(pid: int) -> int:
    """PSS of a process and its descendants, in KiB (shared pages counted once overall)."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            rollup = Path(f"/proc/{current}/smaps_rollup").read_text()
            total += int(next(line.split()[1] for line in rollup.splitlines() if line.startswith("Pss:")))
            todo.extend(map(int, Path(f"/proc/{current}/task/{current}/children").read_text().split()))
        except (OSError, StopIteration, ValueError):
            continue
    return total


class TreeMemory:
    """Samples the PSS of a process tree in a thread until stopped; `peak_mb` is the largest sum seen.

    Reading smaps_rollup walks a process's page tables: some 10 ms for a 1.5 GB process,
    taken from the two cores the run has. So the pause between samples is at least nine
    times the last sample's cost, which keeps the sampler under a tenth of one core (sampling
    every 20 ms had slowed the stress run from about 107 s to 140 s).
    """

    def __init__(self, pid: int):
        self.pid, self.peak_kb = pid, 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self) -> None:
        pause = 0.02
        while not self.done.wait(pause):
            start = time.perf_counter()
            self.peak_kb = max(self.peak_kb, _tree_pss_kb(self.pid))
            pause = max(0.02, 9 * (time.perf_counter() - start))

    def stop(self) -> float:
        self.done.set()
        self.thread.join()
        return self.peak_kb / 1024


def generate(inbox: Path, rows: int, seed: int) -> list[Path]:
    """make_district in a worker thread, so that a slow stress inbox prints how far it has got."""
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(synth.make_district, inbox, rows_per_township=rows, seed=seed, as_of=AS_OF,
                             fmt="xlsx")
        while True:
            try:
                made = future.result(timeout=15)
                break
            except FutureTimeout:
                done = sum(1 for p in inbox.iterdir() if p.suffix == ".xlsx") if inbox.exists() else 0
                print(f"  generating 30 × {rows} rows: {done} workbooks written, "
                      f"{time.perf_counter() - start:.0f} s", flush=True)
    print(f"  generated {len(made)} workbooks × {rows} rows in {time.perf_counter() - start:.0f} s", flush=True)
    return [s.path for s in made]


def jiuzhu() -> str:
    return shutil.which("jiuzhu") or str(Path(sys.executable).with_name("jiuzhu"))


def timed_process(command: list[str], log: Path) -> Measure:
    """Wall time and peak memory of one child; os.wait4 gives the rusage of that child alone
    (with the children it waited for, the largest of them)."""
    with log.open("wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        tree = TreeMemory(proc.pid)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        tree_mb = tree.stop()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited with {proc.returncode}:\n"
                         + log.read_text(encoding="utf-8", errors="replace")[-3000:])
    return Measure(seconds, usage.ru_maxrss / 1024, tree_mb)  # ru_maxrss is in KiB on Linux


def run_process(source: Path, work: Path, repeat: int) -> Measure:
    """Best of `repeat` whole `jiuzhu run` processes, each on a fresh inbox, outbox and store."""
    runs = []
    for n in range(repeat):
        trial = work / f"trial{n}"
        shutil.copytree(source, trial / "inbox")
        runs.append(timed_process([jiuzhu(), "run", "--inbox", str(trial / "inbox"), "--outbox",
                                   str(trial / "outbox"), "--store", str(trial / "jiuzhu.sqlite3"),
                                   "--as-of", AS_OF.isoformat()], trial / "run.log"))
        shutil.rmtree(trial)
        print(f"  run {n + 1}/{repeat}: {runs[-1].seconds:.2f} s, {runs[-1].rss_mb:.0f} MB "
              f"(all processes {runs[-1].tree_mb:.0f} MB PSS)", flush=True)
    return Measure(min(r.seconds for r in runs), max(r.rss_mb for r in runs), max(r.tree_mb for r in runs))


def startup(work: Path, repeat: int) -> Measure:
    """Python start plus every import a run needs, and no work."""
    return min((timed_process([sys.executable, "-c", RUN_IMPORTS], work / "start.log") for _ in range(repeat)),
               key=lambda m: m.seconds)


def case(label: str, work: Path, rows: int, repeat: int, seed: int, aim_s: float, aim_mb: float | None) -> None:
    print(f"{label}: 30 townships × {rows} rows", flush=True)
    inbox = work / f"{label}-source"
    paths = generate(inbox, rows, seed)
    bare = best(bare_read, paths, max(repeat, 1))
    whole = run_process(inbox, work, repeat)
    total = 30 * rows
    mem_aim = f" (aim < {aim_mb / 1024:.0f} GB)" if aim_mb else ""
    print(f"{label}: whole `jiuzhu run` {whole.seconds:.2f} s (aim < {aim_s:.0f} s), "
          f"peak RSS {whole.rss_mb:.0f} MB, all processes {whole.tree_mb:.0f} MB PSS{mem_aim}, "
          f"{total / whole.seconds:,.0f} rows/s; "
          f"bare calamine read {bare * 1000:.0f} ms, ratio {whole.seconds / bare:.1f}×", flush=True)


def stage_times(inbox: Path, work: Path) -> tuple[dict[str, float], float]:
    """Seconds per stage of one in-process run, by wrapping the functions run.py calls."""
    from pipeline import run
    from pipeline.intake import check
    from pipeline.reports import build as outputs
    from pipeline.reports import feedback, ledger, reminders, summary
    from pipeline.reports import visit_gaps as visit_report
    from pipeline.roster import merge, visits

    stages = {
        "read (guard, calamine, locate)": [(check, "_read")],
        "normalise + validate": [(check, "_validate_kind")],
        "merge into store": [(merge, "apply_rows"), (merge, "save_roster"), (visits, "save_visits"),
                             (merge, "save_rejected"), (merge, "save_assistants")],
        "classify (roster, gaps, scorecard)": [(outputs, "classify_all")],
        "feedback workbooks": [(feedback, "write_feedback")],
        "ledger workbook": [(ledger, "write_ledger")],
        "visit gaps + overdue workbooks": [(visit_report, "write_gaps"), (reminders, "write_reminders")],
        "summary report (html)": [(summary, "write_summary")],
        "publish (move files)": [(run, "_publish")],
    }
    spent: dict[str, float] = defaultdict(float)
    originals = []

    def timer(stage, fn):
        def wrapped(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[stage] += time.perf_counter() - start
        return wrapped

    for stage, targets in stages.items():
        for module, name in targets:
            originals.append((module, name, getattr(module, name)))
            setattr(module, name, timer(stage, getattr(module, name)))
    try:
        start = time.perf_counter()
        run.run(inbox, work / "outbox", work / "jiuzhu.sqlite3", AS_OF)
        total = time.perf_counter() - start
    finally:
        for module, name, fn in originals:
            setattr(module, name, fn)
    return {stage: spent[stage] for stage in stages}, total


def profile(source: Path, work: Path) -> None:
    # One process, so that every stage is timed where it runs (a forked child's time would be lost).
    saved = os.environ.get("JIUZHU_WORKERS")
    os.environ["JIUZHU_WORKERS"] = "1"
    try:
        _profile(source, work)
    finally:
        if saved is None:
            del os.environ["JIUZHU_WORKERS"]
        else:
            os.environ["JIUZHU_WORKERS"] = saved


def _profile(source: Path, work: Path) -> None:
    from pyinstrument import Profiler

    from pipeline import run

    warm = work / "warm"
    shutil.copytree(source, warm / "inbox")
    stage_times(warm / "inbox", warm)  # imports and caches once, as the process pays before the work
    fresh = work / "stages"
    shutil.copytree(source, fresh / "inbox")
    stages, total = stage_times(fresh / "inbox", fresh)
    print(f"district week in-process (warm imports, one process): {total:.2f} s; by stage:")
    for stage, seconds in stages.items():
        print(f"  {stage:<36} {seconds:6.2f} s  {seconds / total:5.1%}")
    rest = total - sum(stages.values())
    print(f"  {'other (lock, sha256, SQL, commit)':<36} {rest:6.2f} s  {rest / total:5.1%}")

    profiled = work / "profiled"
    shutil.copytree(source, profiled / "inbox")
    profiler = Profiler()
    profiler.start()
    run.run(profiled / "inbox", profiled / "outbox", profiled / "jiuzhu.sqlite3", AS_OF)
    profiler.stop()
    # Frames under 3 % of the run are left out, so that the whole run fits on a screen.
    text = profiler.output_text(unicode=True, color=False, show_all=False,
                                processor_options={"filter_threshold": 0.03})
    lines = text.splitlines()
    print("\n".join(lines[:PROFILE_LINES]))
    if len(lines) > PROFILE_LINES:
        print(f"  … {len(lines) - PROFILE_LINES} more lines")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300, help="rows per township in the district week")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--stress-rows", type=int, default=10_000)
    parser.add_argument("--stress-repeat", type=int, default=1)
    parser.add_argument("--skip-stress", action="store_true")
    parser.add_argument("--profile", action="store_true", help="profile the district week in-process")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="jiuzhu-bench-run-"))
    try:
        start = startup(work, args.repeat)
        print(f"Python start + imports of a run: {start.seconds:.2f} s, {start.rss_mb:.0f} MB", flush=True)
        case("week", work, args.rows, args.repeat, seed=1, aim_s=WEEK_AIM_S, aim_mb=None)
        if args.profile:
            profile(work / "week-source", work)
        if not args.skip_stress:
            case("stress", work, args.stress_rows, args.stress_repeat, seed=2, aim_s=STRESS_AIM_S,
                 aim_mb=STRESS_AIM_MB)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
