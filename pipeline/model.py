"""Problems are data: one Issue per bad cell or bad file, collected per file and per check.

The same objects feed the terminal table, `check --json`, run-report.json, the feedback
workbooks, the store and the tests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

FILE_CODES = ("unreadable", "encrypted", "too_large", "no_header", "missing_column", "unsupported_type")
ROW_CODES = ("required", "invalid_value", "invalid_date", "invalid_id", "duplicate_row", "inconsistent_result")

# How a code reads in a summary table.
CODE_LABELS = {
    "unreadable": "文件无法读取",
    "encrypted": "文件有密码",
    "too_large": "文件过大",
    "no_header": "找不到表头",
    "missing_column": "缺少必填列",
    "unsupported_type": "文件类型不支持",
    "required": "必填项为空",
    "invalid_value": "内容不符合规定",
    "invalid_date": "日期有误",
    "invalid_id": "身份证号码有误",
    "duplicate_row": "同一人重复填报",
    "inconsistent_result": "办理结果不一致",
}

STATUS_LABELS = {
    "accepted": "全部通过",
    "partial": "部分退回",
    "rejected": "退回",
    "duplicate": "重复文件",
    "empty": "零报告",
}


@dataclass(frozen=True)
class Issue:
    """One problem: where it is (file, sheet, Excel row, column header), what, and what to do."""

    code: str
    file: str
    sheet: str | None
    row: int | None
    column: str | None
    value: str
    message: str

    @property
    def file_level(self) -> bool:
        return self.code in FILE_CODES

    def to_dict(self) -> dict[str, Any]:
        """The docs/design.md §6 error object (the file is named by the enclosing file object)."""
        return {"sheet": self.sheet, "row": self.row, "column": self.column, "value": self.value,
                "code": self.code, "message": self.message}


# A table of a Word document or web page is the sheet 表格N (intake/document.py).
_DOCUMENT_TABLE = re.compile(r"表格\d+")
DOCUMENT_KINDS = frozenset({"docx", "doc", "wps", "rtf", "html"})


def sheet_place(sheet: str) -> str:
    """How a person finds a sheet: 工作表「明细表」, or 表格2 (a table of a document)."""
    return sheet if _DOCUMENT_TABLE.fullmatch(sheet) else f"工作表「{sheet}」"


def rows_text(rows: list[int], shown: int = 5) -> str:
    """Excel rows for a note: 4、7、9, or the first `shown` of them and 等."""
    return "、".join(map(str, rows[:shown])) + ("等" if len(rows) > shown else "")


@dataclass
class Tables:
    """The rows the reader found in a file, for the merge and the feedback workbook; none of
    them is serialised. Each frame carries `_sheet` and `_row` (the Excel row a person sees)."""

    records: pd.DataFrame | None = None        # accepted form rows, normalised, with their outcome
    rejected_rows: pd.DataFrame | None = None  # form rows that failed, normalised
    raw: pd.DataFrame | None = None            # form rows as typed (only for a file with problems)
    visits: pd.DataFrame | None = None         # accepted 走访记录 rows
    raw_visits: pd.DataFrame | None = None     # 走访记录 rows as typed; after the merge, only those sent back
    assistants: pd.DataFrame | None = None     # 协理员名册 rows


@dataclass
class FileReport:
    """One submitted file: what the reader found in it, and what became of it.

    The reader (intake/) fills everything but `feedback`: the file's township, its rows and
    their verdict, its problems and notes, its 填报日期, and its rows in `tables`. The run
    (roster/ingest.py) may add problems found at the merge (a 走访记录 row naming no one on
    the roster) and the status follows; reports/build.py names the `feedback` workbook.

    `path` is the inbox file, what the run archives; a workbook unpacked from a .zip is a
    report of its own, named `file` 城西街道.zip/城西街道1128.xlsx, whose `path` is the archive.
    """

    file: str
    path: Path
    sha256: str
    status: str = "rejected"
    township: str | None = None
    sender: str | None = None  # the township its 填报单位 or name gives, when its rows are another's
    returned: bool = False  # a 退回意见 workbook sent back: the rows that were rejected, corrected
    rows: int = 0
    accepted: int = 0
    rejected: int = 0
    errors: list[Issue] = field(default_factory=list)
    feedback: str | None = None
    notes: list[str] = field(default_factory=list)
    filled_date: str | date | None = None  # 填报日期 as written (or as the file's name gives it)
    filled_on: str | None = None  # the same as an ISO date, when it can be read and is not after the run
    has_form: bool = False  # a sheet with the form's header was read (a zero report has one)
    other_rejected: dict[str, int] = field(default_factory=dict)  # bad rows of 走访记录 / 协理员名册
    kind: str | None = None  # what guard found it to be: xlsx, csv, docx, html … (DOCUMENT_KINDS: 表格N)
    tables: Tables = field(default_factory=Tables)

    # The reader's tables, read as the report's own (report.records, report.visits …).
    records = property(lambda self: self.tables.records)
    rejected_rows = property(lambda self: self.tables.rejected_rows)
    raw = property(lambda self: self.tables.raw)
    visits = property(lambda self: self.tables.visits)
    assistants = property(lambda self: self.tables.assistants)

    def release(self) -> None:
        """Drop the tables once merged; `raw` (kept by check only for a file with problems)
        and the 走访记录 rows sent back stay for its feedback workbook."""
        self.tables = Tables(raw=self.tables.raw, raw_visits=self.visits_sent_back())

    def visits_sent_back(self) -> pd.DataFrame | None:
        """The 走访记录 rows as typed that a problem names (at check, or at the merge: visits to
        nobody on the roster); None when there are none."""
        typed = self.tables.raw_visits
        if typed is None:
            return None
        named = {(e.sheet, e.row) for e in self.errors if not e.file_level}
        keep = [(s, int(r)) in named for s, r in zip(typed["_sheet"], typed["_row"])]
        return typed[keep] if any(keep) else None

    @property
    def valid(self) -> bool:
        return not self.errors and self.status in ("accepted", "empty", "duplicate")

    def to_dict(self) -> dict[str, Any]:
        """The docs/design.md §6 per-file object, keys in the documented order."""
        return {"file": self.file, "sha256": self.sha256, "status": self.status,
                "township": self.township, "rows": self.rows, "accepted": self.accepted,
                "rejected": self.rejected, "errors": [e.to_dict() for e in self.errors],
                "feedback": self.feedback}


@dataclass
class Report:
    """The files of one check or run, with the questions every caller asks of them."""

    files: list[FileReport]

    @property
    def valid(self) -> bool:
        return all(f.valid for f in self.files)

    @property
    def issues(self) -> list[Issue]:
        return [e for f in self.files for e in f.errors]

    @property
    def stats(self) -> dict[str, int]:
        out = {"files": len(self.files), "rows": 0, "accepted": 0, "rejected": 0, "errors": 0}
        for f in self.files:
            out["rows"] += f.rows
            out["accepted"] += f.accepted
            out["rejected"] += f.rejected
            out["errors"] += len(f.errors)
        for status in STATUS_LABELS:
            out[f"files_{status}"] = sum(f.status == status for f in self.files)
        return out

    def flatten(self, fields: list[str]) -> list[list[Any]]:
        """The issues as rows of the named Issue fields, for tables and golden tests."""
        return [[getattr(issue, name) for name in fields] for issue in self.issues]

    def to_list(self) -> list[dict[str, Any]]:
        return [f.to_dict() for f in self.files]


def sent_unread(report: dict) -> list[str]:
    """Townships of run-report.json's missing_townships that did send something this week: a file
    that could not be read, or one without the form (visits or the assistants' roster only). They
    are still missing (the form is what counts), but "没有收到" would be untrue: they need to send again."""
    sent = {f["township"] for f in report["files"] if f.get("township")}
    return [t for t in report["missing_townships"] if t in sent]
