"""全区汇总台账: the district ledger, one workbook per run.

Sheets: 全部, 新增救助群众, 救助观察群众, 待办理 (one row per person: the ten columns of
the official form, the optional columns, then what the bureau derived), 统计 (township ×
assistance type, township × class), 乡镇考核 (the township scorecard), 疑似重复 and
协理员空缺 (those four in ledger_sheets.py). Headers, classes,
assistance types and townships all come from `spec`; the order of people is the order of
`classified` (township order, discovery date, name).

A district week is ~9,000 people and a stress case 300,000, so the person sheets are
written with xlsx.write_blocks into a constant_memory workbook: each person's row is rendered
once for 全部 and their class, rows go to disk as they are rendered, and every sheet is
written top to bottom.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from pipeline.reports.ledger_sheets import (
    DUPLICATE_COLUMNS,
    HEADER_ROW,
    VACANCY_COLUMNS,
    LedgerColumn,
    column_format,
    header,
    ledger_formats,
    list_sheet,
    score_sheet,
    stats_sheet,
    title_stem,
)
from pipeline.rules import overdue, spec, townships
from pipeline.tools.chinese import cn_date
from pipeline.tools.xlsx import (
    NARROW_MARGINS,
    SEQ,
    new_workbook,
    print_setup,
    row_heights,
    write_blocks,
    write_merged,
)

ALL_SHEET = "全部"
STATS_SHEET = "统计"
SCORE_SHEET = "乡镇考核"
DUPLICATES_SHEET = "疑似重复"
VACANCIES_SHEET = "协理员空缺"
PERSON_STATUSES = ("new_assisted", "observation", "pending")  # a sheet each, after 全部

# Derived columns, after the form's: (key, header, width, kind).
DERIVED = (
    ("status_label", "类别", 7, "center"),
    ("result_date", "办理时间", 11, "date"),
    ("age_workdays", "已用工作日", 5, "number"),
    ("overdue_mark", "是否超期", 6, "center"),
    ("first_seen", "首次报送", 11, "date"),
)
# How a form column is shown, by its kind in schemas/form.yaml.
KIND_STYLE = {"date": "date", "id": "code", "phone": "code", "vocab": "center", "township": "center",
              "name": "center"}
# Narrower than on the blank form, where the township writes by hand: nineteen columns have to
# fit one landscape A4 page wide (narrow margins) at 82 %, where 11 pt prints as 9 pt
# (xlsx.MIN_PRINTED_PT), so the long texts wrap onto more lines. An ID (18 digits), a phone number
# and a date keep the width they need: numbers never wrap.
# Most of the width goes to 家庭基本情况, the longest text, which sets how tall a row is.
LEDGER_WIDTHS = {"seq": 5, "method": 8, "finder": 7, "township": 8, "name": 7.5, "household": 14,
                 "suspected": 8.5, "investigation": 9.5, "result": 9, "remark": 6.5, "id_number": 19.5,
                 "village": 8, "discovered": 11, "phone": 12.5}

def person_columns() -> list[LedgerColumn]:
    """The official ten, the optional columns (身份证号码, 村（社区）, 发现日期, 联系电话), then the derived ones.

    Headers without their bracketed lists (疑似符合救助, not 疑似符合救助（城乡低保、…）): repeated on every
    printed page in the body's size, the lists took a third of each page. The reader takes them so.
    """
    form = spec.form().columns
    ordered = [c for c in form if c.official] + [c for c in form if not c.official]
    cols = [LedgerColumn(c.key, spec.short_label(c.header), LEDGER_WIDTHS.get(c.key, c.width),
                         "number" if c.key == "seq" else KIND_STYLE.get(c.kind, "text"))
            for c in ordered]
    return cols + [LedgerColumn(*d) for d in DERIVED]


def ledger_title(status: str | None, as_of: date) -> str:
    """黔江区社会救助主动发现救助对象汇总台账（截至2026年11月28日）; a class sheet names its class
    (…新增救助群众汇总台账…), the 待办理 sheet …待办理对象汇总台账…."""
    subject = {None: "救助对象", "pending": f"{spec.STATUS_LABELS['pending']}对象"}.get(
        status, spec.STATUS_LABELS.get(status, ""))
    return f"{title_stem()}{subject}汇总台账（截至{cn_date(as_of)}）"


def write_ledger(path: Path, classified: pd.DataFrame, table: pd.DataFrame, *, as_of: date,
                 duplicates: pd.DataFrame | None = None, vacancies: pd.DataFrame | None = None,
                 roster_said: tuple[str, str] = ("", "已报送协理员名册的乡镇（街道）中，每个村（社区）都有协理员。")) -> None:
    """Write the 全区汇总台账 workbook; `duplicates` (疑似重复) and `vacancies` (协理员空缺)
    each get a sheet when given; `roster_said` is assistants.roster_sentences.

    Example: write_ledger(outbox / "全区汇总台账.xlsx", classified, township_table, as_of=date(2026, 11, 28))
    """
    workbook = new_workbook(path, created=as_of, title=ledger_title(None, as_of), constant_memory=True)
    fmts = ledger_formats(workbook)
    columns = person_columns()
    values = _person_values(classified, columns)
    heights = row_heights([(values[c.key], c.width) for c in columns if c.kind in ("text", "center")])
    marks = [fmts["overdue"] if m else fmts["cell_center"] for m in values["overdue_mark"]]
    status = classified["status"].tolist()
    blocks = []
    for key in (None, *PERSON_STATUSES):
        ws = workbook.add_worksheet(spec.STATUS_LABELS[key] if key else ALL_SHEET)
        write_merged(ws, 0, len(columns) - 1, ledger_title(key, as_of), fmts["title"], height=36)
        header(ws, HEADER_ROW, columns, fmts)
        blocks.append((ws, HEADER_ROW + 1, None if key is None else [i for i, s in enumerate(status) if s == key]))
    # One pass for the four sheets: each person's cells are rendered once, for 全部 and for their class.
    block_columns = []
    for col in columns:
        if col.key == "seq":
            block_columns.append((SEQ, fmts["cell_center"]))  # renumbered per sheet: the submitted 序号 is no identity
        elif col.key == "overdue_mark":
            block_columns.append((values[col.key], marks))
        else:
            block_columns.append((values[col.key], column_format(col.kind, fmts)))
    last_rows = write_blocks(blocks, block_columns, date_fmt=fmts["date"], heights=heights)
    for (ws, _, _), last_row in zip(blocks, last_rows):
        ws.autofilter(HEADER_ROW, 0, max(last_row, HEADER_ROW), len(columns) - 1)
        print_setup(ws, header_rows=(HEADER_ROW, HEADER_ROW), last_col=len(columns) - 1, margins=NARROW_MARGINS)
    stats_sheet(workbook.add_worksheet(STATS_SHEET), classified, as_of, fmts)
    score_sheet(workbook.add_worksheet(SCORE_SHEET), table, as_of, fmts)
    if duplicates is not None:
        list_sheet(workbook.add_worksheet(DUPLICATES_SHEET), DUPLICATE_COLUMNS, duplicates, fmts,
                    title=f"{title_stem()}疑似重复报送对象（截至{cn_date(as_of)}）",
                    note="同一公民身份号码由两个以上乡镇（街道）报送的，请核实对象实际居住地，由一个乡镇（街道）负责，"
                         "另一方在下次报送时于备注栏说明；同一乡镇（街道）同名而身份证号不同的，请核实是否为同一人"
                         "（身份证号填错后更正），是则告知区民政局删除错误的一条。",
                    empty="没有发现不同乡镇（街道）报送同一公民身份号码、或同一乡镇（街道）同名而身份证号不同的情况。")
    if vacancies is not None:
        listed = {True: "已列出，未填写协理员", False: "未列出（该村有已发现对象）"}
        list_sheet(workbook.add_worksheet(VACANCIES_SHEET), VACANCY_COLUMNS,
                    vacancies.assign(listed_label=vacancies["listed"].map(listed)), fmts,
                    title=f"{townships.district_name()}社会救助协理员空缺村（社区）（截至{cn_date(as_of)}）",
                    note="通知要求每个村（社区）至少有一名社会救助协理员。仅统计已报送协理员名册的乡镇（街道）。"
                         + roster_said[0], empty=roster_said[1])
    workbook.worksheets()[0].activate()
    workbook.close()


def _dates(series: pd.Series) -> list:
    """ISO texts as dates (once per distinct value); anything else stays as written."""
    parsed: dict = {}

    def one(text):
        if not isinstance(text, str) or not text:
            return None
        if text not in parsed:
            try:
                parsed[text] = date.fromisoformat(text)
            except ValueError:
                parsed[text] = text
        return parsed[text]

    return [one(v) for v in series.tolist()]


def _person_values(classified: pd.DataFrame, columns: list[LedgerColumn]) -> dict[str, list]:
    """Every column's values for all people, as plain lists in the frame's order."""
    out: dict[str, list] = {}
    for col in columns:
        if col.key == "seq":
            continue  # numbered per sheet
        if col.key == "overdue_mark":
            out[col.key] = [overdue.STILL_OVERDUE_LABEL if s else overdue.OVERDUE_LABEL if o else None
                            for o, s in zip(classified["overdue"].tolist(), classified["still_overdue"].tolist())]
        elif col.key == "age_workdays":
            out[col.key] = [None if pd.isna(v) else int(v) for v in classified[col.key].tolist()]
        elif col.key not in classified:
            out[col.key] = [None] * len(classified)
        elif col.kind == "date":
            out[col.key] = _dates(classified[col.key])
        else:
            out[col.key] = classified[col.key].tolist()
    return out

