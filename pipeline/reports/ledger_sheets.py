"""The 全区汇总台账's layout, shared by its sheets, and its sheets of figures and lists:
统计 (township × assistance type, township × class), 乡镇考核 (the township scorecard),
疑似重复 (one person perhaps recorded twice) and 协理员空缺 (villages without an assistant).
The person sheets are in ledger.py.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

import pandas as pd

from pipeline.roster import scorecard
from pipeline.rules import overdue, spec, townships
from pipeline.tools.chinese import cn_date
from pipeline.tools.xlsx import (
    BAD_FILL,
    BAD_FONT_COLOR,
    FONT_SIZE,
    FORMAT_PROPERTIES,
    formats,
    print_setup,
    row_height,
    write_merged,
    write_text,
)

HEADER_ROW = 1  # zero-based: the title is row 0
TOTAL = "合计"
# The official headers are long (疑似符合救助（城乡低保、…）) and repeated on every printed page, but
# they are printed text too: the sheet is fitted at 82 % or more, so they stay in the body's size.
HEADER_FONT_SIZE = FONT_SIZE


@dataclass(frozen=True)
class LedgerColumn:
    """One column of a person sheet: where its value comes from and how it is shown."""

    key: str      # column of `classified`, or a derived key
    header: str
    width: float
    kind: str     # text | center | code (ID, phone: text format) | date | number


# 乡镇考核: (column of scorecard.township_table, header, width, kind); kind "share" is a percentage.
SCORE_COLUMNS = (
    ("township", "乡镇（街道）", 11, "center"),
    ("found_week", "本周新上报", 7, "number"),
    ("total", "累计发现", 7, "number"),
    ("new_assisted", spec.STATUS_LABELS["new_assisted"], 8, "number"),
    ("observation", spec.STATUS_LABELS["observation"], 8, "number"),
    ("closed", spec.STATUS_LABELS["closed"], 7, "number"),
    ("pending", spec.STATUS_LABELS["pending"], 7, "number"),
    ("overdue", overdue.OVERDUE_LABEL, 6, "number"),
    ("still_overdue", overdue.STILL_OVERDUE_LABEL, 8, "number"),
    ("key_population", "重点人群", 7, "number"),
    ("due", "本月应走访", 7, "number"),
    ("seen_due", "其中已见面", 7, "number"),  # of those due: 走访覆盖率 = this ÷ 本月应走访
    ("gaps", "走访缺口", 7, "number"),
    ("visit_coverage", "走访覆盖率", 8, "share"),
    ("decided", "已办结", 7, "number"),
    ("handled_in_time", "按期办结", 7, "number"),
    ("in_time_share", "按期办理率", 8, "share"),
    ("rows_rejected_week", "本周退回行数", 7, "number"),
    ("rows_rejected", "累计退回行数", 7, "number"),
    ("files_week", "本周报送文件数", 7, "number"),
)
# 疑似重复: one person perhaps recorded twice (merge.possible_duplicates).
DUPLICATE_COLUMNS = (
    ("seq", "序号", 6, "center"), ("reason", "疑似原因", 16, "text"), ("id_number", "公民身份号码", 21, "code"),
    ("township", "所属乡镇（街道）", 12, "center"), ("village", "村（社区）", 12, "center"),
    ("name", "对象姓名", 10, "center"), ("status_label", "类别", 13, "center"),
    ("discovered", "发现日期", 12, "date"), ("first_seen", "首次报送", 12, "date"),
)
# 协理员空缺: villages without a 社会救助协理员 (assistants.vacancies).
VACANCY_COLUMNS = (
    ("seq", "序号", 6, "center"), ("township", "所属乡镇（街道）", 14, "center"),
    ("village", "村（社区）", 16, "center"), ("people", "已发现对象", 10, "number"),
    ("key_population", "其中重点人群", 10, "number"), ("listed_label", "名册中", 26, "text"),
)


def title_stem() -> str:
    """黔江区社会救助主动发现: the form's title without what it lists (救助对象明细表)."""
    base = spec.form_title().removesuffix("明细表")
    return base.removesuffix("救助对象") if base.endswith("救助对象") else base


def ledger_formats(workbook) -> dict:
    fmts = formats(workbook)
    fmts["overdue"] = workbook.add_format({**FORMAT_PROPERTIES["cell_center"], "bg_color": BAD_FILL,
                                           "font_color": BAD_FONT_COLOR})
    fmts["share"] = workbook.add_format({**FORMAT_PROPERTIES["number"], "num_format": "0.0%"})
    fmts["total"] = workbook.add_format({**FORMAT_PROPERTIES["number"], "bold": True})
    fmts["total_label"] = workbook.add_format({**FORMAT_PROPERTIES["cell_center"], "bold": True})
    fmts["total_share"] = workbook.add_format({**FORMAT_PROPERTIES["number"], "bold": True, "num_format": "0.0%"})
    fmts["header_small"] = workbook.add_format({**FORMAT_PROPERTIES["header"], "font_size": HEADER_FONT_SIZE})
    fmts["subtitle"] = workbook.add_format({**FORMAT_PROPERTIES["heading"], "align": "center"})
    return fmts


