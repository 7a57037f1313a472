"""Issue 18's figures, before and after, in one run: a base revision and the working tree, the
same files, each baseline measured in the same run (the machine is shared: compare ratios).

    python benchmarks/bench_scale.py [BASE] [--data DIR] [--repeat 3] [--skip-stress] [--only CASE …]

BASE (default 764c637) is exported with `git archive` (as same_outputs.py does); each side runs
as `python -m pipeline` with PYTHONPATH=<its tree> and its byte code compiled by an untimed
first run. The inputs (30 townships × 300 rows, seed 1; 30 × 10,000 rows, seed 2; xlsx) are
written once into --data and reused by later runs. Rows of the table:
- week: the whole `run` process on a fresh copy of the inbox, store and outbox (best of
  --repeat); baselines, each a whole process too: a bare python-calamine read of the 30
  files, and the obvious pandas + openpyxl script (read each file, concat, one unstyled sheet);
- week peak RSS: the largest process of the run (os.wait4), MB (aim < 150);
- stress: the whole `run` process once, seconds and peak RSS (aim ≤ 10× the bare read, < 1 GB);
- check: `check_files` in-process on the week's 30 files against a bare read in that process
  (aim ≤ 2×);
- imports: `import pandas, pandera.pandas` and `python -c pass`, the floor of any run.
--only week|check|stress measures just those cases (the imports always).
--phases: the week once more per side through bench_year's wrapper, best of --repeat, split into
its parts (start-up, check, merge, standing, outputs, the rest to exit), to see where a run's
seconds go against the floor of the imports.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from bench_year import run_week as phased_week
from same_outputs import export

ROOT = Path(__file__).resolve().parent.parent
AS_OF = "2026-11-28"
CASES = {"week": (300, 1), "stress": (10_000, 2)}
GENERATE = """
import sys, datetime, pathlib
from pipeline.demo import synth
synth.make_district(pathlib.Path(sys.argv[1]), rows_per_township=int(sys.argv[2]), seed=int(sys.argv[3]),
                    as_of=datetime.date.fromisoformat(sys.argv[4]), fmt="xlsx")
"""
BARE = """
import sys, pathlib
sys.path.insert(0, sys.argv[1])
from baseline import bare_read
bare_read(sorted(pathlib.Path(sys.argv[2]).iterdir()))
"""
OBVIOUS = """
import sys, pathlib
import pandas as pd
frames = [pd.read_excel(p, engine="openpyxl") for p in sorted(pathlib.Path(sys.argv[1]).iterdir())]
pd.concat(frames).to_excel(sys.argv[2], index=False, engine="openpyxl")
"""
CHECK = """
import sys, time, pathlib, datetime
sys.path.insert(0, sys.argv[1])
from baseline import bare_read, best
from pipeline.intake.check import check_files
paths = sorted(pathlib.Path(sys.argv[2]).iterdir())
day = datetime.date.fromisoformat(sys.argv[3])
check_files(paths, day)  # imports and caches once
print(best(lambda ps: check_files(ps, day), paths, int(sys.argv[4])), best(bare_read, paths, int(sys.argv[4])))
"""


class Side:
    """One tree, with its own byte-code cache."""

    def __init__(self, label: str, root: Path, scratch: Path):
        self.label, self.root = label, root
        env = {k: v for k, v in os.environ.items() if not k.startswith("JIUZHU_") and k != "PYTHONDONTWRITEBYTECODE"}
        self.env = {**env, "PYTHONPATH": str(root), "PYTHONPYCACHEPREFIX": str(scratch / f"pycache-{label}")}


def timed(command: list[str], env: dict, cwd: Path | None = None) -> tuple[float, float]:
    """(wall seconds, peak RSS MB of the largest process) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    err = proc.stderr.read()
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"{' '.join(command)} failed:\n{err.decode('utf-8', 'replace')[-3000:]}")
    return seconds, usage.ru_maxrss / 1024


def best_of(repeat: int, fn) -> tuple[float, float]:
    results = [fn() for _ in range(repeat)]
    return min(r[0] for r in results), max(r[1] for r in results)


def run_week(side: Side, inbox: Path, work: Path) -> tuple[float, float]:
    trial = work / "trial"
    shutil.rmtree(trial, ignore_errors=True)
    shutil.copytree(inbox, trial / "inbox")
    try:
        return timed([sys.executable, "-m", "pipeline", "run", "--inbox", str(trial / "inbox"), "--outbox",
                      str(trial / "outbox"), "--store", str(trial / "jiuzhu.sqlite3"), "--as-of", AS_OF],
                     side.env, cwd=trial)
    finally:
        shutil.rmtree(trial, ignore_errors=True)


PARTS = ("start", "check", "merge", "standing", "outputs", "rest", "total")


