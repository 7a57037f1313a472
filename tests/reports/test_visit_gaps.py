"""走访缺口 (pipeline/reports/visit_gaps.py): who to visit, who to visit again, and everyone."""

from __future__ import annotations

import warnings
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from pipeline.reports import visit_gaps as visit_report
from pipeline.tools import xlsx

AS_OF = date(2026, 11, 28)


def key_person(township: str, village: str, name: str, *, last_seen: str | None, days: int, due: bool = True,
               seen: bool = False, unseen: list[str] | None = None, status_label: str = "待办理",
               key_since: str = "2026-09-01") -> dict:
    """One row of visits.gaps."""
    return {"key": f"{township}|{name}", "township": township, "village": village, "name": name,
            "status_label": status_label, "key_since": key_since, "last_seen": last_seen, "days_since": days,
            "seen_this_month": seen, "due_this_month": due, "gap": due and not seen,
            "unseen_visits": unseen or []}


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> openpyxl.Workbook:
    rows = pd.DataFrame([  # deliberately out of order
        key_person("石会镇", "石会社区", "P5", last_seen=None, days=13, due=False, key_since="2026-11-15"),
        key_person("城东街道", "新建村", "P2", last_seen="2026-10-20", days=39),
        key_person("城西街道", "合心村", "P6", last_seen=None, days=70, status_label="救助观察群众"),
        key_person("城东街道", "新建村", "P3", last_seen="2026-11-10", days=18, seen=True, unseen=["2026-11-20"]),
        key_person("城东街道", "大坪村", "P4", last_seen="2026-10-01", days=58,
                   unseen=["2026-10-15", "2026-11-05"]),
        key_person("城东街道", "新建村", "P1", last_seen=None, days=40),
    ])
    path = tmp_path_factory.mktemp("gaps") / "走访缺口.xlsx"
    visit_report.write_gaps(path, rows, as_of=AS_OF)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return openpyxl.load_workbook(path)


def _table(ws, header: str = "序号") -> tuple[list, list[tuple]]:
    """(header row, data rows) of a sheet: the header is the row that starts with 序号."""
    rows = list(ws.iter_rows(values_only=True))
    at = next(n for n, r in enumerate(rows) if r[0] == header)
    return list(rows[at]), [r for r in rows[at + 1:] if r[0] is not None]


def test_sheets(book):
    assert book.sheetnames == [visit_report.GAPS_SHEET, visit_report.AGAIN_SHEET, visit_report.ALL_SHEET]


def test_gaps_grouped_and_never_seen_first(book):
    ws = book[visit_report.GAPS_SHEET]
    header, rows = _table(ws)
    assert header == [h for _, h, _, _ in visit_report.GAP_COLUMNS]
    assert [(r[1], r[2], r[3]) for r in rows] == [
        ("城东街道", "大坪村", "P4"), ("城东街道", "新建村", "P1"), ("城东街道", "新建村", "P2"),
        ("城西街道", "合心村", "P6")]
    assert [r[6] for r in rows] == [datetime(2026, 10, 1), visit_report.NEVER_SEEN, datetime(2026, 10, 20),
                                    visit_report.NEVER_SEEN]
    assert [r[7] for r in rows] == [58, 40, 39, 70]
    assert {r[8] for r in rows} == {"否"}
    assert rows[0][5] == datetime(2026, 9, 1) and ws.cell(5, 6).number_format == "yyyy-mm-dd"
    assert ws["A2"].value == "重点人群 6 人，本月已见面走访 1 人；本月应走访 5 人，其中尚未见面（缺口）4 人。"


def test_visits_where_nobody_was_seen(book):
    ws = book[visit_report.AGAIN_SHEET]
    header, rows = _table(ws)
    assert header == [h for _, h, _, _ in visit_report.AGAIN_COLUMNS]
    assert rows == [(1, "城东街道", "大坪村", "P4", "2026-10-15、2026-11-05", 2),
                    (2, "城东街道", "新建村", "P3", "2026-11-20", 1)]
    assert "走访到户不见人不放过" in ws["A1"].value


def test_everyone_with_the_month(book):
    header, rows = _table(book[visit_report.ALL_SHEET])
    assert header[-2:] == ["本月应走访", "本月已见面"]
    assert [r[3] for r in rows] == ["P4", "P1", "P2", "P3", "P6", "P5"]
    assert [(r[-2], r[-1]) for r in rows] == [("是", "否"), ("是", "否"), ("是", "否"), ("是", "是"),
                                              ("是", "否"), ("否", "否")]


def test_printable(book):
    for ws in book:
        assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == xlsx.PAPER_A4
        assert ws.print_title_rows and ws.freeze_panes
        assert all(c.data_type != "f" for r in ws.iter_rows() for c in r)


def test_nobody_to_visit(tmp_path: Path):
    empty = pd.DataFrame([key_person("城东街道", "新建村", "P1", last_seen=None, days=1)]).iloc[0:0]
    visit_report.write_gaps(tmp_path / "g.xlsx", empty, as_of=AS_OF)
    wb = openpyxl.load_workbook(tmp_path / "g.xlsx")
    assert "无走访缺口" in wb[visit_report.GAPS_SHEET]["A2"].value
    assert _table(wb[visit_report.ALL_SHEET])[1] == []


def test_same_input_same_bytes(tmp_path: Path):
    rows = pd.DataFrame([key_person("城东街道", "新建村", "P1", last_seen=None, days=40)])
    visit_report.write_gaps(tmp_path / "a.xlsx", rows, as_of=AS_OF)
    visit_report.write_gaps(tmp_path / "b.xlsx", rows, as_of=AS_OF)
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
