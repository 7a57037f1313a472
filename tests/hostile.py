"""Builders of broken, mislabelled and hostile submissions for the guard's tests.

Each builder writes one file into the folder it is given and returns its path. Nothing
binary is committed: everything here is regenerated from the standard library,
xlsxwriter, xlwt and msoffcrypto-tool. The bombs are built by streaming, never in memory.
"""

from __future__ import annotations

import io
import random
import re
import shutil
import struct
import zipfile
from pathlib import Path

import msoffcrypto.format.ooxml
import xlsxwriter
import xlwt

HEADERS = ["序号", "发现方式", "发现人", "所属乡镇（街道）", "对象姓名", "家庭基本情况",
           "疑似符合救助", "乡镇（街道）调查情况", "乡镇（街道）办理结果", "备注",
           "身份证号码", "村（社区）", "发现日期", "联系电话"]
SHEET = "xl/worksheets/sheet1.xml"
GIGABYTE = 1024 ** 3
_SPACES = b" " * (1024 * 1024)
_HANZI = "张王李赵刘陈杨黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"


# --- well-formed files ------------------------------------------------------------------


def rows_xlsx(folder: Path, rows: int = 3, name: str = "城西街道.xlsx") -> Path:
    """An ordinary submission: 14 columns of Chinese text, `rows` rows."""
    path = folder / name
    rng = random.Random(rows)
    with xlsxwriter.Workbook(path) as wb:
        ws = wb.add_worksheet("明细表")
        ws.write_row(0, 0, HEADERS)
        for r in range(1, rows + 1):
            ws.write_row(r, 0, [str(r)] + [
                "".join(rng.choice(_HANZI) for _ in range(rng.randint(2, 30)))
                for _ in HEADERS[1:]])
    return path


def long_cell(folder: Path) -> Path:
    """A 32,000-character cell (Excel's limit is 32,767): ordinary, must be accepted."""
    path = folder / "长文本.xlsx"
    with xlsxwriter.Workbook(path) as wb:
        ws = wb.add_worksheet()
        ws.write_row(0, 0, HEADERS)
        ws.write_string(1, 5, "家" * 32_000)
    return path


def wide_sheet(folder: Path) -> Path:
    """200 columns: accepted."""
    path = folder / "宽表.xlsx"
    with xlsxwriter.Workbook(path) as wb:
        ws = wb.add_worksheet()
        ws.write_row(0, 0, [f"列{c}" for c in range(200)])
        ws.write_row(1, 0, [f"值{c}" for c in range(200)])
    return path


