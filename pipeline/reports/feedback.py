"""退回意见: the workbook a township clerk gets back when rows of their file were wrong.

Sheets: 退回说明 (a short letter: which file, what was found, what to do), 需修改的行 (their
own rows as they typed them, each bad cell red with the message as a comment, a last column
with every message of the row), 需修改的走访记录 (the same for the 走访记录 rows sent back) and
问题清单 (every problem, file-level ones included). A file that could not be read gets the
letter and the list only.

The rows come from FileReport.raw and FileReport.raw_visits (cells as typed), so that the
clerk recognises them; a problem is placed on a cell when its sheet and row are there and its
column is a column of that table.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date
from pathlib import Path

import pandas as pd

from pipeline.model import CODE_LABELS, DOCUMENT_KINDS, STATUS_LABELS, FileReport, Issue
from pipeline.reports import ledger
from pipeline.rules import spec
from pipeline.tools.chinese import cn_date
from pipeline.tools.xlsx import (
    FONT_SIZE,
    FORMAT_PROPERTIES,
    MIN_PRINTED_PT,
    NARROW_MARGINS,
    display_width,
    formats,
    new_workbook,
    print_setup,
    printed_scale,
    row_height,
    row_heights,
    write_merged,
    write_rows,
    write_text,
)

LETTER_SHEET = "退回说明"
ROWS_SHEET = "需修改的行"
VISIT_ROWS_SHEET = "需修改的走访记录"
LIST_SHEET = "问题清单"
RESEND = "请按标红单元格的批注修改后，将整个文件重新报送；已合格的行重新报送不会重复计算。"
RESEND_FILE = "请按「问题清单」中的说明处理后，将整个文件重新报送。"
# A form filled in Word (or a web page's table): where its rows are, and that Excel will do.
AS_DOCUMENT = ("你单位报送的是{what}：「表格N 第M行」指文档中第N个表格的第M行（从表格第一行数起，表头行也算在内）。"
               "需修改的行已整理在本工作簿的「{rows}」中，可以直接在其中改正后把本工作簿（Excel 格式）发回，"
               "也可以改正原文档后重新报送；以后也可以直接用 Excel 填写区民政局下发的模板。")
DOCUMENT_WHAT = {"html": "网页（HTML）格式的表格"}
NO_INVESTIGATION = "已填写办理结果，这里也要填写：写明入户调查核实的情况。"
ROW_COLUMN, SHEET_COLUMN, MESSAGES_COLUMN = (spec.feedback_columns()[k] for k in ("row", "sheet", "messages"))
LIST_COLUMNS = (("序号", 5), ("工作表", 10), ("行", 6), ("列", 16), ("填写内容", 18), ("问题类型", 15),
                ("怎么改", 58))
LETTER_WIDTHS = (16, 90)
COMMENT_WIDTH = 320          # pixels
COMMENT_FONT_SIZE = 10
PRINT_WIDTHS = ledger.LEDGER_WIDTHS
MIN_MESSAGES_WIDTH = 16


def write_feedback(path: Path, report: FileReport, *, as_of: date) -> None:
    """Write the 退回意见 workbook for one checked file.

    Example: write_feedback(outbox / "退回" / "石会镇1128_退回意见.xlsx", check_file(path, as_of), as_of=as_of)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = new_workbook(path, created=as_of, title=f"{Path(report.file).stem}退回意见")
    fmts = formats(workbook)
    fmts["bad_text"] = workbook.add_format({**FORMAT_PROPERTIES["bad"], "num_format": "@"})
    fmts["sign"] = workbook.add_format({**FORMAT_PROPERTIES["note"], "align": "right"})
    placed = _place(report.errors, report.raw)
    visits_placed = _place(report.errors, report.visits_sent_back())
    _letter(workbook.add_worksheet(LETTER_SHEET), report, as_of, fmts, has_rows=bool(placed),
            has_visits=bool(visits_placed))
    if placed:
        _rows_sheet(workbook.add_worksheet(ROWS_SHEET), report.file, report.raw, spec.form(), placed, fmts,
                    _shown_columns(report.raw, placed))
    if visits_placed:
        _rows_sheet(workbook.add_worksheet(VISIT_ROWS_SHEET), report.file, report.visits_sent_back(),
                    spec.visits_table(), visits_placed, fmts, list(spec.visits_table().columns))
    _list_sheet(workbook.add_worksheet(LIST_SHEET), report, fmts)
    workbook.close()


