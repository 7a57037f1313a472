"""`jiuzhu demo`: three weeks of fictitious submissions from every township, run through
the whole pipeline, so that the bureau can see every output before using real data.

The last week has what a real Monday has: a few files with mistakes, a zero report, a
township that is late, a Word/PDF file sent by mistake, and an assistants' roster.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from pipeline.demo import synth
from pipeline.errors import JiuzhuError
from pipeline.rules import townships
from pipeline.run import RunResult, run

MARKER = ".jiuzhu-demo"
# (weeks before the run date, people per township, townships left out that week)
WEEKS = ((2, 12, 2), (1, 6, 4), (0, 8, 3))
MISTAKES = {"required": 1, "invalid_value": 1, "invalid_id": 1, "invalid_date": 1, "duplicate_row": 1,
            "inconsistent_result": 1}


def _prepare(folder: Path) -> None:
    if folder.exists() and any(folder.iterdir()):
        if not (folder / MARKER).exists():
            raise JiuzhuError(f"文件夹 {folder} 已有其他内容，演示不会覆盖它。请换一个新的文件夹名，如 jiuzhu demo 演示数据。")
        shutil.rmtree(folder)
    (folder / "inbox").mkdir(parents=True)
    (folder / MARKER).write_text("jiuzhu demo\n", encoding="utf-8")


def _week(inbox: Path, as_of: date, people: int, left_out: int, seed: int, last: bool) -> None:
    names = [t.name for t in townships.listed()]
    late = names[seed * 7 % len(names):][:left_out] if left_out else []
    sending = [n for n in names if n not in late]
    errors = {}
    if last:
        zero, wrong_file = sending[-1], sending[-2]
        sending = sending[:-2]
        for township, codes in zip(sending[1::9], (MISTAKES, {"invalid_id": 2}, {"required": 1, "invalid_value": 2})):
            errors[township] = codes
    synth.make_district(inbox, rows_per_township=people, seed=seed, as_of=as_of, townships=sending,
                        errors=errors, fmt="mixed")
    if last:
        synth.write_zero_report(inbox / f"{zero}零报告{as_of:%m%d}.xlsx", zero, filled_date=as_of)
        (inbox / f"{wrong_file}社会救助情况说明.pdf").write_bytes(b"%PDF-1.4\n% jiuzhu demo\n%%EOF\n")
        synth.write_assistants(inbox / f"{sending[0]}协理员名册.xlsx", sending[0], seed=seed, missing=1)


def run_demo(folder: Path, as_of: date, *, on_file: Callable | None = None) -> RunResult:
    """Write three weeks of submissions into folder/inbox and run each week; the last run's result.

    Example: run_demo(Path("jiuzhu-demo"), date(2026, 11, 28)).outdir
    """
    folder = Path(folder)
    _prepare(folder)
    inbox, outbox, store = folder / "inbox", folder / "outbox", folder / "jiuzhu.sqlite3"
    result = None
    for seed, (weeks_before, people, left_out) in enumerate(WEEKS, start=1):
        week = as_of - timedelta(weeks=weeks_before)
        last = weeks_before == 0
        _week(inbox, week, people, left_out, seed, last)
        result = run(inbox, outbox, store, week, yes=True, on_file=on_file if last else None)  # synthetic data
    return result