def stray_far_cell(folder: Path, cell: str = "XFD200000", xml: str = '<c r="{cell}" t="inlineStr"><is><t>x</t></is></c>') -> Path:
    """A short form and one value typed far away (Ctrl+End, then a key): calamine would make
    the whole rectangle up to it, 100 GB for XFD200000, and abort. `xml` is the far cell."""
    path = rows_xlsx(folder, rows=2, name="远处单元格.xlsx")
    with zipfile.ZipFile(path) as zf:
        parts = {info.filename: zf.read(info) for info in zf.infolist()}
    letters, number = re.fullmatch(r"([A-Z]+)([0-9]+)", cell).groups()
    far = f'<row r="{number}">{xml.format(cell=cell)}</row>'.encode()
    parts[SHEET] = parts[SHEET].replace(b"</sheetData>", far + b"</sheetData>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return path


def implicit_far_cells(folder: Path, row: int = 200_000, cells: int = 400) -> Path:
    """8 KB that name no far cell: one row far down holding `cells` cells without their r=
    attribute, each the one after the previous. calamine would make 200,000 × 400 cells."""
    path = rows_xlsx(folder, rows=2, name="隐式位置.xlsx")
    with zipfile.ZipFile(path) as zf:
        parts = {info.filename: zf.read(info) for info in zf.infolist()}
    far = f'<row r="{row}">' + '<c t="inlineStr"><is><t>x</t></is></c>' * cells + "</row>"
    parts[SHEET] = parts[SHEET].replace(b"</sheetData>", far.encode() + b"</sheetData>")
    return _write_parts(path, parts)


def without_positions(folder: Path, rows: int = 3) -> Path:
    """An ordinary submission whose cells and rows leave out r=, as some exporters write them."""
    path = rows_xlsx(folder, rows=rows, name="无位置.xlsx")
    with zipfile.ZipFile(path) as zf:
        parts = {info.filename: zf.read(info) for info in zf.infolist()}
    parts[SHEET] = re.sub(rb'(<(?:c|row)) r="[A-Z]*[0-9]+"', rb"\1", parts[SHEET])
    return _write_parts(path, parts)


def _write_parts(path: Path, parts: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return path


def formula_cells(folder: Path) -> Path:
    """Cells holding formulas (never evaluated here): accepted."""
    path = folder / "公式.xlsx"
    with xlsxwriter.Workbook(path) as wb:
        ws = wb.add_worksheet()
        ws.write_row(0, 0, ["序号", "对象姓名", "合计"])
        ws.write_row(1, 0, [1, "张三"])
        ws.write_formula(1, 2, "=A2*2", None, 2)
        ws.write_formula(2, 2, '=HYPERLINK("http://example.invalid","点我")')
    return path


def macro_workbook(folder: Path) -> Path:
    """An .xlsm: the workbook part declared macro-enabled (macros never run)."""
    src = rows_xlsx(folder, name="源.xlsx")
    with zipfile.ZipFile(src) as zf:
        types = zf.read("[Content_Types].xml").replace(
            b"spreadsheetml.sheet.main+xml", b"ms-excel.sheet.macroEnabled.main+xml")
    return _rewrite(src, folder / "宏.xlsm", {"[Content_Types].xml": types})


def xls(folder: Path, name: str = "城南街道.xls") -> Path:
    """A BIFF8 .xls written by xlwt."""
    path = folder / name
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("明细表")
    for c, header in enumerate(HEADERS):
        ws.write(0, c, header)
    ws.write(1, 4, "张三")
    wb.save(str(path))
    return path


def real_xls_named_xlsx(folder: Path) -> Path:
    return xls(folder, name="其实是xls.xlsx")


def xlsx_named_xls(folder: Path) -> Path:
    return Path(shutil.copy(rows_xlsx(folder), folder / "其实是xlsx.xls"))


def csv_utf8(folder: Path) -> Path:
    return _write(folder / "utf8.csv", ",".join(HEADERS).encode() + "\n1,走访发现,李四\n".encode())


def csv_utf8_bom(folder: Path) -> Path:
    return _write(folder / "utf8bom.csv", "\ufeff序号,对象姓名\n1,张三\n".encode())


def csv_gb18030(folder: Path) -> Path:
    return _write(folder / "gbk.csv", "序号,对象姓名\n1,张三\n2,䶮\n".encode("gb18030"))


# --- broken files -----------------------------------------------------------------------


def zero_byte(folder: Path) -> Path:
    return _write(folder / "空文件.xlsx", b"")


def random_bytes(folder: Path, name: str = "乱码.xlsx") -> Path:
    return _write(folder / name, random.Random(7).randbytes(8192))


def random_bytes_xls(folder: Path) -> Path:
    return random_bytes(folder, name="乱码.xls")


def truncated_zip(folder: Path) -> Path:
    """An attachment cut off halfway: the zip's end record is missing."""
    data = rows_xlsx(folder, rows=200).read_bytes()
    return _write(folder / "下载不完整.xlsx", data[: len(data) // 2])


def corrupt_member(folder: Path) -> Path:
    """Bytes flipped inside the compressed sheet: a CRC or inflate error."""
    src = rows_xlsx(folder, rows=200)
    data = bytearray(src.read_bytes())
    with zipfile.ZipFile(src) as zf:
        info = zf.getinfo(SHEET)
    start = info.header_offset + 30 + len(info.filename.encode()) + 40
    for i in range(start, start + 64):
        data[i] ^= 0x5A
    return _write(folder / "损坏.xlsx", bytes(data))


def zip_without_workbook(folder: Path) -> Path:
    """An Office package that lost xl/workbook.xml."""
    src = rows_xlsx(folder)
    return _rewrite(src, folder / "缺工作簿.xlsx", {}, drop=frozenset({"xl/workbook.xml"}))


def zip_without_relationships(folder: Path) -> Path:
    """Without xl/_rels/workbook.xml.rels no reader can find the sheets."""
    src = rows_xlsx(folder)
    return _rewrite(src, folder / "缺关系.xlsx", {}, drop=frozenset({"xl/_rels/workbook.xml.rels"}))


def workbook_without_sheets(folder: Path) -> Path:
    src = rows_xlsx(folder)
    with zipfile.ZipFile(src) as zf:
        workbook = zf.read("xl/workbook.xml")
    workbook = re.sub(rb"<sheets>.*</sheets>", b"<sheets/>", workbook)
    return _rewrite(src, folder / "无工作表.xlsx", {"xl/workbook.xml": workbook})


def empty_zip(folder: Path) -> Path:
    with zipfile.ZipFile(folder / "空压缩包.xlsx", "w"):
        pass
    return folder / "空压缩包.xlsx"


def broken_cfb(folder: Path) -> Path:
    """The OLE2 signature followed by garbage."""
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + random.Random(3).randbytes(4096)
    return _write(folder / "坏的.xls", data)


def csv_utf16(folder: Path) -> Path:
    """Excel's "Unicode text": UTF-16, full of NUL bytes."""
    return _write(folder / "utf16.csv", "序号\t对象姓名\n1\t张三\n".encode("utf-16"))


def csv_undecodable(folder: Path) -> Path:
    return _write(folder / "乱码.csv", b"name,value\n\xff\xfe\x80\xff,1\n")


# --- password-protected -----------------------------------------------------------------


def encrypted_xlsx(folder: Path) -> Path:
    """An .xlsx with an open password, encrypted the way Excel does (ECMA-376 agile)."""
    src = rows_xlsx(folder)
    out = io.BytesIO()
    with src.open("rb") as fh:
        msoffcrypto.format.ooxml.OOXMLFile(fh).encrypt("1234", out)
    return _write(folder / "加密.xlsx", out.getvalue())


def zip_password_member(folder: Path) -> Path:
    """A member flagged as encrypted with a zip password (what 7-Zip does, not Excel)."""
    data = rows_xlsx(folder).read_bytes()
    return _write(folder / "压缩密码.xlsx", _patch_directory(data, SHEET, 8, "<H", 0x1))


def encrypted_xls(folder: Path) -> Path:
    """An .xls whose globals carry a FILEPASS (RC4) record right after BOF.

    msoffcrypto cannot encrypt .xls, so the record after BOF is relabelled in place; the
    stream keeps its size and the container stays valid.
    """
    data = bytearray(xls(folder).read_bytes())
    bof = data.find(b"\x09\x08\x10\x00\x00\x06\x05\x00")  # BOF, BIFF8, workbook globals
    record = bof + 4 + 16
    struct.pack_into("<H", data, record, 0x002F)          # FilePass
    struct.pack_into("<H", data, record + 4, 0x0001)      # wEncryptionType = RC4
    return _write(folder / "加密.xls", bytes(data))


# --- mislabelled ------------------------------------------------------------------------


def pdf_named_xlsx(folder: Path) -> Path:
    return _write(folder / "明细表.xlsx", b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n")


def png_named_xlsx(folder: Path) -> Path:
    return _write(folder / "截图.xlsx", b"\x89PNG\r\n\x1a\n" + bytes(64))


def rar_named_xlsx(folder: Path) -> Path:
    return _write(folder / "打包.xlsx", b"Rar!\x1a\x07\x01\x00" + bytes(64))


def docx_named_xlsx(folder: Path) -> Path:
    path = folder / "报告.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        zf.writestr("word/document.xml", '<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"/>')
    return path


def xlsb_named_xlsx(folder: Path) -> Path:
    path = folder / "二进制.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        zf.writestr("xl/workbook.bin", b"\x83\x01\x00")
    return path


def ods_named_xlsx(folder: Path) -> Path:
    path = folder / "开放格式.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", "<office:document-content/>")
    return path


def plain_zip_named_xlsx(folder: Path) -> Path:
    path = folder / "压缩包.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(rows_xlsx(folder), "城西街道.xlsx")
        zf.writestr("说明.txt", "请查收")
    return path


def doc_named_xlsx(folder: Path) -> Path:
    """A CFB holding a WordDocument stream (an old .doc): xlwt's container, stream renamed."""
    data = bytearray(xls(folder).read_bytes())
    entry = data.find("Workbook".encode("utf-16-le") + b"\x00\x00")
    name = "WordDocument".encode("utf-16-le") + b"\x00\x00"
    data[entry:entry + 64] = name.ljust(64, b"\x00")
    struct.pack_into("<H", data, entry + 64, len(name))
    return _write(folder / "文档.xlsx", bytes(data))


def html_named_xls(folder: Path) -> Path:
    return _write(folder / "系统导出.xls", "<html><body><table><tr><td>对象姓名</td></tr></table></body></html>".encode())


def et_file(folder: Path) -> Path:
    return Path(shutil.copy(xls(folder), folder / "WPS表格.et"))


def txt_file(folder: Path) -> Path:
    return _write(folder / "说明.txt", "序号,对象姓名\n".encode())


def oversized(folder: Path, size: int = 60 * 1024 * 1024) -> Path:
    """A file over max_file_bytes: sparse, so nothing is written to disk."""
    path = _write(folder / "太大.xlsx", b"PK\x03\x04")
    with path.open("r+b") as fh:
        fh.truncate(size)
    return path


# --- XML attacks ------------------------------------------------------------------------

_LAUGHS = ('<!DOCTYPE lolz [<!ENTITY lol "lol">'
           + "".join(f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 or "")) * 10}">' for i in range(1, 10))
           + "]>")


def entity_bomb(folder: Path) -> Path:
    """Billion laughs in xl/workbook.xml: 10^9 'lol's if a parser expanded them."""
    src = rows_xlsx(folder)
    with zipfile.ZipFile(src) as zf:
        workbook = zf.read("xl/workbook.xml").decode()
    prolog, body = workbook.split("?>", 1)
    bomb = (prolog + "?>" + _LAUGHS + body.replace("</workbook>", "<x>&lol9;</x></workbook>")).encode()
    return _rewrite(src, folder / "实体炸弹.xlsx", {"xl/workbook.xml": bomb})


def external_entity(folder: Path) -> Path:
    """XXE: a shared string that would pull in /etc/passwd."""
    src = rows_xlsx(folder)
    sst = ('<?xml version="1.0" encoding="UTF-8"?>'
           '<!DOCTYPE sst [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
           '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
           '<si><t>&xxe;</t></si></sst>').encode()
    return _rewrite(src, folder / "外部实体.xlsx", {"xl/sharedStrings.xml": sst})


def padded_doctype(folder: Path) -> Path:
    """A DTD hidden after 300 KB of comment in the sheet: past any 'first few KB' check."""
    src = rows_xlsx(folder)
    with zipfile.ZipFile(src) as zf:
        sheet = zf.read(SHEET).decode()
    prolog, body = sheet.split("?>", 1)
    padded = prolog + "?><!--" + "填" * 100_000 + "-->" + _LAUGHS + body
    return _rewrite(src, folder / "藏起来的实体.xlsx", {SHEET: padded.encode()})


def utf16_part(folder: Path) -> Path:
    """A sheet part in UTF-16, whose DTD a byte scan for '<!DOCTYPE' would not see."""
    src = rows_xlsx(folder)
    part = ('<?xml version="1.0" encoding="UTF-16"?>' + _LAUGHS
            + '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
              '<sheetData/>&lol9;</worksheet>').encode("utf-16")
    return _rewrite(src, folder / "utf16.xlsx", {SHEET: part})


# --- zip bombs --------------------------------------------------------------------------


def zip_bomb(folder: Path, inflated: int = GIGABYTE) -> Path:
    """A valid-looking .xlsx (~1 MB) whose sheet inflates past `inflated` bytes of whitespace.

    The sheet is streamed into the zip 1 MB at a time, so building it needs no memory; it
    takes a few seconds, so the tests build it once per session.
    """
    src = rows_xlsx(folder, name="炸弹源.xlsx")
    path = folder / "压缩炸弹.xlsx"
    head = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
    tail = b"</sheetData></worksheet>"
    return stream_bomb(src, path, SHEET, head, tail, inflated)


def stream_bomb(src: Path, path: Path, part: str, head: bytes, tail: bytes, inflated: int) -> Path:
    """A copy of the zip `src` whose `part` is `head`, `inflated` bytes of spaces and `tail`,
    streamed into the zip 1 MB at a time (so building it needs no memory)."""
    with zipfile.ZipFile(src) as old, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            if info.filename != part:
                new.writestr(info, old.read(info))
                continue
            member = zipfile.ZipInfo(part, date_time=info.date_time)
            member.compress_type = zipfile.ZIP_DEFLATED
            with new.open(member, "w", force_zip64=True) as out:
                out.write(head)
                for _ in range(-(-inflated // len(_SPACES))):
                    out.write(_SPACES)
                out.write(tail)
    return path


def lying_zip_bomb(folder: Path, bomb: Path | None = None, declared: int = 5000) -> Path:
    """The same bomb with its central directory claiming the sheet is only `declared` bytes.

    Pass an existing `bomb` to patch a copy instead of building a new one.
    """
    data = (bomb or zip_bomb(folder)).read_bytes()
    data = _patch_directory(data, SHEET, 24, "<L", declared)   # uncompressed size
    return _write(folder / f"说谎的炸弹{declared}.xlsx", data)


def many_entries(folder: Path, entries: int = 20_000) -> Path:
    """A small zip with tens of thousands of empty members (costly for zipfile to index)."""
    src = rows_xlsx(folder)
    path = _rewrite(src, folder / "碎片.xlsx", {})
    with zipfile.ZipFile(path, "a") as zf:
        for i in range(entries):
            zf.writestr(f"xl/media/x{i}.xml", b"")
    return path


# --- helpers ----------------------------------------------------------------------------


def _patch_directory(data: bytes, member: str, field: int, fmt: str, value: int) -> bytes:
    """`data` (a zip) with one field of `member`'s central-directory entry overwritten."""
    data = bytearray(data)
    eocd = data.rfind(b"PK\x05\x06")
    count, _, offset = struct.unpack_from("<HLL", data, eocd + 10)
    for _ in range(count):
        assert data[offset:offset + 4] == b"PK\x01\x02"
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, offset + 28)
        if bytes(data[offset + 46:offset + 46 + name_len]).decode() == member:
            struct.pack_into(fmt, data, offset + field, value)
        offset += 46 + name_len + extra_len + comment_len
    return bytes(data)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _rewrite(src: Path, dst: Path, replace: dict[str, bytes], drop: frozenset[str] = frozenset()) -> Path:
    """A copy of the zip `src` with some members replaced or dropped."""
    with zipfile.ZipFile(src) as old, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            if info.filename in drop:
                continue
            new.writestr(info, replace.get(info.filename, old.read(info)))
    return dst