# --- which problem goes where ---------------------------------------------------------


def _place(errors: list[Issue], raw: pd.DataFrame | None) -> dict[tuple[str, int], list[Issue]]:
    """Row-level problems on the rows of `raw`, by (sheet, Excel row). The others (file-level)
    have no row to show and are only in 问题清单."""
    rows = set() if raw is None else set(zip(raw["_sheet"].astype(str), raw["_row"].astype(int)))
    placed: dict[tuple[str, int], list[Issue]] = defaultdict(list)
    for issue in errors:
        if not issue.file_level and (str(issue.sheet), issue.row) in rows:
            placed[(str(issue.sheet), issue.row)].append(issue)
    return placed


def _column_key(issue: Issue, table: spec.Table) -> str | None:
    """The column a problem is about (its header may be written as in the township's file)."""
    if not issue.column:
        return None
    return issue.column if issue.column in table.keys else table.match(issue.column)


# --- 退回说明 ------------------------------------------------------------------------


def _letter(ws, report: FileReport, as_of: date, fmts: dict, *, has_rows: bool, has_visits: bool) -> None:
    total = sum(LETTER_WIDTHS)
    last_col = len(LETTER_WIDTHS) - 1
    for index, width in enumerate(LETTER_WIDTHS):
        ws.set_column(index, index, width)
    file_problems = [e for e in report.errors if e.file_level]
    visit_sheet = spec.visits_table().sheet
    visit_problems = [e for e in report.errors if not e.file_level and e.sheet == visit_sheet]
    row = 0
    write_merged(ws, row, last_col, f"{spec.form_title()}退回意见", fmts["title"], height=40)
    row += 2
    write_merged(ws, row, last_col, f"{report.township or ''}{spec.letterhead().addressee}：", fmts["heading"], height=24)
    row += 1
    write_merged(ws, row, last_col, f"　　你单位报送的《{report.file}》已于{cn_date(as_of)}收到并检查，情况如下：",
                 fmts["note"], width=total)
    if file_problems:
        counts = "文件未能读取，没有检查任何行。"
    else:
        counts = f"共{report.rows}行，合格{report.accepted}行，需修改{report.rejected}行。"
        if visit_problems:
            counts += f"「{visit_sheet}」中有{len(visit_problems)}处问题。"
    shown = [f"「{name}」" for name, filled in ((ROWS_SHEET, has_rows), (VISIT_ROWS_SHEET, has_visits)) if filled]
    facts = [("文件名", report.file), ("乡镇（街道）", report.township or "未能识别"),
             ("检查日期", cn_date(as_of)), ("检查结果", STATUS_LABELS.get(report.status, report.status)),
             ("行数", counts), ("问题", f"共{len(report.errors)}处，逐条列在「{LIST_SHEET}」工作表"
                                       + (f"；需修改的行见{'和'.join(shown)}工作表。" if shown else "。"))]
    for label, value in facts:
        row += 1
        ws.write_string(row, 0, label, fmts["header"])
        write_text(ws, row, 1, value, fmts["cell"])
        ws.set_row(row, row_height([(label, LETTER_WIDTHS[0]), (str(value), LETTER_WIDTHS[1])]))
    row += 2
    for issue in file_problems:
        write_merged(ws, row, last_col, f"文件问题：{issue.message}", fmts["note_bold"], width=total)
        row += 1
    write_merged(ws, row, last_col, RESEND_FILE if file_problems or not (has_rows or has_visits) else RESEND,
                 fmts["note_bold"], width=total)
    if report.kind in DOCUMENT_KINDS:
        row += 1
        write_merged(ws, row, last_col, AS_DOCUMENT.format(what=DOCUMENT_WHAT.get(report.kind, "Word 文档"),
                                                           rows=ROWS_SHEET), fmts["note"], width=total)
    if report.notes:
        row += 2
        write_merged(ws, row, last_col, "其他说明：", fmts["note"], height=20)
        for note in report.notes:
            row += 1
            write_merged(ws, row, last_col, f"● {note}", fmts["note"], width=total)
    row += 2
    write_merged(ws, row, last_col, spec.letterhead().issuer, fmts["sign"], height=20)
    write_merged(ws, row + 1, last_col, cn_date(as_of), fmts["sign"], height=20)
    print_setup(ws, header_rows=None, last_col=last_col)
    ws.activate()


