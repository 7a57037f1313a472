"""The form as townships really send it: filled in Word, exported by a business system as a
web page or Excel 2003 XML under an .xls name, tab-separated text, several workbooks in one
.zip. Each is read as its workbook is: the same rows, the same problems, each found where a
person looks for it (表格N 第M行 in a document), and the same roster at the end of the week."""

from __future__ import annotations

import shutil
import sqlite3
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from pipeline.demo import synth
from pipeline.errors import InputFileError
from pipeline.intake import archives
from pipeline.intake.check import check_file, check_files
from pipeline.reports.feedback import AS_DOCUMENT, write_feedback
from pipeline.rules import spec
from tests.intake import formats

AS_OF = date(2026, 11, 28)
ROW_CODES = ["required", "invalid_value", "invalid_date", "invalid_id", "duplicate_row", "inconsistent_result"]


def _submission(tmp_path: Path, township: str = "城西街道", n: int = 20, errors=None, seed: int = 3):
    sub = synth.make_submission(tmp_path / f"{township}1128.xlsx", township, n, seed=seed, as_of=AS_OF,
                                errors=errors, with_visits=False)
    above, table = formats.split_table(formats.workbook_rows(sub.path))
    return sub, above, table


def _found(report) -> list[tuple]:
    return sorted((e.sheet, e.row, spec.form().match(e.column) or e.column, e.code) for e in report.errors)


def _same_rows(report, workbook_report) -> None:
    """The same people, field for field, as read from the workbook."""
    fields = [c for c in workbook_report.records.columns if not c.startswith("_")]
    read, expected = (r.records[fields].fillna("").values.tolist() for r in (report, workbook_report))
    assert read == expected


# --- Word --------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ROW_CODES)
def test_word_form_gives_the_workbooks_problems_at_table_rows(tmp_path: Path, code: str):
    sub, above, table = _submission(tmp_path, errors={code: 2})
    path = formats.write_docx(tmp_path / "城西街道1128.docx", table, above=above)
    report, workbook = check_file(path, AS_OF), check_file(sub.path, AS_OF)
    shift = len(formats.workbook_rows(sub.path)) - len(table)  # Excel rows above the table
    assert _found(report) == sorted(("表格1", row - shift, key, c) for _, row, key, c in _found(workbook))
    assert (report.status, report.rows, report.rejected, report.township, report.kind) == \
        (workbook.status, workbook.rows, workbook.rejected, "城西街道", "docx")
    assert report.filled_on == workbook.filled_on and report.filled_on  # 填报日期 from the line above the table
    _same_rows(report, workbook)


def test_word_rows_are_counted_in_their_table_header_included(tmp_path: Path):
    _, above, table = _submission(tmp_path, n=3)
    table[2][spec.form().keys.index("name")] = ""  # the second person's name left out
    report = check_file(formats.write_docx(tmp_path / "城西.docx", table, above=above), AS_OF)
    assert [(e.sheet, e.row, e.code) for e in report.errors] == [("表格1", 3, "required")]
    assert report.records["_row"].tolist() == [2, 4]


def test_word_merged_cells_are_read_as_a_workbooks(tmp_path: Path):
    _, above, table = _submission(tmp_path, n=3)
    keys = spec.form().keys
    method, finder, township = keys.index("method"), keys.index("finder"), keys.index("township")
    for row in table[2:4]:
        row[township] = ""  # 所属乡镇 typed once and merged down rows 2-4
    table[3][finder] = ""  # 发现方式 | 发现人 merged across in row 4: not spread
    merges = [(1, township, 3, township), (3, method, 3, finder)]
    report = check_file(formats.write_docx(tmp_path / "城西.docx", table, above=above, merges=merges), AS_OF)
    assert report.records["township"].tolist() == ["城西街道", "城西街道"]
    assert [(e.row, spec.form().match(e.column), e.code) for e in report.errors] == [(4, "finder", "required")]
    assert report.records["method"].tolist() == [table[1][method], table[2][method]]


def test_every_table_holding_the_form_is_read_and_the_notices_text_ignored(tmp_path: Path):
    _, above, table = _submission(tmp_path, n=4)
    first, second = table[:3], [table[0], *table[3:]]
    path = tmp_path / "城西.docx"
    formats.write_docx(path, first, above=above)
    import docx
    document = docx.Document(path)
    document.add_paragraph("（续表）")
    grid = document.add_table(rows=len(second), cols=len(second[0]))
    for r, row in enumerate(second):
        for c, value in enumerate(row):
            grid.cell(r, c).text = value
    document.save(path)
    report = check_file(path, AS_OF)
    assert (report.status, report.rows, report.notes) == ("accepted", 4, [])
    assert list(zip(report.records["_sheet"], report.records["_row"])) == \
        [("表格1", 2), ("表格1", 3), ("表格2", 2), ("表格2", 3)]


