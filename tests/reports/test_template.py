"""The blank form (pipeline/reports/template.py) and the shared workbook helpers (pipeline/tools/xlsx.py)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import warnings
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from pipeline.errors import JiuzhuError
from pipeline.reports.template import (
    FORM_SHEET,
    GUIDE_SHEET,
    OPTIONS_SHEET,
    RESULT_EXAMPLES,
    write_assistants_template,
    write_template,
)
from pipeline.rules import spec, townships
from pipeline.rules.dates import EARLIEST_DATE
from pipeline.tools import xlsx

CREATED = date(2022, 11, 9)
AS_OF = date(2026, 11, 28)
HEADER_ROW = 3  # Excel row of the form's header
FIRST_ROW = HEADER_ROW + 1


def _load(path: Path) -> openpyxl.Workbook:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # openpyxl must understand everything we wrote
        return openpyxl.load_workbook(path)


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return write_template(tmp_path_factory.mktemp("tpl") / "明细表模板.xlsx", created=CREATED)


@pytest.fixture(scope="module")
def book(template) -> openpyxl.Workbook:
    return _load(template)


def _validations(ws) -> dict[str, object]:
    """Data validations by the column letter of their first cell (row FIRST_ROW and below)."""
    out = {}
    for dv in ws.data_validations.dataValidation:
        first = str(dv.sqref).split()[0].split(":")[0]
        out[re.sub(r"\d+", "", first) if first.endswith(str(FIRST_ROW)) else first] = dv
    return out


def _letter(table: spec.Table, key: str, first_col: int = 1) -> str:
    return openpyxl.utils.get_column_letter(table.keys.index(key) + first_col)


# --- the form sheet -------------------------------------------------------------------


def test_sheets_in_order_with_lists_hidden(book):
    visits = spec.visits_table().sheet
    assert book.sheetnames == [FORM_SHEET, visits, GUIDE_SHEET, OPTIONS_SHEET]
    assert [book[n].sheet_state for n in book.sheetnames] == ["visible", "visible", "visible", "hidden"]
    assert book.active.title == FORM_SHEET


def test_title_merged_over_the_table(book):
    ws = book[FORM_SHEET]
    last = openpyxl.utils.get_column_letter(len(spec.form().columns))
    assert ws["A1"].value == spec.form_title() == "黔江区社会救助主动发现救助对象明细表"
    assert f"A1:{last}1" in {str(r) for r in ws.merged_cells.ranges}
    assert ws["A1"].font.b and ws["A1"].font.sz >= 16


def test_official_headers_exactly_as_on_the_form(book):
    ws = book[FORM_SHEET]
    row = [c.value for c in ws[HEADER_ROW]]
    official = [c.header for c in spec.form().columns if c.official]
    assert row[:10] == official == [
        "序号",
        "发现方式（走访发现、信息推送发现、工作发现）",
        "发现人",
        "所属乡镇（街道）",
        "对象姓名",
        "家庭基本情况",
        "疑似符合救助（城乡低保、特困供养、临时救助、医疗救助、教育救助、住房救助、就业救助、受灾人员救助等）",
        "乡镇（街道）调查情况",
        "乡镇（街道）办理结果（不符合救助条件、纳入救助范畴和纳入时间）",
        "备注",
    ]


def test_optional_headers_follow_and_say_optional(book):
    ws = book[FORM_SHEET]
    cells = ws[HEADER_ROW][10:]
    assert [c.value for c in cells] == ["身份证号码", "村（社区）", "发现日期", "联系电话"]
    for cell in cells:
        assert cell.comment is not None and cell.comment.text.startswith("选填")
        assert cell.fill.fgColor.rgb != ws["B3"].fill.fgColor.rgb  # styled apart from the official ones
    assert ws["B3"].comment is None


def test_header_wrapped_bordered_and_widths_from_spec(book):
    ws = book[FORM_SHEET]
    for index, col in enumerate(spec.form().columns, start=1):
        cell = ws.cell(HEADER_ROW, index)
        assert cell.alignment.wrap_text and cell.border.top.style == "thin"
        letter = openpyxl.utils.get_column_letter(index)
        assert abs(ws.column_dimensions[letter].width - col.width) < 1
    assert ws.row_dimensions[HEADER_ROW].height > 60  # the long bracketed headers are readable


def test_blank_rows_boxed_and_id_column_is_text(book):
    ws = book[FORM_SHEET]
    form = spec.form()
    for row in (FIRST_ROW, FIRST_ROW + 19):
        for col in range(1, len(form.columns) + 1):
            cell = ws.cell(row, col)
            assert cell.value is None and cell.border.left.style == "thin"
    assert ws[f"{_letter(form, 'id_number')}{FIRST_ROW}"].number_format == "@"
    assert ws[f"{_letter(form, 'phone')}{FIRST_ROW}"].number_format == "@"
    assert ws[f"{_letter(form, 'discovered')}{FIRST_ROW}"].number_format == "yyyy-mm-dd"
    # Rows further down are boxed once something is typed, not printed as empty grid.
    rules = [rule for rng in ws.conditional_formatting for rule in rng.rules]
    assert any("COUNTA" in f for rule in rules for f in rule.formula)


def test_preamble_without_township(book):
    ws = book[FORM_SHEET]
    row = [c.value for c in ws[2]]
    assert row[0] == "填报单位：" and row[2] is None
    assert "填报日期：" in row


def test_preamble_names_the_township(tmp_path):
    path = write_template(tmp_path / "t.xlsx", township="城西", created=CREATED)
    ws = _load(path)[FORM_SHEET]
    text = "".join(str(c.value) for c in ws[2] if c.value)
    assert text.startswith("填报单位：城西街道（盖章）")
    assert ws["C2"].value == "城西街道"
    dv = _validations(ws)[_letter(spec.form(), "township")]
    assert "城西街道" in dv.prompt
    assert all(ws.cell(r, 4).value is None for r in range(FIRST_ROW, FIRST_ROW + 20))  # rows not pre-filled


@pytest.mark.parametrize("name", ["太极乡", "黔江区城西街道办事处", "城西街道"])
def test_township_names_are_canonicalised(tmp_path, name):
    path = write_template(tmp_path / "t.xlsx", township=name, created=CREATED)
    assert _load(path)[FORM_SHEET]["C2"].value == townships.canonical(name)


def test_unknown_township_is_refused(tmp_path):
    with pytest.raises(JiuzhuError, match="不是黔江区的乡镇"):
        write_template(tmp_path / "t.xlsx", township="城北街道", created=CREATED)
    assert not (tmp_path / "t.xlsx").exists()


# --- drop-downs and checks --------------------------------------------------------------


def _named_values(book, name: str) -> list[str]:
    ref = book.defined_names[name].attr_text
    sheet, cells = ref.split("!")
    ws = book[sheet.strip("'")]
    return [c.value for row in ws[cells.replace("$", "")] for c in row]


def test_validations_on_the_form(book):
    ws = book[FORM_SHEET]
    form = spec.form()
    last = FIRST_ROW + 999
    dvs = _validations(ws)
    method = dvs[_letter(form, "method")]
    assert str(method.sqref) == f"B{FIRST_ROW}:B{last}"
    assert method.type == "list" and _named_values(book, method.formula1) == list(
        spec.vocabulary("methods").values)
    township = dvs[_letter(form, "township")]
    assert township.type == "list"
    assert _named_values(book, township.formula1) == [t.name for t in townships.listed()]
    assert len(_named_values(book, township.formula1)) == 30
    suspected = dvs[_letter(form, "suspected")]
    assert suspected.type is None  # input message only: several types may be given
    assert all(t in suspected.prompt for t in spec.vocabulary("assistance_types").values)
    assert "可填多项，用顿号、分隔" in suspected.prompt
    discovered = dvs[_letter(form, "discovered")]
    assert discovered.type == "date" and "如 2026-11-20" in discovered.prompt
    assert discovered.formula2 == "TODAY()"
    id_number = dvs[_letter(form, "id_number")]
    assert (id_number.type, id_number.operator, id_number.formula1) == ("textLength", "equal", "18")
    assert id_number.errorStyle in (None, "stop") and "18位" in id_number.error
    for key in form.keys:  # every input column says whether it is required
        dv = dvs[_letter(form, key)]
        assert dv.promptTitle.endswith("（必填）" if form.column(key).required else "（选填）")


def test_earliest_date_agrees_with_the_validator():
    validate = pytest.importorskip("pipeline.intake.validate")
    assert EARLIEST_DATE == validate.EARLIEST_DATE


def test_visits_sheet(book):
    table = spec.visits_table()
    ws = book[table.sheet]
    assert [c.value for c in ws[1]] == [c.header for c in table.columns]
    dvs = {re.sub(r"\d+", "", str(dv.sqref).split(":")[0]): dv for dv in ws.data_validations.dataValidation}
    seen = dvs[_letter(table, "seen")]
    assert seen.type == "list" and _named_values(book, seen.formula1) == ["是", "否"]
    assert dvs[_letter(table, "visit_date")].type == "date"
    assert dvs[_letter(table, "township")].type == "list"
    assert ws[f"{_letter(table, 'id_number')}2"].number_format == "@"
    assert ws["A2"].border.left.style == "thin"
    assert ws.print_title_rows == "$1:$1" and ws.freeze_panes == "A2"
    assert ws.page_setup.orientation == "landscape"


def test_print_settings(book):
    ws = book[FORM_SHEET]
    assert ws.page_setup.orientation == "landscape"
    assert ws.page_setup.paperSize == 9
    assert ws.print_title_rows == f"${HEADER_ROW}:${HEADER_ROW}"
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert (ws.page_setup.fitToWidth in (None, 1)) and ws.page_setup.fitToHeight == 0
    assert ws.print_options.horizontalCentered
    assert ws.oddFooter.center.text == "第 &P 页，共 &N 页"
    assert ws.freeze_panes == f"A{FIRST_ROW}"


# --- the instructions -----------------------------------------------------------------


def _guide_text(book) -> str:
    return "\n".join(str(v) for row in book[GUIDE_SHEET].iter_rows(values_only=True) for v in row if v)


def test_guide_tells_a_clerk_what_to_write(book):
    text = _guide_text(book)
    for col in spec.form().columns:
        assert col.header in text
    for value in (*spec.vocabulary("methods").values, *spec.vocabulary("assistance_types").values):
        assert value in text
    for phrase in ("一人一行", "低保（城乡低保）", "特困（特困供养）", "用顿号、分隔",
                   "纳入城乡低保，2026年11月20日", "不符合救助条件，列入观察", "转介区医保局医疗救助",
                   "纳入低收入人口动态监测，2026年11月25日", "待办理", "2026年11月20日", "2026-11-20",
                   "18位", "文本格式", "每月至少走访1次", "走访到户不见人不放过", "零报告",
                   "jiuzhu check 文件名.xlsx", "密码", ".xlsx"):
        assert phrase in text, phrase
    ws = book[GUIDE_SHEET]
    assert ws.page_setup.paperSize == 9 and ws.page_setup.orientation == "portrait"


@pytest.mark.parametrize(("case", "example", "after", "status"), RESULT_EXAMPLES)
def test_result_examples_read_as_the_guide_says(case, example, after, status):
    classify = pytest.importorskip("pipeline.rules.results")
    remark = "本人患慢性病，收入低，生活困难" if status == "observation" else None
    outcome = classify.parse_result(example, remark=remark, investigation="已入户核实", as_of=AS_OF)
    assert (outcome.status, outcome.problem) == (status, None)


# --- determinism ------------------------------------------------------------------------


@pytest.mark.parametrize("township", [None, "城西街道"])
def test_same_input_same_bytes(tmp_path, township):
    first = write_template(tmp_path / "a.xlsx", township=township, created=CREATED)
    second = write_template(tmp_path / "b.xlsx", township=township, created=CREATED)
    assert first.read_bytes() == second.read_bytes()
    other = write_template(tmp_path / "c.xlsx", township=township, created=date(2026, 11, 28))
    assert other.read_bytes() != first.read_bytes()  # the date really is pinned, not "now"


def test_document_dates_are_the_created_date(template):
    with zipfile.ZipFile(template) as zf:
        core = zf.read("docProps/core.xml").decode()
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert core.count("2022-11-09T00:00:00Z") == 2


# --- the assistants' roster -------------------------------------------------------------


def test_assistants_template(tmp_path):
    table = spec.assistants_table()
    path = write_assistants_template(tmp_path / "协理员.xlsx", township="城西", created=CREATED)
    book = _load(path)
    assert book.sheetnames == [table.sheet, OPTIONS_SHEET]
    ws = book[table.sheet]
    assert "协理员名册" in ws["A1"].value
    assert ws["B2"].value == "城西街道"
    assert [c.value for c in ws[HEADER_ROW]] == [c.header for c in table.columns]
    dv = _validations(ws)[_letter(table, "township")]
    assert _named_values(book, dv.formula1) == [t.name for t in townships.listed()]
    assert ws.page_setup.paperSize == 9 and ws.print_title_rows == f"${HEADER_ROW}:${HEADER_ROW}"
    again = write_assistants_template(tmp_path / "again.xlsx", township="城西", created=CREATED)
    assert again.read_bytes() == path.read_bytes()


# --- the checker reads the template -----------------------------------------------------


def _check():
    return pytest.importorskip("pipeline.intake.check", exc_type=ImportError)


def test_blank_template_is_a_zero_report(template):
    report = _check().check_file(template, as_of=AS_OF)
    assert (report.status, report.errors, report.rows, report.valid) == ("empty", [], 0, True)
    # No township in it nor in its name: the clerk is told to name one, or it counts for no one.
    assert [n.split("：")[0] for n in report.notes] == ["看不出是哪个乡镇（街道）报送的"]


def test_township_template_names_its_township(tmp_path):
    path = write_template(tmp_path / "zero.xlsx", township="濯水", created=CREATED)
    report = _check().check_file(path, as_of=AS_OF)
    assert (report.status, report.township) == ("empty", "濯水镇")


def _id(first17: str) -> str:
    from pipeline.rules.idcard import check_char

    return first17 + check_char(first17)


def test_filled_template_is_accepted(tmp_path, template):
    check = _check()
    form, visits = spec.form(), spec.visits_table()
    town = townships.listed()[2].name
    people = [
        {"seq": "1", "method": spec.vocabulary("methods").values[0], "finder": "王小红", "township": town,
         "name": "张秀英", "household": "独居老人，患慢性病，无固定收入。", "suspected": "城乡低保、医疗救助",
         "investigation": "已入户核实，情况属实。", "result": "纳入城乡低保，2026年11月20日",
         "id_number": _id("50011419500101002"), "village": "石城社区",
         "discovered": datetime(2026, 11, 2), "phone": "13800000000"},
        {"seq": "2", "method": spec.vocabulary("methods").values[1], "finder": "李建国", "township": town,
         "name": "李四海", "household": "妻子重病住院，两个孩子在读书。", "suspected": "临时救助"},
        {"seq": "3", "method": spec.vocabulary("methods").values[2], "finder": "王小红", "township": town,
         "name": "陈桂兰", "household": "房屋受灾损毁。", "suspected": "受灾人员救助、住房救助",
         "investigation": "已核实。", "result": "不符合救助条件"},
    ]
    book = openpyxl.load_workbook(template)
    ws = book[FORM_SHEET]
    for offset, person in enumerate(people):
        for key, value in person.items():
            ws.cell(FIRST_ROW + offset, form.keys.index(key) + 1, value)
    ws["C2"] = town
    ws = book[visits.sheet]
    visit = {"name": "李四海", "township": town, "visit_date": datetime(2026, 11, 25),
             "visitor": "王小红", "seen": "是", "notes": "本人在家，情况稳定。"}
    for key, value in visit.items():
        ws.cell(2, visits.keys.index(key) + 1, value)
    path = tmp_path / f"{town}1128.xlsx"
    book.save(path)

    report = check.check_file(path, as_of=AS_OF)
    assert report.errors == []
    assert (report.status, report.township, report.rows, report.accepted) == ("accepted", town, 3, 3)
    assert report.visits is not None and len(report.visits) == 1


# --- printing ---------------------------------------------------------------------------


def _soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        if os.environ.get("JIUZHU_REQUIRE_TOOLS") == "1":
            pytest.fail("soffice (LibreOffice) is required when JIUZHU_REQUIRE_TOOLS=1")
        pytest.skip("soffice (LibreOffice) not installed")
    return found


def test_template_prints_landscape(tmp_path, template):
    soffice = _soffice()
    outdir = tmp_path / "tmp"
    # A private profile: a LibreOffice already running elsewhere must not take the job.
    profile = (tmp_path / "lo-profile").as_uri()
    subprocess.run([soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(outdir), str(template)],
                   check=True, capture_output=True, timeout=240)
    pdf = (outdir / template.with_suffix(".pdf").name).read_bytes()
    pages = re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf)
    boxes = re.findall(rb"/MediaBox\s*\[\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)
    assert len(pages) >= 1 and boxes
    x0, y0, x1, y1 = map(float, boxes[0])
    assert x1 - x0 > y1 - y0  # the form (first sheet) is landscape
    assert abs((x1 - x0) - 841.9) < 2 and abs((y1 - y0) - 595.3) < 2  # A4


# --- pipeline/tools/xlsx.py -------------------------------------------------------------------

TRICKY_TEXT = ['=HYPERLINK("http://x","y")', "+1", "@SUM(A1)", "-2", "=1+1", "0012",
               "500101199001011234", "http://example.com", "1e5", " 张三 "]


def test_text_that_looks_like_a_formula_stays_text(tmp_path):
    path = tmp_path / "t.xlsx"
    wb = xlsx.new_workbook(path, created=CREATED)
    fmts = xlsx.formats(wb)
    ws = wb.add_worksheet("表")
    for row, value in enumerate(TRICKY_TEXT):
        ws.write(row, 1, value)  # even the generic write() must not make formulas or links
        xlsx.write_text(ws, row, 0, value, fmts["cell"])
    wb.close()
    with zipfile.ZipFile(path) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "hyperlink" not in sheet.lower()
    ws = _load(path)["表"]
    for row, value in enumerate(TRICKY_TEXT, start=1):
        for col in (1, 2):
            assert (ws.cell(row, col).data_type, ws.cell(row, col).value) == ("s", value)


def test_write_text_keeps_each_kind(tmp_path):
    path = tmp_path / "t.xlsx"
    wb = xlsx.new_workbook(path, created=CREATED)
    fmts = xlsx.formats(wb)
    ws = wb.add_worksheet("表")
    values = [None, "", float("nan"), 3, 2.5, True, date(2026, 11, 20), datetime(2026, 11, 20, 8, 30)]
    for col, value in enumerate(values):
        xlsx.write_text(ws, 0, col, value, fmts["cell"], date_fmt=fmts["date"])
    xlsx.write_text(ws, 1, 0, date(2026, 11, 20), fmts["cell"])  # no date format: ISO text
    xlsx.write_text(ws, 1, 1, date(2026, 11, 20), fmts["date"])
    wb.close()
    ws = _load(path)["表"]
    got = [c.value for c in ws[1]]
    assert got[:3] == [None, None, None] and ws["A1"].border.left.style == "thin"
    assert got[3:6] == [3, 2.5, "是"]
    assert got[6] == datetime(2026, 11, 20) and ws["G1"].number_format == "yyyy-mm-dd"
    assert got[7] == datetime(2026, 11, 20, 8, 30)
    assert (ws["A2"].value, ws["B2"].value) == ("2026-11-20", datetime(2026, 11, 20))


def test_write_text_takes_dataframe_values(tmp_path):
    np = pytest.importorskip("numpy")
    pd = pytest.importorskip("pandas")
    path = tmp_path / "t.xlsx"
    wb = xlsx.new_workbook(path, created=CREATED)
    fmts = xlsx.formats(wb)
    ws = wb.add_worksheet("表")
    values = [np.int64(3), np.bool_(False), np.datetime64("2026-11-20"), pd.Timestamp("2026-11-21"),
              pd.NaT, pd.NA, np.float64("nan")]
    for col, value in enumerate(values):
        xlsx.write_text(ws, 0, col, value, fmts["cell"], date_fmt=fmts["date"])
    wb.close()
    got = [c.value for c in _load(path)["表"][1]]
    assert got == [3, "否", datetime(2026, 11, 20), datetime(2026, 11, 21), None, None, None]


def test_unwritable_path_is_a_clear_error(tmp_path):
    with pytest.raises(JiuzhuError, match="文件夹「.*没有这个文件夹」不存在，无法保存 t.xlsx"):
        write_template(tmp_path / "没有这个文件夹" / "t.xlsx", created=CREATED)


def test_write_table_and_print_setup(tmp_path):
    path = tmp_path / "t.xlsx"
    wb = xlsx.new_workbook(path, created=CREATED)
    fmts = xlsx.formats(wb)
    ws = wb.add_worksheet("统计")
    columns = [("所属乡镇（街道）", 12), ("人数", 8), ("最近发现日期", 12)]
    rows = [["城西街道", 3, date(2026, 11, 2)], ["=cmd|' /C calc'!A0", 1]]
    last = xlsx.write_table(ws, 0, columns, rows, fmts, title="统计表")
    xlsx.print_setup(ws, header_rows=(1, 1), last_col=2, last_row=last)
    wb.close()
    assert last == 3
    ws = _load(path)["统计"]
    assert ws["A1"].value == "统计表" and "A1:C1" in {str(r) for r in ws.merged_cells.ranges}
    assert [c.value for c in ws[2]] == ["所属乡镇（街道）", "人数", "最近发现日期"]
    assert ws["A2"].font.b and ws["A2"].fill.fgColor.rgb.endswith("D9D9D9")
    assert [c.value for c in ws[3]] == ["城西街道", 3, datetime(2026, 11, 2)]
    assert ws["A4"].data_type == "s" and ws["A4"].value.startswith("=cmd")
    assert ws["C4"].value is None and ws["C4"].border.bottom.style == "thin"
    assert ws.print_title_rows == "$2:$2" and ws.freeze_panes == "A3"
    assert ws.print_area == "'统计'!$A$1:$C$4"
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9


def test_new_workbook_is_deterministic(tmp_path):
    def build(name: str, created: date) -> bytes:
        wb = xlsx.new_workbook(tmp_path / name, created=created)
        fmts = xlsx.formats(wb)
        xlsx.write_table(wb.add_worksheet("表"), 0, [("对象姓名", 10)], [["张三"]], fmts)
        wb.close()
        return (tmp_path / name).read_bytes()

    assert build("a.xlsx", CREATED) == build("b.xlsx", CREATED)
    assert build("c.xlsx", AS_OF) != build("a.xlsx", CREATED)


def test_refused_validation_raises():
    wb = xlsx.new_workbook(Path(os.devnull), created=CREATED)
    ws = wb.add_worksheet()
    with pytest.raises(ValueError), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        xlsx.add_validation(ws, 0, 0, 9, 0, {"validate": "any", "input_title": "长" * 40,
                                             "input_message": "x"})


def test_row_height_grows_with_wrapped_text():
    short = xlsx.row_height([("备注", 14)])
    long = xlsx.row_height([(spec.form().column("suspected").header, 16)])
    assert short < 25 and long > 4 * short


def test_template_output_names(tmp_path: Path):
    from click.testing import CliRunner

    from pipeline.cli import main

    made = CliRunner().invoke(main, ["template", "--township", "城西", "-o", str(tmp_path / "城西街道明细表")])
    assert made.exit_code == 0 and (tmp_path / "城西街道明细表.xlsx").is_file()
    for name, said in [("城西.csv", "模板只能保存为 .xlsx 文件"), ("无此文件夹/城西.xlsx", "文件夹「")]:
        refused = CliRunner().invoke(main, ["template", "-o", str(tmp_path / name)])
        assert refused.exit_code != 0 and said in refused.output
        assert "Errno" not in refused.output
    assert not (tmp_path / "城西.csv").exists()
