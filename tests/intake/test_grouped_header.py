"""Two-row headers whose upper row groups columns, read as the printed form means them: each
column by its full header path, the lower cell first, whether the group labels are merged
across their columns or repeated over each, and whether the other headers are merged down."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import openpyxl
import pytest

from pipeline.intake.check import check_file
from pipeline.rules import spec

AS_OF = date(2026, 11, 28)
KEYS = [c.key for c in spec.form().columns][:10]  # the ten columns of the notice
LOWER = {"method": "发现方式", "finder": "发现人", "township": "所属乡镇（街道）",
         "investigation": "调查情况", "result": "办理结果"}
GROUPS = {"method": "发现情况", "finder": "发现情况", "township": "发现情况",
          "investigation": "乡镇（街道）", "result": "乡镇（街道）"}
PEOPLE = [[1, "走访发现", "王干部", "城东街道", "刘德华", "本人患病，无劳动能力", "城乡低保", "已入户核实",
           "纳入城乡低保，2026年11月20日", None],
          [2, "工作发现", "李干部", "城东街道", "张学友", "独居老人", "特困供养", None, None, None]]


def _grouped(path: Path, parents: str, others: str) -> Path:
    """The form with 发现情况 and 乡镇（街道） over their columns in rows 3-4. `parents`: merged
    (label once, cells merged across) or repeated (over each column); `others`: merged down
    both rows, upper (written in row 3 only) or lower (row 4 only)."""
    upper, lower = [], []
    for n, key in enumerate(KEYS):
        header = spec.form().column(key).header
        if key in GROUPS:
            first = KEYS.index(next(k for k in KEYS if GROUPS.get(k) == GROUPS[key])) == n
            upper.append(GROUPS[key] if parents == "repeated" or first else None)
            lower.append(LOWER[key])
        else:
            upper.append(header if others in ("merged", "upper") else None)
            lower.append(header if others == "lower" else None)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([spec.form_title()])
    ws.append(["填报单位：黔江区城东街道"])
    ws.append(upper)
    ws.append(lower)
    if parents == "merged":
        ws.merge_cells("B3:D3")
        ws.merge_cells("H3:I3")
    if others == "merged":
        for column in "AEFGJ":
            ws.merge_cells(f"{column}3:{column}4")
    for row in PEOPLE:
        ws.append(row)
    wb.save(path)
    return path


@pytest.mark.parametrize("others", ["merged", "upper", "lower"])
@pytest.mark.parametrize("parents", ["merged", "repeated"])
def test_grouped_header_names_each_column_by_its_path(tmp_path: Path, parents: str, others: str):
    report = check_file(_grouped(tmp_path / "城东.xlsx", parents, others), AS_OF)
    assert report.errors == [] and report.notes == []
    assert (report.status, report.rows, report.township) == ("accepted", 2, "城东街道")
    records = report.records
    assert records["township"].tolist() == ["城东街道", "城东街道"]
    assert records["finder"].tolist() == ["王干部", "李干部"]
    assert records["investigation"].tolist() == ["已入户核实", None]
    assert records["status"].tolist() == ["new_assisted", "pending"]
    assert records["_row"].tolist() == [5, 6]


def test_group_label_is_not_taken_for_the_township_column(tmp_path: Path):
    # The lower row names 所属乡镇（街道）: the label 乡镇（街道） above 调查情况 is not that column,
    # and the rows are not rejected for a township 已入户核实.
    report = check_file(_grouped(tmp_path / "城东.xlsx", "merged", "upper"), AS_OF)
    assert [e.code for e in report.errors] == []
    assert report.records["township"].tolist() == ["城东街道"] * 2