def test_the_notices_own_empty_attachment_table_is_a_zero_report(tmp_path: Path):
    header = [c.header for c in spec.form().columns if c.official]
    path = formats.write_docx(tmp_path / "石会镇1128零报告.docx", [header] + [[""] * len(header)] * 6)
    report = check_file(path, AS_OF)
    assert (report.status, report.rows, report.errors, report.township) == ("empty", 0, [], "石会镇")


def test_a_word_file_without_the_form_says_so(tmp_path: Path):
    path = formats.write_docx(tmp_path / "城西街道情况说明.docx", [["项目", "内容", "备注"], ["走访", "3户", ""]])
    report = check_file(path, AS_OF)
    assert [(e.code, e.sheet) for e in report.errors] == [("no_header", None)]
    assert "表格" in report.errors[0].message and "模板" in report.errors[0].message


def test_feedback_for_a_word_form_is_a_workbook_of_its_rows(tmp_path: Path):
    _, above, table = _submission(tmp_path, n=5, errors={"invalid_id": 1})
    report = check_file(formats.write_docx(tmp_path / "城西.docx", table, above=above), AS_OF)
    bad = report.errors[0]
    out = tmp_path / "城西_退回意见.xlsx"
    write_feedback(out, report, as_of=AS_OF)
    book = openpyxl.load_workbook(out)
    letter = "\n".join(str(c.value) for row in book["退回说明"].iter_rows() for c in row if c.value)
    assert AS_DOCUMENT.format(what="Word 文档", rows="需修改的行") in letter
    rows = book["需修改的行"]
    assert rows.cell(3, 1).value == bad.row  # 原行号: the row in 表格1
    marked = [c for row in rows.iter_rows(min_row=3) for c in row if c.comment]
    assert [c.comment.text for c in marked] == [bad.message] and marked[0].fill.fgColor.rgb.endswith("C7CE")
    listed = book["问题清单"]
    assert (listed.cell(2, 2).value, listed.cell(3, 2).value, listed.cell(3, 3).value) == ("表格", "表格1", bad.row)


# --- exports named .xls ------------------------------------------------------------------


@pytest.mark.parametrize("charset", ["gb2312", "utf-8"])
def test_web_page_named_xls_keeps_every_digit(tmp_path: Path, charset: str):
    sub, above, table = _submission(tmp_path, errors={"invalid_value": 1})
    path = formats.write_html(tmp_path / "城西街道1128.xls", table, above=above, charset=charset)
    report, workbook = check_file(path, AS_OF), check_file(sub.path, AS_OF)
    shift = len(formats.workbook_rows(sub.path)) - len(table)
    assert (report.kind, report.status, report.rows) == ("html", "partial", 20)
    assert _found(report) == sorted(("表格1", row - shift, key, c) for _, row, key, c in _found(workbook))
    ids = [i for i in report.records["id_number"] if i]
    assert ids and all(len(i) == 18 for i in ids)
    _same_rows(report, workbook)