def column_format(kind: str, fmts: dict):
    return {"text": fmts["cell"], "center": fmts["cell_center"], "code": fmts["code"],
            "date": fmts["date"], "number": fmts["cell_center"], "share": fmts["share"]}[kind]


def header(ws, row: int, columns, fmts: dict) -> None:
    for index, col in enumerate(columns):
        ws.set_column(index, index, col.width)
        ws.write_string(row, index, col.header, fmts["header_small"])
    # text_lines measures 11-point text: a 9-point header fits as if the column were wider.
    scale = FONT_SIZE / HEADER_FONT_SIZE
    ws.set_row(row, row_height([(c.header, c.width * scale) for c in columns], font_size=HEADER_FONT_SIZE))


# --- 统计 ----------------------------------------------------------------------------


def _township_names(classified: pd.DataFrame) -> list[str]:
    """The district's townships in official order, then any other name found (so totals add up)."""
    names = [t.name for t in townships.listed()]
    extra = sorted(set(classified["township"].dropna()) - set(names))
    return names + extra


def type_counts(classified: pd.DataFrame) -> pd.DataFrame:
    """Township × assistance type: people whose 疑似符合救助 names each type (several types count
    in each), and 合计 = people. Rows: every township in official order, then 合计."""
    types = list(spec.vocabulary("assistance_types").values)
    towns = _township_names(classified)
    pairs = Counter(zip(classified["township"].tolist(), classified["suspected"].tolist()))
    counts: Counter = Counter()
    people: Counter = Counter()
    for (township, suspected), n in pairs.items():
        people[township] += n
        for kind in set(suspected.split("、")) if isinstance(suspected, str) else ():
            counts[township, kind] += n
    frame = pd.DataFrame([[counts[t, k] for k in types] + [people[t]] for t in towns],
                         index=towns, columns=[*types, TOTAL])
    frame.loc[TOTAL] = frame.sum()
    return frame


def class_counts(classified: pd.DataFrame) -> pd.DataFrame:
    """Township × class (新增救助群众, 救助观察群众, 不符合, 待办理, 其中超期, 合计), every township, then 合计."""
    towns = _township_names(classified)
    statuses = Counter(zip(classified["township"].tolist(), classified["status"].tolist()))
    late = Counter(t for t, o in zip(classified["township"].tolist(), classified["overdue"].tolist()) if o)
    columns = [*spec.STATUS_LABELS.values(), f"其中{overdue.OVERDUE_LABEL}", TOTAL]
    rows = []
    for t in towns:
        by_status = [statuses[t, s] for s in spec.STATUS_LABELS]
        rows.append([*by_status, late[t], sum(by_status)])
    frame = pd.DataFrame(rows, index=towns, columns=columns)
    frame.loc[TOTAL] = frame.sum()
    return frame


STATS_GAP = 2        # width of the empty column between the two tables
STATS_NAME_WIDTH = 11
STATS_WIDTH = 8.5


