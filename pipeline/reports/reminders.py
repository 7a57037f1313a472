"""超期催办: the overdue cases of a run, and a written reminder (催办通知) for each township.

The notice (三、（三）) makes a written reminder the step after which a case still left
undone counts against the township: "凡是通过书面提醒后，又无正当理由仍未办理的，为未做到
应保尽保、应救尽救，并追究相关人员责任". So each township with overdue cases gets its own
sheet, printed as an official letter (GB/T 9704-2012, portrait A4): the red 发文机关标志, the
发文字号, the title, 主送, 正文 (仿宋 三号), the 附件 line, 署名 and 成文日期 with room for the seal,
联系人 and 电话; then, from a new page, the table of cases as its 附件. The words are
schemas/letterhead.yaml's; the HTML summary shows the same Letter (letter_page.py lays it out).
Names are not masked: this is an official document to the township that reported them.

Sheet 汇总 lists every overdue case of the district; then one sheet per township, named
after it, in the district's township order.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pandas as pd

from pipeline.reports import letter as official
from pipeline.reports.letter import Letter, letter  # noqa: F401 (the words, for the summary)
from pipeline.rules import overdue, spec, townships
from pipeline.tools.chinese import cn_date
from pipeline.tools.xlsx import (
    FORMAT_PROPERTIES,
    PAGE_FOOTER,
    PAPER_A4,
    formats,
    new_workbook,
    print_setup,
    row_height,
    row_heights,
    write_merged,
    write_rows,
)

SUMMARY_SHEET = "汇总"
HEADING = "社会救助主动发现超期未办理事项催办通知"
NOTHING = "本期无超期未办理事项。"

# (key, header, width, format) of the 汇总 table and of a township's letter.
SUMMARY_COLUMNS = (("seq", "序号", 6, "cell_center"), ("township", "乡镇（街道）", 12, "cell_center"),
                   ("village", "村（社区）", 12, "cell_center"), ("name", "对象姓名", 10, "cell_center"),
                   ("discovered", "发现日期", 12, "date"), ("age_workdays", "已用工作日", 10, "cell_center"),
                   ("reminder", "提醒情况", 40, "cell"))
# The letter is as wide as these columns: 581 px, the standard's 版心 (156 mm, 589 px), printed at
# 100 % (正文 in 16 pt) where columns are measured as Excel does, fitted to the width where wider.
LETTER_COLUMNS = (("seq", "序号", 5, "cell_center"), ("name", "对象姓名", 8, "cell_center"),
                  ("village", "村（社区）", 10, "cell_center"), ("discovered", "发现日期", 12, "date"),
                  ("age_workdays", "已用工作日", 7, "cell_center"), ("suspected", "疑似符合救助", 24, "cell"),
                  ("state", "状态", 12, "cell_center"))


def write_reminders(path: Path, classified: pd.DataFrame, *, as_of: date, numbers: dict[str, int] | None = None) -> None:
    """Write 超期催办: a 汇总 sheet, then a 催办通知 sheet for each township with overdue cases.
    `numbers`: township → N of its 发文字号 (roster/letters.numbers); a letter without one has a blank.

    Example: write_reminders(outbox / "超期催办.xlsx", classified, as_of=date(2026, 11, 28), numbers={"石会镇": 3})
    """
    workbook = new_workbook(path, created=as_of, title=HEADING, constant_memory=True)  # written top to bottom
    fmts = _formats(workbook)
    cases = overdue_cases(classified)
    _summary(workbook.add_worksheet(SUMMARY_SHEET), cases, as_of, fmts)
    used = {SUMMARY_SHEET}
    for township, group in cases.groupby("township", sort=False):
        words = letter(str(township), group, as_of, (numbers or {}).get(str(township)))
        _letter(workbook.add_worksheet(sheet_name(str(township), used)), words, group, fmts)
    workbook.close()


def write_letter(path: Path, township: str, cases: pd.DataFrame, *, as_of: date, number: int | None = None) -> None:
    """One township's 催办通知 alone, for its packet (outbox/<date>/乡镇/<township>/): the sheet
    of write_reminders. `cases`: that township's rows of overdue_cases, numbered from 0.

    Example: write_letter(packet / "石会镇催办通知20261128.xlsx", "石会镇", late, as_of=as_of)
    """
    workbook = new_workbook(path, created=as_of, title=f"{township}{HEADING}", constant_memory=True)
    _letter(workbook.add_worksheet(sheet_name(township, set())), letter(township, cases, as_of, number), cases,
            _formats(workbook))
    workbook.close()


def _formats(workbook) -> dict:
    fmts = formats(workbook)
    fmts["state"] = workbook.add_format({**FORMAT_PROPERTIES["bad"], "align": "center"})
    return fmts | official.formats(workbook)


def sheet_name(township: str, used: set[str]) -> str:
    """The township's name as a sheet name: Excel forbids []:*?/\\ and more than 31 characters."""
    name = re.sub(r"[\[\]:*?/\\]", "_", township).strip("'")[:31] or "乡镇"
    base, n = name, 2
    while name.lower() in {u.lower() for u in used}:  # Excel compares sheet names ignoring case
        name = f"{base[:28]}({n})"
        n += 1
    used.add(name)
    return name