@pytest.mark.parametrize("bom, encoding", [(b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le")])
def test_web_page_with_a_byte_order_mark_is_read_by_it(tmp_path: Path, bom: bytes, encoding: str):
    _, above, table = _submission(tmp_path, n=3)
    path = formats.write_html(tmp_path / "导出.xls", table, above=above, charset="utf-8")
    path.write_bytes(bom + path.read_bytes().decode("utf-8").replace("charset=utf-8", "charset=gbk").encode(encoding))
    report = check_file(path, AS_OF)  # the mark wins over a charset that is wrong
    assert (report.kind, report.status, report.rows, report.township) == ("html", "accepted", 3, "城西街道")


def test_web_page_spans_entities_nested_tags_and_several_tables(tmp_path: Path):
    _, _, table = _submission(tmp_path, n=3)
    keys = spec.form().keys
    township, method = keys.index("township"), keys.index("method")
    table[1][keys.index("household")] = "父亲&母亲 <均患病>"
    for row in table[2:4]:
        row[township] = ""
    table[3][method] = ""
    path = formats.write_html(tmp_path / "导出.xls", table, spans={(1, township): (3, 1), (3, method - 1): (1, 2)})
    page = path.read_bytes().decode("gb18030")
    page = page.replace("<table", "<div><span><b>统计</b></span></div>"
                                  "<table><tr><td>合计</td><td>3</td></tr></table><table", 1)
    path.write_bytes(page.replace("<td x:str>", "<td x:str><span><font>", 3).encode("gb18030"))
    report = check_file(path, AS_OF)
    assert report.records["township"].tolist() == ["城西街道"] * 2
    assert report.records["household"].tolist()[0] == "父亲&母亲 <均患病>"
    assert [(e.sheet, e.row, spec.form().match(e.column), e.code) for e in report.errors] == \
        [("表格2", 4, "method", "required")]
    assert report.notes == []  # the first table (统计) is the page's own


@pytest.mark.parametrize("encoding", ["gb2312", "utf-8"])
def test_excel_2003_xml_named_xls_is_read_at_excel_rows(tmp_path: Path, encoding: str):
    sub = synth.make_submission(tmp_path / "城西街道1128.xlsx", "城西街道", 20, seed=3, as_of=AS_OF,
                                errors={"invalid_date": 2}, with_visits=False)
    rows = formats.workbook_rows(sub.path)
    township = spec.form().keys.index("township")
    header = next(i for i, row in enumerate(rows) if sum(bool(v) for v in row) >= 3)
    for row in rows[header + 2: header + 4]:
        row[township] = ""
    path = formats.write_xml2003(tmp_path / "城西街道1128.xls", rows, encoding=encoding,
                                 merge_down={(header + 1, township): 2})
    report, workbook = check_file(path, AS_OF), check_file(sub.path, AS_OF)
    assert report.kind == "xml2003"
    assert [(s, r, k, c) for s, r, k, c in _found(report)] == \
        [("明细表", r, k, c) for _, r, k, c in _found(workbook)]
    _same_rows(report, workbook)


def test_tab_separated_text_named_xls_is_read_as_text(tmp_path: Path):
    _, _, table = _submission(tmp_path, n=4)
    path = tmp_path / "城西街道1128.xls"
    path.write_bytes("\r\n".join("\t".join(row) for row in table).encode("gb18030"))
    report = check_file(path, AS_OF)
    assert (report.kind, report.status, report.rows) == ("csv", "accepted", 4)
    assert all(len(i) == 18 for i in report.records["id_number"] if i)


# --- archives ----------------------------------------------------------------------------


@pytest.mark.parametrize("names", ["gbk", "utf-8"])
def test_a_zip_is_checked_file_by_file(tmp_path: Path, names: str):
    one, _, _ = _submission(tmp_path, "城西街道", n=5)
    two, above, table = _submission(tmp_path, "城南街道", n=4, errors={"required": 1}, seed=4)
    word = formats.write_docx(tmp_path / "城南街道1128.docx", table, above=above)
    path = formats.write_zip(tmp_path / "附件.zip", {"城西街道1128.xlsx": one.path.read_bytes(),
                                                     "城南/城南街道1128.docx": word.read_bytes(),
                                                     "盖章扫描件.pdf": b"%PDF-1.4", "__MACOSX/._x": b""}, names=names)
    report = check_files([path], AS_OF)
    assert [(f.file, f.status, f.township, f.rows, f.path) for f in report.files] == [
        ("附件.zip/城西街道1128.xlsx", "accepted", "城西街道", 5, path),
        ("附件.zip/城南/城南街道1128.docx", "partial", "城南街道", 4, path)]
    assert report.files[0].notes == ["压缩包「附件.zip」中的「盖章扫描件.pdf」不是明细表，没有读取。"]
    assert [(e.file, e.sheet, e.code) for e in report.files[1].errors] == \
        [("附件.zip/城南/城南街道1128.docx", "表格1", "required")]
    assert report.files[0].sha256 == check_file(one.path, AS_OF).sha256  # the workbook's own


def _zip(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in entries.items():
            zf.writestr(zipfile.ZipInfo(name), data)
    return path


@pytest.mark.parametrize("name, entries, code, words", [
    ("slip", {"../../etc/城西.xlsx": b"x"}, "unreadable", "压缩包以外"),
    ("absolute", {"/tmp/城西.xlsx": b"x"}, "unreadable", "压缩包以外"),
    ("drive", {"C:\\城西.xlsx": b"x"}, "unreadable", "压缩包以外"),
    ("backslashes", {"..\\城西.xlsx": b"x"}, "unreadable", "压缩包以外"),
    ("nested", {"城西.xlsx": b"x", "旧表.zip": b"PK\x05\x06" + bytes(18)}, "unsupported_type", "中还有压缩包"),
    ("nested rar", {"旧表.dat": b"Rar!\x1a\x07\x01\x00"}, "unsupported_type", "中还有压缩包"),
    ("nothing", {"说明.txt": "请查收".encode()}, "unsupported_type", "没有明细表"),
])
def test_archives_that_cannot_be_trusted_are_refused_whole(tmp_path: Path, name, entries, code, words):
    path = _zip(tmp_path / "城西.zip", entries)
    report = check_files([path], AS_OF).files
    assert [(f.file, f.status, [e.code for e in f.errors]) for f in report] == [("城西.zip", "rejected", [code])]
    assert words in report[0].errors[0].message and report[0].township == "城西街道"


def test_an_encrypted_zip_is_refused(tmp_path: Path):
    data = bytearray(_zip(tmp_path / "城西.zip", {"城西.xlsx": b"x" * 100}).read_bytes())
    for magic, at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # the password bit, as an encrypting tool sets it
        data[data.find(magic) + at] |= 0x1
    path = tmp_path / "城西.zip"
    path.write_bytes(bytes(data))
    with pytest.raises(InputFileError) as caught:
        archives.members(path)
    assert caught.value.code == "encrypted" and "密码" in caught.value.message
    assert [e.code for e in check_files([path], AS_OF).files[0].errors] == ["encrypted"]


def test_a_nested_zip_named_as_a_workbook_is_refused(tmp_path: Path):
    inner = _zip(tmp_path / "inner.zip", {"a.txt": b"a"})
    path = _zip(tmp_path / "城西.zip", {"城西.xlsx": inner.read_bytes()})
    assert [e.code for e in check_files([path], AS_OF).files[0].errors] == ["unsupported_type"]


# --- the same week, sent in every format -------------------------------------------------


def _persons(store: Path) -> list[tuple]:
    db = sqlite3.connect(store)
    try:
        return db.execute("SELECT key, township, village, name, id_number, data, status, programme, result_date, "
                          "referral, discovered, first_seen, updated, key_since FROM persons ORDER BY key").fetchall()
    finally:
        db.close()


def test_the_same_week_from_word_web_pages_and_a_zip_gives_the_same_roster(tmp_path: Path):
    from pipeline.run import run

    books, sent = tmp_path / "books", tmp_path / "sent"
    books.mkdir()
    sent.mkdir()
    towns = ["城西街道", "城南街道", "石会镇", "黑溪镇", "濯水镇", "太极镇"]
    files: dict[str, bytes] = {}
    for n, town in enumerate(towns):
        sub = synth.make_submission(books / f"{town}1128.xlsx", town, 15, seed=n, as_of=AS_OF,
                                    errors={"invalid_value": 1} if n % 2 else None, with_visits=False)
        above, table = formats.split_table(formats.workbook_rows(sub.path))
        if n in (0, 5):
            formats.write_docx(sent / f"{town}1128.docx", table, above=above)
        elif n == 1:
            formats.write_html(sent / f"{town}1128.xls", table, above=above)
        elif n == 2:
            formats.write_xml2003(sent / f"{town}1128.xls", formats.workbook_rows(sub.path))
        else:
            files[f"{town}1128.xlsx"] = sub.path.read_bytes()
    formats.write_zip(sent / "两镇报表.zip", files)
    first = run(books, tmp_path / "out1", tmp_path / "books.sqlite3", AS_OF)
    second = run(sent, tmp_path / "out2", tmp_path / "sent.sqlite3", AS_OF)
    assert _persons(tmp_path / "books.sqlite3") == _persons(tmp_path / "sent.sqlite3")
    assert first.report["roster"] == second.report["roster"] and first.report["roster"]["total"] == 87
    assert first.report["missing_townships"] == second.report["missing_townships"]
    assert sorted(f["file"] for f in second.report["files"]) == sorted(
        ["城西街道1128.docx", "城南街道1128.xls", "石会镇1128.xls", "两镇报表.zip/黑溪镇1128.xlsx",
         "两镇报表.zip/濯水镇1128.xlsx", "太极镇1128.docx"])
    assert sorted(p.name for p in (sent / "archive" / AS_OF.isoformat()).iterdir()) == sorted(
        ["城西街道1128.docx", "城南街道1128.xls", "石会镇1128.xls", "两镇报表.zip", "太极镇1128.docx"])
    shutil.copy(sent / "archive" / AS_OF.isoformat() / "两镇报表.zip", sent)  # the archive dropped again
    again = run(sent, tmp_path / "out2", tmp_path / "sent.sqlite3", AS_OF)
    assert [(r.file, r.status) for r in again.files] == [  # this run's own (the report holds the week's)
        ("两镇报表.zip/濯水镇1128.xlsx", "duplicate"), ("两镇报表.zip/黑溪镇1128.xlsx", "duplicate")]
    assert _persons(tmp_path / "sent.sqlite3") == _persons(tmp_path / "books.sqlite3")


def test_check_says_where_a_word_forms_problem_is(tmp_path: Path):
    from click.testing import CliRunner

    from pipeline.cli import main

    _, above, table = _submission(tmp_path, n=3)
    keys = spec.form().keys
    table[2][keys.index("name")] = ""
    table[3][keys.index("township")] = "城南街道"  # another township's person: noted where it is
    path = formats.write_docx(tmp_path / "城西街道1128.docx", table, above=above)
    result = CliRunner().invoke(main, ["check", str(path), "--as-of", AS_OF.isoformat()])
    assert result.exit_code == 1
    assert "[表格1，第3行，对象姓名]" in result.output
    assert "表格1第4行所属乡镇为「城南街道」" in result.output