def print_phases(sides: list[Side], inbox: Path, scratch: Path, repeat: int) -> None:
    """The week's run per side in parts (bench_year.split), wall seconds, its fastest of `repeat`."""
    print(f"\nweek 30×300 by part (s): {', '.join(PARTS)}")
    for side in sides:
        best = None
        for _ in range(repeat):
            where = scratch / "phases"
            shutil.rmtree(where, ignore_errors=True)
            shutil.copytree(inbox, where / "inbox")
            part = phased_week(side.env, where, date.fromisoformat(AS_OF))[1]
            best = part if best is None or part["total"] < best["total"] else best
        rest = best["total"] - sum(best[k] for k in PARTS[:5])
        print(f"{side.label:<14}" + "".join(f"{k} {rest if k == 'rest' else best[k]:.2f}  " for k in PARTS))
    print("rest: the undo snapshot, the letters drafted, the moves, COMMIT and exit; and the packets where a\n"
          "tree writes them after build (before parallel.share)")


def inputs(data: Path) -> dict[str, Path]:
    folders = {}
    for name, (rows, seed) in CASES.items():
        folder = data / name
        if not folder.is_dir() or len(list(folder.iterdir())) < 30:
            shutil.rmtree(folder, ignore_errors=True)
            print(f"writing {name}: 30 × {rows} rows into {folder}", flush=True)
            subprocess.run([sys.executable, "-c", GENERATE, str(folder), str(rows), str(seed), AS_OF], check=True,
                           env={**os.environ, "PYTHONPATH": str(ROOT)})
        folders[name] = folder
    return folders


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", nargs="?", default="764c637")
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "jiuzhu-bench-scale")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-stress", action="store_true")
    parser.add_argument("--only", nargs="+", choices=("week", "check", "stress"), default=("week", "check", "stress"))
    parser.add_argument("--phases", action="store_true", help="the week's run split into its parts, per side")
    args = parser.parse_args()
    if args.skip_stress:
        args.only = [case for case in args.only if case != "stress"]
    data = inputs(args.data)
    here = Path(__file__).resolve().parent
    scratch = Path(tempfile.mkdtemp(prefix="jiuzhu-bench-scale-"))
    try:
        (scratch / "base").mkdir()
        sha = export(args.base, scratch / "base")
        sides = [Side(f"base {sha[:7]}", scratch / "base", scratch), Side("this tree", ROOT, scratch)]
        plain = {k: v for k, v in os.environ.items() if not k.startswith("JIUZHU_")}
        rows: list[tuple[str, list[float], float, str]] = []  # case, per side, baseline, baseline name
        for side in sides:  # compile byte code, untimed
            run_week(side, data["week"], scratch)
        if "week" in args.only:
            bare = best_of(args.repeat, lambda: timed([sys.executable, "-c", BARE, str(here), str(data["week"])],
                                                      plain))
            obvious = best_of(args.repeat, lambda: timed([sys.executable, "-c", OBVIOUS, str(data["week"]),
                                                          str(scratch / "obvious.xlsx")], plain))
            weeks = [best_of(args.repeat, lambda s=side: run_week(s, data["week"], scratch)) for side in sides]
            rows.append(("week 30×300, whole run (s)", [w[0] for w in weeks], bare[0], "bare calamine read, process"))
            rows.append(("week 30×300, whole run (s)", [w[0] for w in weeks], obvious[0], "pandas+openpyxl script"))
            rows.append(("week peak RSS (MB)", [w[1] for w in weeks], 150, "aim"))
        if "check" in args.only:
            checks = []
            for side in sides:
                out = subprocess.run([sys.executable, "-c", CHECK, str(here), str(data["week"]), AS_OF,
                                      str(args.repeat)], env=side.env, capture_output=True, text=True,
                                     check=True, cwd=scratch).stdout.split()  # not the checkout: -c puts cwd first
                checks.append((float(out[0]), float(out[1])))
            rows.append(("check 30×300 in-process (s)", [c[0] for c in checks], min(c[1] for c in checks),
                         "bare read, same process"))
        floor = best_of(args.repeat, lambda: timed([sys.executable, "-c", "import pandas, pandera.pandas"], plain))
        nothing = best_of(args.repeat, lambda: timed([sys.executable, "-c", "pass"], plain))
        if "stress" in args.only:
            stress_bare = best_of(1, lambda: timed([sys.executable, "-c", BARE, str(here), str(data["stress"])], plain))
            stress = [run_week(side, data["stress"], scratch) for side in sides]
            rows.append(("stress 30×10000, whole run (s)", [s[0] for s in stress], stress_bare[0],
                         "bare calamine read, process"))
            rows.append(("stress peak RSS (MB)", [s[1] for s in stress], 1024, "aim"))
        print(f"\n{'case':<32}{sides[0].label:>14}{sides[1].label:>12}  {'baseline':<30}{'':>9}"
              f"{'base ratio':>11}{'ratio now':>11}")
        for label, values, base, name in rows:
            print(f"{label:<32}{values[0]:>14.2f}{values[1]:>12.2f}  {name:<30}{base:>9.2f}"
                  f"{values[0] / base:>10.2f}×{values[1] / base:>10.2f}×")
        print(f"{'imports (s)':<32}{'':>26}  {'pandas + pandera.pandas':<30}{floor[0]:>9.2f}")
        print(f"{'':<32}{'':>26}  {'python -c pass':<30}{nothing[0]:>9.3f}")
        if args.phases:
            print_phases(sides, data["week"], scratch, args.repeat)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
