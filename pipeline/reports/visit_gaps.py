"""走访缺口: which key-population people still need a visit in person this month.

The notice asks that the key population (待办理 and 救助观察群众) be visited at least once
a month (每月不少于1次) and that a visit where the person was not seen does not end the
matter (走访到户不见人不放过). Three sheets, each printable as a working list for the
townships: 走访缺口 (due this month, not yet seen in person: the people to visit now),
需再次走访 (visits where nobody was seen since the last visit in person) and 全部重点人群
(everyone, with the month's state). Rows are grouped by township and village; within a
village those never seen come first, then the longest without a visit.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.rules import townships
from pipeline.tools.chinese import cn_date
from pipeline.tools.xlsx import (
    formats,
    new_workbook,
    print_setup,
    row_height,
    row_heights,
    write_merged,
    write_rows,
)

GAPS_SHEET = "走访缺口"
AGAIN_SHEET = "需再次走访"
ALL_SHEET = "全部重点人群"
NEVER_SEEN = "从未见面"
TOWNSHIP, VILLAGE, NAME = "乡镇（街道）", "村（社区）", "对象姓名"

# (key, header, width, format). `key` is a column of visits.gaps, or one made here.
PERSON = (("seq", "序号", 6, "cell_center"), ("township", TOWNSHIP, 12, "cell_center"),
          ("village", VILLAGE, 12, "cell_center"), ("name", NAME, 10, "cell_center"),
          ("status_label", "类别", 14, "cell_center"), ("key_since", "纳入重点人群日期", 13, "date"),
          ("last_seen", "最近一次见面走访", 13, "date"), ("days_since", "未见面天数", 9, "cell_center"))
GAP_COLUMNS = (*PERSON, ("seen_this_month", "本月是否已见面", 9, "cell_center"))
ALL_COLUMNS = (*PERSON, ("due_this_month", "本月应走访", 9, "cell_center"),
               ("seen_this_month", "本月已见面", 9, "cell_center"))
AGAIN_COLUMNS = (("seq", "序号", 6, "cell_center"), ("township", TOWNSHIP, 12, "cell_center"),
                 ("village", VILLAGE, 12, "cell_center"), ("name", NAME, 10, "cell_center"),
                 ("unseen_dates", "不见人走访日期", 40, "cell"), ("unseen_count", "次数", 8, "cell_center"))

USED = ("township", "village", "name", "status_label", "key_since", "last_seen", "days_since", "gap",
        "seen_this_month", "due_this_month", "unseen_visits")  # the columns of visits.gaps that the sheets show


def write_gaps(path: Path, gap_rows: pd.DataFrame, *, as_of: date, unit: str | None = None) -> None:
    """Write 走访缺口 with the sheets 走访缺口, 需再次走访 and 全部重点人群; `unit` names whose
    people they are in the titles (a township's packet), by default the district.

    Example: write_gaps(outbox / "走访缺口.xlsx", visits.gaps(classified, visit_log, as_of), as_of=as_of)
    """
    write_people(path, ordered(gap_rows), as_of=as_of, unit=unit)


def write_people(path: Path, people: pd.DataFrame, *, as_of: date, unit: str | None = None) -> None:
    """write_gaps for people already ordered (ordered(gap_rows), or one township's rows of it
    numbered from 0, for its packet)."""
    # Every sheet is written top to bottom, so rows can stream (xlsx.write_rows): a district of
    # 300,000 people has ~150,000 in the key population.
    district = unit or townships.district_name()
    workbook = new_workbook(path, created=as_of, title=f"{district}重点人群走访缺口", constant_memory=True)
    fmts = formats(workbook)
    figures = summary_line(people)
    month = f"{as_of.year}年{as_of.month}月"
    values = _cells(people)  # each column's cells once, as lists: a packet's table is small, pandas' overhead not
    gaps = [i for i, flag in enumerate(values["gap"]) if flag]
    _sheet(workbook.add_worksheet(GAPS_SHEET), GAP_COLUMNS, values, gaps,
           f"{district}重点人群{month}走访缺口（截至{cn_date(as_of)}）", fmts,
           lines=[figures, f"下列{len(gaps)}人本月应走访、至今尚未见到本人，请于本月内入户走访并见到本人。"],
           empty=f"{month}应走访的重点人群均已见面，无走访缺口。")
    again = [i for i, visits_ in enumerate(values["unseen_visits"]) if len(visits_) > 0]
    _sheet(workbook.add_worksheet(AGAIN_SHEET), AGAIN_COLUMNS, values, again,
           f"{district}重点人群需再次走访名单（走访到户不见人不放过）", fmts,
           lines=[f"下列{len(again)}人最近一次见面后的走访均未见到本人，不计为走访，须再次上门见到本人。"],
           empty="没有走访到户不见人、需再次走访的对象。")
    _sheet(workbook.add_worksheet(ALL_SHEET), ALL_COLUMNS, values, None,
           f"{district}重点人群走访情况（截至{cn_date(as_of)}）", fmts, lines=[figures],
           empty="目前没有重点人群。")
    workbook.close()


def ordered(gap_rows: pd.DataFrame) -> pd.DataFrame:
    """Key people by township (official order), village, never seen first, then most days
    without a visit, then name; with the month's flags as booleans and dates as dates."""
    frame = gap_rows[[key for key in USED if key in gap_rows.columns]].copy()  # the sheets' columns only
    for missing in [key for key in USED if key not in frame.columns]:
        frame[missing] = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    order = townships.order()
    frame["_t"] = frame["township"].map(order).fillna(len(order))
    frame["_v"] = frame["village"].fillna("").astype(str) if "village" in frame else ""
    frame["_seen"] = [isinstance(v, str) and bool(v) for v in frame["last_seen"]]
    frame = frame.sort_values(["_t", "_v", "_seen", "days_since", "name"],
                              ascending=[True, True, True, False, True], kind="stable")
    frame = frame.drop(columns=["_t", "_v", "_seen"]).reset_index(drop=True)
    for flag in ("gap", "seen_this_month", "due_this_month"):
        frame[flag] = frame[flag].fillna(False).astype(bool)
    frame["unseen_visits"] = [list(v) if isinstance(v, (list, tuple)) else [] for v in frame["unseen_visits"]]
    return frame


def summary_line(people: pd.DataFrame) -> str:
    """重点人群 N 人，本月已见面走访 S 人；本月应走访 D 人，其中尚未见面（缺口）G 人。

    Those who joined this month are not yet due, but a visit to them still counts as seen.
    """
    def count(flag: str) -> int:
        return int(np.count_nonzero(people[flag].to_numpy(dtype=bool)))

    return (f"重点人群 {len(people)} 人，本月已见面走访 {count('seen_this_month')} 人；"
            f"本月应走访 {count('due_this_month')} 人，其中尚未见面（缺口）{count('gap')} 人。")


def _iso_date(value):
    return date.fromisoformat(value) if isinstance(value, str) and value else None


def _cells(people: pd.DataFrame) -> dict[str, list]:
    """Every column the sheets show, as the cells' values, one per person (ordered's rows)."""
    out = {key: people[key].tolist() for key in USED}
    out["last_seen"] = [_iso_date(v) or NEVER_SEEN for v in out["last_seen"]]
    out["key_since"] = [_iso_date(v) for v in out["key_since"]]
    out["days_since"] = [None if pd.isna(v) else int(v) for v in out["days_since"]]
    out["unseen_dates"] = ["、".join(v) for v in out["unseen_visits"]]
    out["unseen_count"] = [len(v) for v in out["unseen_visits"]]
    return out


def _sheet(ws, columns, values: dict[str, list], rows: list[int] | None, title: str, fmts: dict, *,
           lines: list[str], empty: str) -> None:
    """One sheet's table of the people at positions `rows` (all when None), numbered 1, 2, 3…"""
    count = len(values["township"]) if rows is None else len(rows)
    last_col = len(columns) - 1
    width = sum(w for _, _, w, _ in columns)
    write_merged(ws, 0, last_col, title, fmts["title"], height=36)
    row = 0
    for line in lines if count else [empty]:
        row += 1
        write_merged(ws, row, last_col, line, fmts["note" if count else "note_bold"], width=width)
    header = row + 1
    for index, (_, text, w, _) in enumerate(columns):
        ws.set_column(index, index, w)
        ws.write_string(header, index, text, fmts["header"])
    ws.set_row(header, row_height([(text, w) for _, text, w, _ in columns]))
    cells = [(list(range(1, count + 1)) if key == "seq" else values[key] if rows is None
              else [values[key][i] for i in rows], fmts[fmt]) for key, _, _, fmt in columns]
    heights = row_heights([(v, w) for (v, _), (_, _, w, _) in zip(cells, columns)])
    write_rows(ws, header + 1, cells, date_fmt=fmts["date"], heights=heights)
    print_setup(ws, header_rows=(header, header), last_col=last_col)