# --- 需修改的行 ----------------------------------------------------------------------


def _shown_columns(raw: pd.DataFrame, placed) -> list[spec.Column]:
    """The official columns, and the optional ones the file filled in or a problem names."""
    named = {_column_key(i, spec.form()) for issues in placed.values() for i in issues}
    out = []
    for col in spec.form().columns:
        filled = col.key in raw and raw[col.key].fillna("").astype(str).str.strip().ne("").any()
        if col.official or filled or col.key in named:
            out.append(col)
    return out


def _rows_sheet(ws, file: str, raw: pd.DataFrame, table: spec.Table, placed, fmts: dict,
                form_cols: list[spec.Column]) -> None:
    """The rows of `raw` that `placed` names, as typed, under the headers of `table`'s columns
    `form_cols`: bad cells red with the message as a comment."""
    sheets = raw["_sheet"].astype(str)
    several = sheets.nunique() > 1
    bad = raw[[(s, int(r)) in placed for s, r in zip(sheets, raw["_row"])]]  # original order
    lead = [(SHEET_COLUMN, 8)] if several else []
    lead.append((ROW_COLUMN, 6))
    # The ledger's widths, so that the rows print at 9 pt or more; the messages take what is left.
    shown = [*lead, *((c.header, PRINT_WIDTHS.get(c.key, c.width)) for c in form_cols)]
    room = [w for w in range(40, MIN_MESSAGES_WIDTH, -1)
            if printed_scale([*(w_ for _, w_ in shown), w], margins=NARROW_MARGINS) * FONT_SIZE >= MIN_PRINTED_PT * 100]
    headers = [*shown, (MESSAGES_COLUMN, room[0] if room else MIN_MESSAGES_WIDTH)]
    last_col = len(headers) - 1
    what = "走访记录" if table.kind == "visits" else "行"
    title = f"《{file}》需修改的{what}（共{len(bad)}行，红色单元格有问题，鼠标指向可看说明）"
    write_merged(ws, 0, last_col, title, fmts["title"], height=36)
    for index, (header, width) in enumerate(headers):
        ws.set_column(index, index, width)
        ws.write_string(1, index, header, fmts["header"])
    ws.set_row(1, row_height(headers))

    issues = [placed[(str(s), int(r))] for s, r in zip(bad["_sheet"], bad["_row"])]
    messages = ["\n".join(i.message for i in row_issues) for row_issues in issues]
    columns = []
    if several:
        columns.append((bad["_sheet"].astype(str).tolist(), fmts["cell_center"]))
    columns.append((bad["_row"].astype(int).tolist(), fmts["cell_center"]))
    for col in form_cols:
        values = bad[col.key].tolist() if col.key in bad else [None] * len(bad)
        # As typed, and kept as text when the clerk edits it; an ID or phone number never wraps.
        columns.append((values, fmts["code"] if col.kind in ("id", "phone") else fmts["text"]))
    columns.append((messages, fmts["cell"]))
    heights = row_heights([(values, width) for (values, _), (_, width) in zip(columns, headers)])
    last_row = write_rows(ws, 2, columns, heights=heights)

    # Mark the bad cells: the last write of a cell wins, the comment carries the message.
    first_form_col = len(lead)
    positions = {c.key: first_form_col + n for n, c in enumerate(form_cols)}
    investigations = bad["investigation"].tolist() if "investigation" in bad else [None] * len(bad)
    for offset, row_issues in enumerate(issues):
        by_cell: dict[int, list[str]] = defaultdict(list)
        for issue in row_issues:
            col = positions.get(_column_key(issue, table))
            if col is not None:
                by_cell[col].append(issue.message)
            if issue.code == "inconsistent_result" and not (investigations[offset] or "").strip() \
                    and "investigation" in positions:  # a result without its investigation: the blank to fill
                by_cell[positions["investigation"]].append(NO_INVESTIGATION)
        for col, texts in sorted(by_cell.items()):
            row = 2 + offset
            write_text(ws, row, col, columns[col][0][offset], fmts["bad_text"])
            text = "\n".join(texts)
            ws.write_comment(row, col, text, _comment_box(text))
    ws.autofilter(1, 0, max(last_row, 1), last_col)
    print_setup(ws, header_rows=(1, 1), last_col=last_col, margins=NARROW_MARGINS)
    ws.freeze_panes(2, first_form_col)  # keep 原行号 in view when scrolling right


