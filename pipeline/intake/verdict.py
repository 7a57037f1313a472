"""What one file's reading comes to, once its tables are validated: its township (from its
rows, else its 填报单位, else its name), its 填报日期, the rows accepted and sent back, the
notes a person should read, and its status (accepted, partial, rejected or empty).
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, timedelta
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from pipeline.model import DOCUMENT_KINDS, FileReport
from pipeline.rules import dates, townships

if TYPE_CHECKING:
    import pandas as pd

KIND_LABELS = {"form": "明细表", "visits": "走访记录", "assistants": "协理员名册"}
# Dates in file names, most explicit first: 20261128 / 2026-11-28 / 2026年11月28日, 11月28日, 1128.
_NAME_DATES = (re.compile(r"(?<!\d)(20\d\d)[-._年]?(\d\d?)[-._月]?(\d\d?)(?!\d)"),
               re.compile(r"(?<!\d)()(\d\d?)月(\d\d?)[日号]"),
               re.compile(r"(?<!\d)()(\d\d)(\d\d)(?!\d)"))

def name_stems(file: str) -> list[str]:
    """A file's name without its suffix, then, for a member of an archive, the archive's:
    城西街道.zip/附件1128.xlsx → ["附件1128", "城西街道"]."""
    path = PurePosixPath(file)
    return [path.stem] + ([PurePosixPath(path.parts[0]).stem] if len(path.parts) > 1 else [])


def file_township(file: str, clean: pd.DataFrame | None, unit: str | None) -> str | None:
    """The township a file is from: its rows, else its 填报单位 row, else its file name."""
    names = {t.name for t in townships.listed()}
    if clean is not None and not clean.empty:
        counts = Counter(t for t in clean["township"] if t in names)
        if counts:
            return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
    return named_township(file, unit)


def named_township(file: str, unit: str | None) -> str | None:
    """The township a file's 填报单位 row, else its file name (or its archive's), names."""
    for text in (unit, *name_stems(file)):
        if text:
            found = townships.named_in(str(text))
            if found:
                return found
    return None

def _split_bad(rows):
    """(good rows, bad rows); without a copy when all are good, as most files' rows are."""
    bad = rows["_bad"].to_numpy(dtype=bool)
    if not bad.any():
        return rows, rows.iloc[:0]
    return rows[~bad], rows[bad]


def date_in_name(stem: str, as_of: date) -> date | None:
    """The date a file's name gives (城西1128, 附件20261128, 城西11月28日), within the year
    before `as_of` (the quarter, for a date without its year); None when it gives none, or several."""
    found = set()
    for pattern in _NAME_DATES:
        for match in pattern.finditer(stem):
            year, month, day = (int(g) if g else None for g in match.groups())
            for y in ([year] if year else [as_of.year, as_of.year - 1]):
                try:
                    day_named = date(y, month, day)
                except ValueError:
                    continue
                if timedelta(0) <= as_of - day_named <= timedelta(days=366 if year else 92):
                    found.add(day_named)
                    break
        if found:
            break
    return found.pop() if len(found) == 1 else None


def finish(report: FileReport, unit: str | None, kinds: set[str], validated: dict[str, tuple | None],
           as_of: date) -> FileReport:
    """The file's verdict once its tables (of `kinds`) are validated: its rows split into
    accepted and rejected, its township and sender, its 填报日期, its notes and status."""
    filled_on = _iso(report.filled_date)
    if filled_on and filled_on > as_of.isoformat():
        report.notes.append(f"填报日期 {filled_on} 晚于 {as_of.isoformat()}（本次检查或汇总的日期），"
                            "可能年份或月份填错了；汇总时不按这个日期判断先后，请改正后再报送。")
        report.filled_date = filled_on = None
    if not filled_on:  # no 填报日期 row (a CSV never has one): the date in the file's name
        report.filled_date = next((d for stem in name_stems(report.file) if (d := date_in_name(stem, as_of))), None)
        filled_on = _iso(report.filled_date)
    report.filled_on = filled_on
    clean = None
    if validated.get("form"):
        raw, clean, issues = validated["form"]
        report.errors.extend(issues)
        report.tables.raw = raw
        report.tables.records, report.tables.rejected_rows = _split_bad(clean)
        report.rows, report.rejected = len(clean), len(report.rejected_rows)
        report.accepted = report.rows - report.rejected
    report.township = file_township(report.file, clean, unit)
    named = named_township(report.file, unit)
    if named and report.township and named != report.township:
        # 舟白街道 sends the people it found of 冯家街道: their rows, but 舟白's report of the week.
        report.sender = named
        report.notes.append(f"本文件{'填报单位' if unit and townships.named_in(unit) else '文件名'}"
                            f"为{named}，但表中人员属于{report.township}，按{report.township}的人员汇总；"
                            f"{named}本周按已报送计。")
    for kind in ("visits", "assistants"):
        if validated.get(kind):
            raw, rows, issues = validated[kind]
            if kind == "visits":  # the merge may send good rows back too (a visit to no one on the roster)
                report.tables.raw_visits = raw
            report.errors.extend(issues)
            good, bad = _split_bad(rows)
            setattr(report.tables, kind, good)
            if len(bad):
                report.other_rejected[KIND_LABELS[kind]] = len(bad)
    if report.records is not None and report.township:
        document = report.kind in DOCUMENT_KINDS  # a row is found in its table: 表格2第5行
        for sheet, row, township in zip(report.records["_sheet"], report.records["_row"], report.records["township"]):
            if township != report.township:
                report.notes.append(f"{sheet if document else ''}第{row}行所属乡镇为「{township}」，与本文件（{report.township}）"
                                    f"不同，已计入{township}。")
    report.has_form = "form" in kinds
    if not report.has_form and "visits" in kinds:
        report.notes.append("本文件只有走访记录，没有明细表。每周的明细表请另行报送（本周没有新发现对象的，报送只有表头的"
                            "空表，即零报告），否则本乡镇（街道）会被列为本周未报送。")
    if report.township is None and not report.errors and report.has_form:
        report.notes.append("看不出是哪个乡镇（街道）报送的：请在“填报单位”一栏填写乡镇（街道）名称，或在文件名中写明"
                            "（如 城西街道1127零报告.xlsx），否则区民政局无法把这份报表计入你乡镇（街道）。")
    report.status = status(report)
    if not report.errors:
        report.tables.raw = None  # the cells as typed serve only feedback workbooks, for files with problems
    return report


def _iso(filled) -> str | None:
    """填报日期 (a date, or text as written) as an ISO date; None when it cannot be read."""
    parsed = dates.parse_date(filled) if filled else None
    return parsed.isoformat() if parsed else None


def status(report: FileReport) -> str:
    """accepted, partial, rejected or empty (duplicate is decided by the run, not here).

    A form without rows is a zero report (empty); a file of visits or assistants only is
    judged on those rows.
    """
    other = sum(len(x) for x in (report.visits, report.assistants) if x is not None)
    if report.rows == 0:
        if not report.errors:
            return "empty" if report.has_form or not other else "accepted"
        return "partial" if other else "rejected"
    if report.rejected == report.rows:
        return "rejected"
    return "partial" if report.errors else "accepted"
