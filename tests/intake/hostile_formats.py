"""Builders of hostile Word files, web pages and archives, for the tests and benchmarks/
bench_formats.py. Each writes one file into the folder it is given and returns its path;
the bombs are streamed, never held in memory, and sparse where the size is the point."""

from __future__ import annotations

import zipfile
from pathlib import Path

from tests import hostile
from tests.intake import formats

DOCUMENT = "word/document.xml"
_W = b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'


def _small_docx(folder: Path) -> Path:
    return formats.write_docx(folder / "源.docx", [["序号", "发现方式", "对象姓名"], ["1", "走访发现", "张三"]])


def docx_bomb(folder: Path, inflated: int = 200 * 1024 * 1024) -> Path:
    """A .docx whose document part inflates to `inflated` bytes of spaces (declared honestly)."""
    return hostile.stream_bomb(_small_docx(folder), folder / "炸弹.docx", DOCUMENT, b'<?xml version="1.0"?>' + _W,
                               b"</w:body></w:document>", inflated)


def lying_docx_bomb(folder: Path) -> Path:
    """The same bomb, its directory claiming the document part is 5,000 bytes."""
    data = hostile._patch_directory(docx_bomb(folder).read_bytes(), DOCUMENT, 24, "<L", 5000)
    return hostile._write(folder / "说谎的炸弹.docx", data)


def docx_external_entity(folder: Path) -> Path:
    """XXE: a table cell that would pull in /etc/passwd."""
    document = (b'<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' + _W +
                b"<w:tbl><w:tr><w:tc><w:p><w:r><w:t>&xxe;</w:t></w:r></w:p></w:tc></w:tr></w:tbl>"
                b"</w:body></w:document>")
    return hostile._rewrite(_small_docx(folder), folder / "外部实体.docx", {DOCUMENT: document})


def docx_without_form(folder: Path) -> Path:
    return formats.write_docx(folder / "情况说明.docx", [["项目", "内容"], ["走访", "3户"]])


def html_nested_tags(folder: Path, depth: int = 100_000) -> Path:
    """A web page with 100,000 nested tags around its table (a recursive parser's end)."""
    table = "<table><tr><td>序号</td><td>发现方式</td><td>对象姓名</td></tr></table>"
    return hostile._write(folder / "深.xls", ("<html><body>" + "<div><span>" * (depth // 2) + table +
                                             "</span></div>" * (depth // 2) + "</body></html>").encode())


def html_nested_tables(folder: Path, depth: int = 100_000) -> Path:
    """100,000 tables, each inside a cell of the one before."""
    return hostile._write(folder / "套娃.xls", ("<html><table>" + "<tr><td><table>" * depth + "</table></html>").encode())


def html_huge(folder: Path, size: int = 200 * 1024 * 1024) -> Path:
    """A 200 MB page (sparse: nothing is written to disk)."""
    path = hostile._write(folder / "巨大.xls", b"<html><body><table><tr><td>")
    with path.open("r+b") as fh:
        fh.truncate(size)
    return path


def zip_slip(folder: Path) -> Path:
    """A member named to land outside the folder it is unpacked into."""
    with zipfile.ZipFile(folder / "越界.zip", "w") as zf:
        zf.writestr("城西街道1128.xlsx", hostile.rows_xlsx(folder).read_bytes())
        zf.writestr("../../../etc/cron.d/城西.xlsx", b"x")
    return folder / "越界.zip"


def zip_many(folder: Path, members: int = 10_000) -> Path:
    """A zip of 10,000 small workbooks' names."""
    with zipfile.ZipFile(folder / "一万个.zip", "w") as zf:
        for i in range(members):
            zf.writestr(f"城西{i}.csv", b"a,b\n")
    return folder / "一万个.zip"


def zip_bomb(folder: Path, declared: int | None = 5000) -> Path:
    """A zip whose one workbook inflates to 200 MB and claims `declared` bytes (None: the truth)."""
    path = folder / f"压缩炸弹{declared or ''}.zip"
    member = zipfile.ZipInfo("城西.csv")
    member.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(path, "w") as zf:
        with zf.open(member, "w", force_zip64=True) as out:
            for _ in range(200):
                out.write(b" " * (1024 * 1024))
    if declared is None:
        return path
    return hostile._write(path, hostile._patch_directory(path.read_bytes(), "城西.csv", 24, "<L", declared))


def honest_zip_bomb(folder: Path) -> Path:
    return zip_bomb(folder, None)


CASES = [  # (builder, the code it must be refused with)
    (docx_bomb, "too_large"), (lying_docx_bomb, "too_large"), (docx_external_entity, "unreadable"),
    (docx_without_form, "no_header"), (html_nested_tags, "missing_column"), (html_nested_tables, "too_large"),
    (html_huge, "too_large"), (zip_slip, "unreadable"), (zip_many, "too_large"), (zip_bomb, "too_large"),
]


def html_span_flood(folder: Path) -> Path:
    """Cells spanning 1,000 columns and 65,534 rows, then 20,000 empty rows under them."""
    flood = '<td rowspan="65534" colspan="1000">x</td>' * 2000
    return hostile._write(folder / "跨行.xls", (f"<html><table><tr>{flood}</tr>" + "<tr></tr>" * 20_000 +
                                              "<tr><td>张三</td></tr></table></html>").encode())


def xml2003_index_flood(folder: Path) -> Path:
    """Excel 2003 XML whose rows each put one cell in column 16,384."""
    row = '<Row><Cell ss:Index="16384"><Data ss:Type="String">x</Data></Cell></Row>'
    return hostile._write(folder / "远处.xls", ('<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:'
                                              'office:spreadsheet" xmlns:ss="urn:schemas-microsoft-com:office:'
                                              'spreadsheet"><Worksheet ss:Name="Sheet1"><Table>' + row * 1000 +
                                              "</Table></Worksheet></Workbook>").encode())


CASES += [(html_span_flood, "too_large"), (xml2003_index_flood, "too_large"), (honest_zip_bomb, "too_large")]