def _comment_box(text: str) -> dict:
    """Comment options sized so the whole Chinese message shows without scrolling."""
    per_line = (COMMENT_WIDTH - 12) / (COMMENT_FONT_SIZE * 4 / 3)  # CJK characters (pixels at 96 dpi)
    lines = sum(max(1, math.ceil(display_width(p) / 2.1 / per_line)) for p in text.split("\n"))
    return {"width": COMMENT_WIDTH, "height": 16 + lines * COMMENT_FONT_SIZE * 1.8,
            "font_name": "宋体", "font_size": COMMENT_FONT_SIZE, "author": spec.letterhead().issuer}


# --- 问题清单 ------------------------------------------------------------------------


def _list_sheet(ws, report: FileReport, fmts: dict) -> None:
    last_col = len(LIST_COLUMNS) - 1
    write_merged(ws, 0, last_col, f"《{report.file}》问题清单（共{len(report.errors)}处）", fmts["title"], height=36)
    columns = LIST_COLUMNS if report.kind not in DOCUMENT_KINDS else (LIST_COLUMNS[0], ("表格", 10), *LIST_COLUMNS[2:])
    for index, (header, width) in enumerate(columns):
        ws.set_column(index, index, width)
        ws.write_string(1, index, header, fmts["header"])
    ws.set_row(1, 24)
    errors = report.errors
    columns = [
        (list(range(1, len(errors) + 1)), fmts["cell_center"]),
        ([e.sheet for e in errors], fmts["cell_center"]),
        ([e.row for e in errors], fmts["cell_center"]),
        ([spec.short_label(e.column) if e.column else None for e in errors], fmts["cell"]),
        ([e.value for e in errors], fmts["text"]),
        ([CODE_LABELS.get(e.code, e.code) for e in errors], fmts["cell_center"]),
        ([e.message for e in errors], fmts["cell"]),
    ]
    heights = row_heights([(values, width) for (values, _), (_, width) in zip(columns, LIST_COLUMNS)])
    row = write_rows(ws, 2, columns, heights=heights)
    if report.notes:
        row += 2
        write_merged(ws, row, last_col, "其他说明：", fmts["note_bold"], height=20)
        for note in report.notes:
            row += 1
            write_merged(ws, row, last_col, f"● {note}", fmts["note"], width=sum(w for _, w in LIST_COLUMNS))
    print_setup(ws, header_rows=(1, 1), last_col=last_col)
