"""退回意见 (pipeline/reports/feedback.py), on reports made by the real checker from real workbooks."""

from __future__ import annotations

import warnings
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from pipeline.intake.check import check_file
from pipeline.model import CODE_LABELS
from pipeline.reports import feedback
from pipeline.rules import spec
from pipeline.tools import xlsx

AS_OF = date(2026, 11, 28)
FORM = spec.form()
HEADERS = [c.header for c in FORM.columns]
FORMULA_NAME = '=HYPERLINK("http://x","y")'
RED = "FF" + xlsx.BAD_FILL.lstrip("#")


def row(**cells) -> list:
    """A form row by column key; the required columns filled with valid values unless given."""
    base = {"method": "走访发现", "finder": "王平", "township": "城西街道", "name": "张三",
            "household": "户籍人口3人，本人患病", "suspected": "城乡低保"}
    base.update(cells)
    return [base.get(key) for key in FORM.keys]


def write_form(path: Path, sheets: dict[str, list[list]], visits: list[list] | None = None) -> Path:
    """A submission as a township would type it: one header row, then rows, per sheet."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        ws.append(HEADERS)
        for values in rows:
            ws.append(values)
            for cell in ws[ws.max_row]:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.data_type = "s"  # typed as text: openpyxl would store a formula
    if visits is not None:
        ws = wb.create_sheet(spec.visits_table().sheet)
        ws.append([c.header for c in spec.visits_table().columns])
        for values in visits:
            ws.append(values)
    wb.save(path)
    return path


def _load(path: Path) -> openpyxl.Workbook:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return openpyxl.load_workbook(path)


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    folder = tmp_path_factory.mktemp("feedback")
    source = write_form(folder / "城西街道1128.xlsx", {"明细表": [
        row(name="张三"),                                            # 2: good
        row(name="李四", method="电话发现", township="城北街道"),      # 3: two bad cells
        row(name=FORMULA_NAME),                                      # 4: not a name
        row(name="王五"),                                            # 5: good
        row(name="赵六", finder=None),                               # 6: required
        row(name="钱七", id_number=500114199001011234.0),            # 7: an ID Excel made a number
        row(name="孙八", discovered="2022.13.45"),                   # 8: bad date
        row(name="周九", township="石会镇"),                          # 9: good, under another township
    ]}, visits=[["张三", None, "城西街道", None, "昨天下午", "王平", "是", None]])
    report = check_file(source, AS_OF)
    out = folder / "退回" / "城西街道1128_退回意见.xlsx"
    feedback.write_feedback(out, report, as_of=AS_OF)
    return report, out, _load(out)


def test_the_checker_found_what_we_planted(checked):
    report, _, _ = checked
    assert sorted({(e.sheet, e.row) for e in report.errors if e.sheet == "明细表"}) == \
           [("明细表", r) for r in (3, 4, 6, 7, 8)]
    assert any(e.sheet == spec.visits_table().sheet for e in report.errors)
    assert report.notes  # 周九 is under 石会镇


def test_sheets(checked):
    _, _, wb = checked
    assert wb.sheetnames == [feedback.LETTER_SHEET, feedback.ROWS_SHEET, feedback.VISIT_ROWS_SHEET,
                             feedback.LIST_SHEET]


def test_a_visit_sent_back_is_shown_as_typed_with_its_bad_cell_red(checked):
    report, _, wb = checked
    ws = wb[feedback.VISIT_ROWS_SHEET]
    header = [c.value for c in ws[2]]
    assert header[:2] == [feedback.ROW_COLUMN, "对象姓名"] and header[-1] == feedback.MESSAGES_COLUMN
    [cells] = list(ws.iter_rows(min_row=3))
    red = {header[c.column - 1]: c.value for c in cells if c.fill.fgColor.rgb == RED}
    assert red == {"走访日期": "昨天下午"}
    assert cells[header.index("走访日期")].comment.text.startswith("「走访日期」的「昨天下午」不是有效日期")


def test_letter_says_what_to_do(checked):
    report, _, wb = checked
    text = "\n".join(str(v) for r in wb[feedback.LETTER_SHEET].iter_rows(values_only=True) for v in r if v)
    assert report.file in text and "城西街道民政和社会事务办（社保所）：" in text
    assert f"共{report.rows}行，合格{report.accepted}行，需修改{report.rejected}行" in text
    assert feedback.RESEND in text and "2026年11月28日" in text
    assert all(note in text for note in report.notes)


def test_bad_rows_as_typed_with_red_cells_and_comments(checked):
    report, _, wb = checked
    ws = wb[feedback.ROWS_SHEET]
    header = [c.value for c in ws[2]]
    assert header[0] == feedback.ROW_COLUMN and header[-1] == feedback.MESSAGES_COLUMN
    official = [c.header for c in FORM.columns if c.official]
    assert header[1:1 + len(official)] == official  # the form's order and headers
    rows = list(ws.iter_rows(min_row=3))
    assert [r[0].value for r in rows] == [3, 4, 6, 7, 8]  # original order, Excel rows of their file
    name_col = header.index(FORM.column("name").header)
    assert rows[1][name_col].value == FORMULA_NAME and rows[1][name_col].data_type == "s"
    id_col = header.index(FORM.column("id_number").header)
    typed = report.raw.loc[report.raw["_row"] == 7, "id_number"].item()
    assert rows[3][id_col].value == typed and "e+17" in typed  # as the file holds it, not re-formatted

    red = {(r[0].value, header[c.column - 1]) for r in rows for c in r if c.fill.fgColor.rgb == RED}
    form_errors = [e for e in report.errors if e.sheet == "明细表"]
    expected = {(e.row, FORM.column(FORM.match(e.column)).header) for e in form_errors}
    assert red == expected
    for r in rows:
        for cell in r:
            if cell.fill.fgColor.rgb == RED:
                key = FORM.match(header[cell.column - 1])
                messages = [e.message for e in form_errors if e.row == r[0].value and FORM.match(e.column) == key]
                assert cell.comment is not None and cell.comment.text == "\n".join(messages)
            else:
                assert cell.comment is None
        assert r[-1].value == "\n".join(e.message for e in form_errors if e.row == r[0].value)


def test_problem_list_has_every_problem(checked):
    report, _, wb = checked
    ws = wb[feedback.LIST_SHEET]
    assert [c.value for c in ws[2]] == [h for h, _ in feedback.LIST_COLUMNS]
    listed = [r for r in ws.iter_rows(min_row=3, values_only=True) if isinstance(r[0], int)]
    assert len(listed) == len(report.errors)
    assert [(r[1], r[2], r[5], r[6]) for r in listed] == \
           [(e.sheet, e.row, CODE_LABELS[e.code], e.message) for e in report.errors]
    values = {r[4] for r in listed}
    assert FORMULA_NAME in values and "昨天下午" in values  # the visit sheet's problem is listed too


def test_nothing_is_a_formula_and_print_setup(checked):
    _, _, wb = checked
    for ws in wb:
        assert all(c.data_type != "f" for r in ws.iter_rows() for c in r)
        assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == xlsx.PAPER_A4
    assert wb[feedback.ROWS_SHEET].print_title_rows == "$2:$2"
    assert wb[feedback.LIST_SHEET].print_title_rows == "$2:$2"


def test_same_report_same_bytes(checked, tmp_path):
    report, out, _ = checked
    again = tmp_path / "again.xlsx"
    feedback.write_feedback(again, report, as_of=AS_OF)
    assert again.read_bytes() == out.read_bytes()


def test_several_sheets_get_a_sheet_column(tmp_path):
    source = write_form(tmp_path / "石会镇.xlsx", {
        "一组": [row(township="石会镇"), row(name="李四", township="石会镇", method="电话")],
        "二组": [row(name="王五", township="石会镇", suspected="买房补贴")],
    })
    report = check_file(source, AS_OF)
    feedback.write_feedback(tmp_path / "fb.xlsx", report, as_of=AS_OF)
    ws = _load(tmp_path / "fb.xlsx")[feedback.ROWS_SHEET]
    assert [c.value for c in ws[2]][:2] == [feedback.SHEET_COLUMN, feedback.ROW_COLUMN]
    assert [(r[0], r[1]) for r in ws.iter_rows(min_row=3, values_only=True)] == [("一组", 3), ("二组", 2)]


def test_a_file_that_cannot_be_read(tmp_path):
    empty = tmp_path / "城西街道1128.xlsx"
    empty.write_bytes(b"")
    report = check_file(empty, AS_OF)
    assert report.status == "rejected" and report.errors and report.raw is None
    feedback.write_feedback(tmp_path / "fb.xlsx", report, as_of=AS_OF)
    wb = _load(tmp_path / "fb.xlsx")
    assert wb.sheetnames == [feedback.LETTER_SHEET, feedback.LIST_SHEET]
    letter = "\n".join(str(v) for r in wb[feedback.LETTER_SHEET].iter_rows(values_only=True) for v in r if v)
    assert report.errors[0].message in letter and "文件未能读取" in letter and feedback.RESEND_FILE in letter
    listed = [r for r in wb[feedback.LIST_SHEET].iter_rows(min_row=3, values_only=True) if isinstance(r[0], int)]
    assert [(r[5], r[6]) for r in listed] == [(CODE_LABELS[report.errors[0].code], report.errors[0].message)]


def test_the_feedback_workbook_corrected_and_sent_back_as_it_is_passes_without_notes(checked, tmp_path):
    # What 退回说明 asks: fix the red cells, send the whole file back. Its own columns (原行号,
    # 问题说明) and sheets must not draw a note, and the fixed rows must pass.
    _, out, _ = checked
    wb = openpyxl.load_workbook(out)
    ws = wb[feedback.ROWS_SHEET]
    header = [c.value for c in ws[2]]
    fixes = {FORM.column(k).header: v for k, v in
             {"method": "走访发现", "township": "城西街道", "finder": "王平", "name": "吴十",
              "discovered": "2022-11-13"}.items()}
    for cells in ws.iter_rows(min_row=3):
        for cell in cells:
            if cell.fill.fgColor.rgb == RED:
                cell.value = fixes.get(header[cell.column - 1])  # the ID number: not known, left blank
                cell.comment = None
    visit = wb[feedback.VISIT_ROWS_SHEET]
    day = [c.value for c in visit[2]].index("走访日期") + 1
    visit.cell(3, day).value = "2022-11-27"
    back = tmp_path / "城西街道1128_退回意见.xlsx"
    wb.save(back)
    report = check_file(back, AS_OF)
    assert report.notes == [] and report.errors == []
    assert (report.status, report.rows, len(report.visits)) == ("accepted", 5, 1)


def test_a_result_without_its_investigation_marks_the_blank_to_fill(tmp_path):
    source = write_form(tmp_path / "城西街道1128.xlsx", {"明细表": [
        row(name="张三", result="不符合救助条件"),  # 2: a result, the investigation left blank
    ]})
    report = check_file(source, AS_OF)
    assert [(e.code, FORM.match(e.column)) for e in report.errors] == [("inconsistent_result", "result")]
    out = tmp_path / "退回.xlsx"
    feedback.write_feedback(out, report, as_of=AS_OF)
    ws = _load(out)[feedback.ROWS_SHEET]
    header = [c.value for c in ws[2]]
    [cells] = list(ws.iter_rows(min_row=3))
    red = {header[c.column - 1]: c.comment.text for c in cells if c.fill.fgColor.rgb == RED}
    assert set(red) == {FORM.column("result").header, FORM.column("investigation").header}
    assert red[FORM.column("investigation").header] == feedback.NO_INVESTIGATION