def overdue_cases(classified: pd.DataFrame) -> pd.DataFrame:
    """The overdue cases in the district's township order (then as classified: discovery, name),
    with `reminder` (提醒情况) and `state` (状态) in words."""
    cases = classified[classified["overdue"].astype(bool)].copy()
    order = townships.order()
    cases["_t"] = cases["township"].map(order).fillna(len(order))
    cases = cases.sort_values("_t", kind="stable").drop(columns="_t")
    still = cases["still_overdue"].astype(bool)
    cases["reminder"] = [overdue.reminder_state(s, on) for s, on in zip(still, cases["reminded_on"])]
    cases["state"] = [overdue.STILL_OVERDUE_LABEL if s else overdue.OVERDUE_LABEL for s in still]
    cases["discovered"] = [date.fromisoformat(d) if isinstance(d, str) else None for d in cases["discovered"]]
    cases["age_workdays"] = [None if pd.isna(a) else int(a) for a in cases["age_workdays"]]
    return cases.reset_index(drop=True)


def _table(ws, first_row: int, spec_columns, cases: pd.DataFrame, fmts: dict, *, marked: bool) -> int:
    """Header and rows of a case table; the last row written."""
    for index, (_, header, width, _) in enumerate(spec_columns):
        ws.set_column(index, index, width)
        ws.write_string(first_row, index, header, fmts["header"])
    ws.set_row(first_row, row_height([(h, w) for _, h, w, _ in spec_columns]))
    still = cases["still_overdue"].astype(bool).tolist()
    columns = []
    for key, _, _, fmt in spec_columns:
        if key == "seq":
            columns.append((list(range(1, len(cases) + 1)), fmts[fmt]))
        elif key == "state" and marked:
            columns.append((cases[key].tolist(), [fmts["state"] if s else fmts[fmt] for s in still]))
        else:
            columns.append((cases[key].tolist(), fmts[fmt]))
    heights = row_heights([(values, w) for (values, _), (_, _, w, _) in zip(columns, spec_columns)])
    return write_rows(ws, first_row + 1, columns, date_fmt=fmts["date"], heights=heights)


def _summary(ws, cases: pd.DataFrame, as_of: date, fmts: dict) -> None:
    last_col = len(SUMMARY_COLUMNS) - 1
    width = sum(w for _, _, w, _ in SUMMARY_COLUMNS)
    write_merged(ws, 0, last_col, f"社会救助主动发现超期未办理事项汇总（截至{cn_date(as_of)}）", fmts["title"], height=36)
    limit = spec.thresholds()["overdue_workdays"]
    if cases.empty:
        write_merged(ws, 1, last_col, NOTHING, fmts["note_bold"], width=width)
        print_setup(ws, header_rows=None, last_col=last_col)
        return
    still = int(cases["still_overdue"].astype(bool).sum())
    line = (f"自发现之日起超过{limit}个工作日仍未办理的共{len(cases)}件，涉及{cases['township'].nunique()}个乡镇（街道），"
            f"其中{overdue.STILL_OVERDUE_LABEL}{still}件。各乡镇（街道）的催办通知见以乡镇（街道）命名的工作表。")
    write_merged(ws, 1, last_col, line, fmts["note"], width=width)
    _table(ws, 2, SUMMARY_COLUMNS, cases, fmts, marked=False)
    print_setup(ws, header_rows=(2, 2), last_col=last_col)


def _letter(ws, words: Letter, cases: pd.DataFrame, fmts: dict) -> None:
    """A 催办通知 on one sheet, portrait A4 at 100 %: the letter's page, then its 附件 from a new page,
    the case table's header repeated on each of its pages."""
    header_row = official.write_letter_sheet(ws, words, len(LETTER_COLUMNS) - 1, fmts)
    _table(ws, header_row, LETTER_COLUMNS, cases, fmts, marked=True)
    ws.set_paper(PAPER_A4)
    ws.set_portrait()
    ws.set_margins(**official.MARGINS)
    ws.fit_to_pages(1, 0)
    ws.center_horizontally()
    ws.set_footer(PAGE_FOOTER)
    ws.repeat_rows(header_row, header_row)