def stats_sheet(ws, classified: pd.DataFrame, as_of: date, fmts: dict) -> None:
    """The two cross tables side by side, so that 统计 prints on one landscape page."""
    tables = [("一、按疑似符合救助类型", type_counts(classified),
               "注：一人疑似符合多项救助的，在每一项中各计1人；“合计”为人数。"),
              ("二、按办理类别", class_counts(classified),
               f"注：“其中{overdue.OVERDUE_LABEL}”是{spec.STATUS_LABELS['pending']}中超过"
               f"{spec.thresholds()['overdue_workdays']}个工作日仍未办理的人数，已含在“{spec.STATUS_LABELS['pending']}”中。")]
    starts, col = [], 0
    for _, frame, _ in tables:
        starts.append(col)
        ws.set_column(col, col, STATS_NAME_WIDTH)
        ws.set_column(col + 1, col + len(frame.columns), STATS_WIDTH)
        col += len(frame.columns) + 1
        ws.set_column(col, col, STATS_GAP)
        col += 1
    last_col = col - 2
    write_merged(ws, 0, last_col, f"{title_stem()}救助对象统计表（截至{cn_date(as_of)}）", fmts["title"], height=36)
    for start, (subtitle, frame, _) in zip(starts, tables):
        ws.merge_range(1, start, 1, start + len(frame.columns), subtitle, fmts["subtitle"])
    ws.set_row(1, 24)
    headers = [["乡镇（街道）", *map(str, frame.columns)] for _, frame, _ in tables]
    for start, header in zip(starts, headers):
        for offset, text in enumerate(header):
            ws.write_string(2, start + offset, text, fmts["header"])
    ws.set_row(2, row_height([(h, STATS_WIDTH) for header in headers for h in header[1:]]))
    towns = tables[0][1].index.tolist()  # both tables list the same townships, then 合计
    for offset, township in enumerate(towns):
        row = 3 + offset
        total = township == TOTAL
        for start, (_, frame, _) in zip(starts, tables):
            ws.write_string(row, start, township, fmts["total_label" if total else "cell_center"])
            for index, value in enumerate(frame.loc[township].tolist(), start=1):
                ws.write_number(row, start + index, int(value), fmts["total" if total else "number"])
    row = 3 + len(towns)
    notes = [note for _, _, note in tables]
    for start, (_, frame, note) in zip(starts, tables):
        ws.merge_range(row, start, row, start + len(frame.columns), note, fmts["note"])
    ws.set_row(row, row_height([(n, STATS_NAME_WIDTH + STATS_WIDTH * len(f.columns))
                                for n, (_, f, _) in zip(notes, tables)]))
    print_setup(ws, header_rows=None, last_col=last_col)
    ws.fit_to_pages(1, 1)  # a page of figures: one page, however many townships


# --- 乡镇考核 -------------------------------------------------------------------------


def _count(value) -> int:
    return 0 if value is None or pd.isna(value) else int(value)


def score_sheet(ws, table: pd.DataFrame, as_of: date, fmts: dict) -> None:
    cols = [LedgerColumn(*c) for c in SCORE_COLUMNS]
    last_col = len(cols) - 1
    write_merged(ws, 0, last_col, f"{title_stem()}工作乡镇（街道）考核情况（截至{cn_date(as_of)}）",
                 fmts["title"], height=36)
    header(ws, HEADER_ROW, cols, fmts)
    row = HEADER_ROW
    records = table.to_dict("records")
    for record in records:
        row += 1
        for index, col in enumerate(cols):
            write_text(ws, row, index, record.get(col.key), column_format(col.kind, fmts))
    row += 1
    ws.write_string(row, 0, TOTAL, fmts["total_label"])
    totals = {col.key: sum(_count(r.get(col.key)) for r in records) for col in cols[1:] if col.kind != "share"}
    totals.update(scorecard.rates(totals.get))  # a rate of the sums, not a sum of rates
    for index, col in enumerate(cols[1:], start=1):
        if col.kind == "share":
            value = totals[col.key]
            if value is None:
                ws.write_blank(row, index, None, fmts["total_share"])
            else:
                ws.write_number(row, index, value, fmts["total_share"])
        else:
            ws.write_number(row, index, totals[col.key], fmts["total"])
    row += 1
    write_merged(ws, row, last_col,
                 "注：走访覆盖率 = 本月应走访的重点人群中本月已见面的比例；按期办理率 = 按期办结人数 ÷（已办结人数 + "
                 f"{overdue.OVERDUE_LABEL}人数）。{overdue.STILL_OVERDUE_LABEL}：经区民政局书面提醒后仍未办理的人数。",
                 fmts["note"], width=sum(c.width for c in cols))
    print_setup(ws, header_rows=(HEADER_ROW, HEADER_ROW), last_col=last_col)


# --- 疑似重复, 协理员空缺 -----------------------------------------------------------------


def list_sheet(ws, spec_columns, frame: pd.DataFrame, fmts: dict, *, title: str, note: str, empty: str) -> None:
    """A titled, printable list: a note under the title, then the table (or `empty`)."""
    cols = [LedgerColumn(*c) for c in spec_columns]
    last_col = len(cols) - 1
    width = sum(c.width for c in cols)
    write_merged(ws, 0, last_col, title, fmts["title"], height=36)
    write_merged(ws, 1, last_col, note if len(frame) else empty, fmts["note"], width=width)
    if not len(frame):
        for index, col in enumerate(cols):
            ws.set_column(index, index, col.width)
        print_setup(ws, header_rows=None, last_col=last_col)
        return
    header(ws, 2, cols, fmts)
    for row, record in enumerate(frame.to_dict("records"), start=3):
        for index, col in enumerate(cols):
            value = row - 2 if col.key == "seq" else record.get(col.key)
            if col.kind == "date" and isinstance(value, str) and value:
                value = date.fromisoformat(value)
            write_text(ws, row, index, value, column_format(col.kind, fmts))
    print_setup(ws, header_rows=(2, 2), last_col=last_col)
