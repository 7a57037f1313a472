"""Finding the table inside a sheet (pipeline/intake/tables.py): the header below the title and
填报单位 rows, two-row headers, the data rows between the header and the footer, and what is
not a person (column numbers, subtotals, footers, a header pasted again, 本周无新增).

Sheets are real files read back with pipeline.intake.read: synthetic submissions
(pipeline.demo.synth) where they can show the layout, workbooks typed cell by cell with
openpyxl where a township's own layout is the point."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from pipeline.demo import synth
from pipeline.intake.check import check_file
from pipeline.intake.read import Sheet, read_sheets
from pipeline.intake.tables import cell_text, find_header, locate
from pipeline.rules import spec

AS_OF = date(2026, 11, 28)
FORM = spec.form()
HEADER = [c.header for c in FORM.columns]
KEYS = [c.key for c in FORM.columns]
TITLE = [spec.form_title()]


def row(name: str = "张三", **values) -> list:
    """A row of the form (all fourteen columns) about an obviously made-up person."""
    base = {"seq": 1, "method": "走访发现", "finder": "网格员甲", "township": "城东街道", "name": name,
            "household": "本人患病，无劳动能力", "suspected": "城乡低保", "village": "新安村", "discovered": "2026年11月2日"}
    base.update(values)
    return [base.get(k) for k in KEYS]


def typed(tmp_path: Path, rows: list[list], merges: tuple[str, ...] = ()) -> Sheet:
    """A one-sheet workbook typed row by row, as the reader sees it."""
    book = openpyxl.Workbook()
    for cells in rows:
        book.active.append(cells)
    for cells in merges:
        book.active.merge_cells(cells)
    path = tmp_path / "城东.xlsx"
    book.save(path)
    return read_sheets(path)[0]


# --- the header ------------------------------------------------------------------------


@pytest.mark.parametrize("headers", ["official", "short", "messy"])
@pytest.mark.parametrize("fmt, header_row, unit, filled", [
    ("xlsx", 3, "黔江区城西街道（盖章）", "2026年11月27日"),
    ("xls", 3, "黔江区城西街道（盖章）", "2026年11月27日"),
    ("csv", 1, None, None),  # a CSV has only the header and the rows
])
def test_a_submission_is_located_below_its_title_and_preamble(tmp_path: Path, headers, fmt, header_row, unit, filled):
    sub = synth.make_submission(tmp_path / f"城西1127.{fmt}", "城西街道", 5, seed=2, headers=headers,
                                filled_date=date(2026, 11, 27))
    located = locate(read_sheets(sub.path)[0])
    assert (located.kind, located.header_row, located.rows) == ("form", header_row, sub.row_numbers)
    assert (located.unit, located.filled_date, located.missing, located.unknown) == (unit, filled, [], [])
    assert list(located.columns) == KEYS and list(located.columns.values()) == list(range(14))


def test_each_sheet_is_located_as_its_own_kind(tmp_path: Path):
    sub = synth.make_submission(tmp_path / "城西1127.xlsx", "城西街道", 6, seed=4, with_visits=True,
                                extra_sheets=True, mix={"pending": 1})
    found = [(s.name, s.visible, t and (t.kind, t.header_row, len(t.rows)))
             for s in read_sheets(sub.path) for t in [locate(s)]]
    assert found == [("Sheet1", True, ("form", 3, 6)), ("走访记录", True, ("visits", 1, len(sub.visits))),
                     ("Sheet2", True, None), ("下拉选项", False, None)]


def test_the_official_form_without_optional_columns_lacks_nothing(tmp_path: Path):
    sub = synth.make_submission(tmp_path / "城西.xlsx", "城西街道", 2, optional_columns=False)
    located = locate(read_sheets(sub.path)[0])
    assert (list(located.columns), located.missing) == (KEYS[:10], [])


@pytest.mark.parametrize("header, found", [
    (HEADER, (2, "form", 14)),
    (["序号", "姓名", "乡镇", "救助类型"], (2, "form", 4)),
    (["姓名", "乡镇"], None),  # fewer than three headers named: no table
    (["对象姓名", "所属乡镇（街道）", "走访日期", "走访人", "是否见到本人"], (2, "visits", 5)),
    (["所属乡镇（街道）", "村（社区）", "协理员姓名", "联系电话"], (2, "assistants", 4)),
], ids=["form", "short form", "too few", "visits", "assistants"])
def test_find_header(tmp_path: Path, header, found):
    result = find_header(typed(tmp_path, [TITLE, ["填报单位：城东街道"], header, row()]))
    assert (result and (result[0], result[1].kind, len(result[2]))) == found


@pytest.mark.parametrize("lacking", [["household"], ["household", "suspected"]])
def test_required_columns_the_header_lacks_are_named(tmp_path: Path, lacking):
    header = [None if k in lacking else h for k, h in zip(KEYS, HEADER)]
    header[KEYS.index(lacking[0])] = "情况说明"
    located = locate(typed(tmp_path, [TITLE, header, row()]))
    assert (located.missing, located.unknown) == (lacking, ["情况说明"])


def test_a_second_remark_a_result_date_column_and_a_returned_workbook(tmp_path: Path):
    header = HEADER + ["纳入时间", "备注", "原行号", "问题说明", "其他"]
    located = locate(typed(tmp_path, [header, row() + ["2026-11-20", "补充", 4, "缺少姓名", None]]))
    assert (located.result_dates, located.repeated, located.returned, located.unknown) == (14, {"remark": [15]},
                                                                                          True, ["其他"])


@pytest.mark.parametrize("split", ["group label above", "details below"])
def test_a_two_row_header_names_every_column(tmp_path: Path, split: str):
    detail = {"investigation": "调查情况", "result": "办理结果"}
    upper = [h if k not in detail else None for k, h in zip(KEYS, HEADER)]
    upper[KEYS.index("investigation")] = "乡镇（街道）"
    lower = [detail.get(k) for k in KEYS]
    if split == "details below":  # 序号 and 备注 above; the rest of the header in the lower row
        upper = [h if k in ("seq", "remark") else None for k, h in zip(KEYS, HEADER)]
        upper[KEYS.index("investigation")] = "乡镇（街道）"
        lower = [None if k in ("seq", "remark") else detail.get(k, h) for k, h in zip(KEYS, HEADER)]
    located = locate(typed(tmp_path, [TITLE, upper, lower, row(), row("李四")]))
    assert list(located.headers) and set(located.headers) == set(KEYS)
    assert (located.headers["investigation"], located.headers["result"]) == ("调查情况", "办理结果")
    assert located.rows == [4, 5] and located.missing == []


def test_a_two_row_header_merged_down_is_read(tmp_path: Path):
    upper = HEADER[:7] + ["乡镇（街道）", None] + HEADER[9:10]
    lower = [None] * 7 + ["调查情况", "办理结果", None]
    merges = tuple(f"{c}2:{c}3" for c in "ABCDEFGJ") + ("H2:I2",)
    located = locate(typed(tmp_path, [TITLE, upper, lower, row()[:10]], merges))
    # The merged headers show in the lower row too, which then holds the whole header.
    assert (located.header_row, located.rows, list(located.columns)) == (3, [4], KEYS[:10])
    assert (located.headers["investigation"], located.headers["result"]) == ("调查情况", "办理结果")


# --- 填报单位 and 填报日期 ----------------------------------------------------------------


@pytest.mark.parametrize("preamble, unit, filled", [
    (["填报单位：黔江区城东街道", None, None, "填报日期：2026年11月27日"], "黔江区城东街道", "2026年11月27日"),
    (["填报单位：城东街道 填报日期：2026年11月27日"], "城东街道", "2026年11月27日"),  # one cell
    (["填报单位：", "城东街道", "填报日期：", datetime(2026, 11, 27)], "城东街道", date(2026, 11, 27)),
    (["报送单位：城东街道", "报送日期：2026.11.27"], "城东街道", "2026.11.27"),
    (["单位：城东街道", None, "日期：", "2026-11-27"], "城东街道", "2026-11-27"),
    (["填报单位：城东街道", "填报日期"], "城东街道", None),  # a label with nothing after it
    (["制表说明：请如实填写"], None, None),
], ids=["two cells", "one cell", "value in the next cell", "报送", "short labels", "date left blank", "none"])
def test_the_preamble_gives_unit_and_filled_date(tmp_path: Path, preamble, unit, filled):
    located = locate(typed(tmp_path, [TITLE, preamble, HEADER, row()]))
    assert (located.unit, located.filled_date) == (unit, filled)


@pytest.mark.parametrize("preamble", [
    ["填报单位（盖章）：", "黔江区城东街道", "填报日期：2026年11月27日"],
    ["填报单位：黔江区城东街道", None, "填报日期（年月日）：", "2026年11月27日"],
    ["填报单位：黔江区城东街道", None, "填报日期（年月日）：2026年11月27日"],
], ids=["unit sealed, value in next cell", "date format note, value in next cell", "date format note, one cell"])
def test_a_bracket_after_a_preamble_label_is_not_its_value(tmp_path: Path, preamble):
    located = locate(typed(tmp_path, [TITLE, preamble, HEADER]))
    assert (located.unit, located.filled_date) == ("黔江区城东街道", "2026年11月27日")


def test_a_zero_report_sealed_in_the_label_is_its_townships(tmp_path: Path):
    book = openpyxl.Workbook()
    for cells in [TITLE, ["填报单位（盖章）：", "黔江区城东街道", "填报日期：2026年11月27日"], HEADER]:
        book.active.append(cells)
    book.save(tmp_path / "零报告.xlsx")
    report = check_file(tmp_path / "零报告.xlsx", AS_OF)
    assert (report.status, report.township, report.notes) == ("empty", "城东街道", [])


# --- what is a person --------------------------------------------------------------------


@pytest.mark.parametrize("numbers, rows", [
    (list(range(1, 15)), [3]),
    ([f"({n})" for n in range(1, 15)], [3]),
    ([f"（{n}）" for n in range(1, 11)], [3]),
    ([chr(0x2460 + n) for n in range(14)], [3]),  # ① ② …
    (list("一二三四五六七八九十") + ["十一", "十二", "十三", "十四"], [3]),
    (list(range(14)), [3]),
    (["１", "２", "３", "４"], [3]),  # full-width, four are enough
    (list(range(2, 16)), [2, 3]),  # not counting from 0 or 1: a row of data, sent back by validation
    ([1, 2, 3, 5, 6, 7, 8], [2, 3]),  # a gap: not a numbering
], ids=["1", "(1)", "（1）", "①", "一", "0", "full-width", "from 2", "gap"])
def test_a_row_numbering_the_columns_is_not_a_person(tmp_path: Path, numbers, rows):
    located = locate(typed(tmp_path, [HEADER, numbers, row()]))
    assert located.rows == rows


@pytest.mark.parametrize("footer, below", [
    (["填表人：王五", None, None, None, "审核人：赵六"], [7]),
    (["填表人（签字）：王五"], [7]),
    (["制表：王五", None, None, None, "审核：赵六"], [7]),
    (["填表人 王五"], [7]),  # a space for the colon
    (["合计", None, None, None, "2人"], []),  # a total is no footer: people below it are not noted
    (["注：本表一式两份"], [7]),
], ids=["labels", "signed", "short labels", "no colon", "total", "note"])
def test_footers_subtotals_and_what_is_below_them(tmp_path: Path, footer, below):
    rows = [HEADER, row(), ["小计", None, None, None, "1人"], row("李四"), footer, [None, None, "2026年11月27日"],
            row("王五"), ["说明：以上情况属实"]]
    located = locate(typed(tmp_path, rows))
    assert (located.rows, located.below_footer) == ([2, 4, 7], below)


def test_a_synthetic_footer_with_its_total_is_not_a_person(tmp_path: Path):
    subs = [synth.make_submission(tmp_path / f"城西{seed}.xlsx", "城西街道", 3, seed=seed, blank_rows=True)
            for seed in range(4)]
    assert [locate(read_sheets(s.path)[0]).rows for s in subs] == [s.row_numbers for s in subs]


@pytest.mark.parametrize("cells, rows", [
    ([None, "无", None, "城东街道", "无", "无"], []),
    ([None, "本周无新增", None, None, "本周无新增"], []),
    ([None, None, None, None, "本周无新增发现对象"], []),
    ([None, "走访发现", "网格员甲", "城东街道"], []),  # only the columns filled down in advance
    (HEADER, []),  # the header pasted again above a second page
    ([None, None, None, None, "无名氏"], [3]),  # a name, if an odd one: validation judges it
], ids=["无", "本周无新增", "with a tail", "prefilled", "header again", "a name"])
def test_rows_that_name_no_one(tmp_path: Path, cells, rows):
    located = locate(typed(tmp_path, [HEADER, row(), cells]))
    assert located.rows == [2, *rows]


# --- cells as a person reads them -------------------------------------------------------


@pytest.mark.parametrize("value, text", [
    (None, ""), ("张三", "张三"), (3.0, "3"), (1.5, "1.5"), (12345678901.0, "12345678901"),
    (5.0011419600304e+17, "5.0011419600304e+17"),  # an ID Excel made a float: its lost digits show
    (True, "是"), (False, "否"), (7, "7"),
    (datetime(2026, 11, 20), "2026-11-20"), (datetime(2026, 11, 20, 8, 30), "2026-11-20 08:30:00"),
    (date(2026, 11, 2), "2026-11-02"),
])
def test_cell_text(value, text):
    assert cell_text(value) == text
