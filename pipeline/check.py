"""Check one submitted file end to end: guard → read → locate → normalise → validate.

A file-level problem gives a rejected FileReport with one Issue; a bad row never stops the
good rows; nothing here raises for a bad submission.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import pandas as pd

from pipeline import guard, read, spec
from pipeline.errors import InputFileError
from pipeline.issues import FileReport, Issue, Report
from pipeline.normalise import normalise
from pipeline.tables import Located, locate
from pipeline.validate import add_outcomes, validate

NO_HEADER = ("在文件前{rows}行中找不到明细表的表头（应有 发现方式、发现人、所属乡镇（街道）、对象姓名、"
             "家庭基本情况、疑似符合救助 等列）。请使用区民政局下发的模板填写，不要删除或改动表头行。")


def _file_issue(file: str, code: str, message: str, *, sheet=None, row=None, column=None) -> Issue:
    return Issue(code, file, sheet, row, column, "", message)


def file_township(path: Path, clean: pd.DataFrame | None, unit: str | None) -> str | None:
    """The township a file is from: its rows, else its 填报单位 row, else its file name."""
    names = {t.name for t in spec.townships()}
    if clean is not None and not clean.empty:
        counts = Counter(t for t in clean["township"] if t in names)
        if counts:
            return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
    for text in (unit, path.stem):
        if text:
            found = spec.find_township(str(text))
            if found:
                return found
    return None


def _missing_columns(file: str, located: Located) -> list[Issue]:
    table = spec.form() if located.kind == "form" else spec.visits_table()
    if located.kind == "assistants":
        table = spec.assistants_table()
    return [_file_issue(file, "missing_column",
                        f"表头中没有「{table.column(key).header}」列（必填）。"
                        "请按模板补上这一列并填写，不要删除或合并表头。",
                        sheet=located.sheet, row=located.header_row, column=table.column(key).header)
            for key in located.missing]


def _validated(report: FileReport, tables: list[Located], table: spec.Table, as_of: date):
    """(raw, clean, issues) of the same-kind tables of a file."""
    raw, clean = normalise(tables, table)
    if table.kind == "form":
        clean = add_outcomes(clean, as_of)
    headers = {(t.sheet, key): text for t in tables for key, text in t.headers.items()}
    issues = validate(raw, clean, table, file=report.file, headers=headers, as_of=as_of)
    return raw, clean, issues


def _bad_mask(clean: pd.DataFrame, issues: list[Issue]) -> pd.Series:
    bad = {(i.sheet, i.row) for i in issues}
    return pd.Series([(s, r) in bad for s, r in zip(clean["_sheet"], clean["_row"])],
                     index=clean.index, dtype=bool)


def check_file(path: Path, as_of: date | None = None) -> FileReport:
    """Read and validate one submission without touching the store.

    Example: check_file(Path("inbox/城西街道1128.xlsx"), date(2026, 11, 28)).status
    """
    as_of = as_of or date.today()
    path = Path(path)
    report = FileReport(file=path.name, path=path, sha256="")
    try:
        report.sha256 = guard.sha256(path)
        sheets = read.read_sheets(path, guard.inspect(path))
    except InputFileError as exc:
        report.errors = [_file_issue(path.name, exc.code, exc.message)]
        report.township = file_township(path, None, None)
        return report

    located = [found for found in map(locate, sheets) if found is not None]
    for hidden in (t for t in located if not t.visible and t.rows):
        report.notes.append(f"隐藏工作表「{hidden.sheet}」中有 {len(hidden.rows)} 行，未读取；"
                            "如需报送，请取消隐藏后重新发送。")
    located = [t for t in located if t.visible]
    if not located:
        limit = spec.thresholds()["header_scan_rows"]
        report.errors = [_file_issue(path.name, "no_header", NO_HEADER.format(rows=limit))]
        report.township = file_township(path, None, None)
        return report

    usable = []
    for table in located:
        missing = _missing_columns(path.name, table)
        report.errors.extend(missing)
        if not missing:
            usable.append(table)
    forms = [t for t in usable if t.kind == "form"]
    units = [t.unit for t in located if t.unit]
    dates = [t.filled_date for t in located if t.filled_date]
    report.filled_date = dates[0] if dates else None

    clean = None
    if forms:
        raw, clean, issues = _validated(report, forms, spec.form(), as_of)
        bad = _bad_mask(clean, issues)
        report.errors.extend(issues)
        report.raw = raw
        report.records = clean[~bad]
        report.rejected_rows = clean[bad]
        report.rows, report.rejected = len(clean), int(bad.sum())
        report.accepted = report.rows - report.rejected
    report.township = file_township(path, clean, units[0] if units else None)
    for kind, table, attr in (("visits", spec.visits_table(), "visits"),
                              ("assistants", spec.assistants_table(), "assistants")):
        tables = [t for t in usable if t.kind == kind]
        if tables:
            _, rows, issues = _validated(report, tables, table, as_of)
            report.errors.extend(issues)
            setattr(report, attr, rows[~_bad_mask(rows, issues)])
    if report.records is not None and report.township:
        for row, township in zip(report.records["_row"], report.records["township"]):
            if township != report.township:
                report.notes.append(f"第{row}行所属乡镇为「{township}」，与本文件（{report.township}）"
                                    f"不同，已计入{township}。")
    report.status = _status(report, bool(forms))
    return report


def _status(report: FileReport, has_form: bool) -> str:
    if any(e.file_level for e in report.errors) and not report.accepted and not has_form:
        return "rejected"
    if report.rows == 0:
        if not report.errors:
            return "empty"
        accepted_other = any(x is not None and len(x) for x in (report.visits, report.assistants))
        return "partial" if accepted_other else "rejected"
    if report.rejected == report.rows:
        return "rejected"
    return "partial" if report.errors else "accepted"


def check_files(paths: list[Path], as_of: date | None = None) -> Report:
    """Check several files; each one independently."""
    return Report([check_file(Path(p), as_of) for p in paths])
