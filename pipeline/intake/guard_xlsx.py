"""The .xlsx / .xlsm / .docx container, checked before calamine (or read_docx) opens it: its zip directory bounded,
every member inflated once against the size it declares (zip bombs), every XML part scanned
for a DTD (entity bombs, external entities), and each sheet's extent measured from its
filled cells, since calamine allocates a sheet's whole rectangle and aborts the process
when that fails. The same pass notes the cells that show a formula's error (#N/A).
"""

from __future__ import annotations

import copy
import re
import struct
import zipfile
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as safe_xml
from defusedxml import DefusedXmlException
from isal import isal_zlib

from pipeline.errors import InputFileError
from pipeline.intake.blob import Source, opened
from pipeline.intake.refusals import ACCEPTED, BOMB, CORRUPT, ENCRYPTED, SUFFIX_MESSAGES, TAMPERED, megabytes
from pipeline.rules import spec

CHUNK = 64 * 1024
# Small XML members legitimately compress 20-50x, so the ratio rule only applies above this.
LARGE_MEMBER_BYTES = 10 * 1024 * 1024
# Checked before zipfile builds one object per entry: a 50 MB zip can hold ~600,000 empty
# entries, which would cost seconds and hundreds of MB. Real workbooks have a few dozen.
MAX_ZIP_ENTRIES = 10_000
MAX_ZIP_DIRECTORY_BYTES = 4 * 1024 * 1024
# The three parts parsed as XML here (workbook, its relationships, the content types).
SMALL_PART_BYTES = 8 * 1024 * 1024
SMALL_PARTS = ("[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels")
WORD_PARTS = ("[Content_Types].xml", "word/document.xml")
XML_MEMBER_SUFFIXES = (".xml", ".rels", ".vml")
# Excel never writes a DTD. Case-insensitive because some XML readers are lenient. (One
# regex with a NUL alternative is 20x slower than this one plus a memchr for NUL.)
DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
DTD_OVERLAP = len(b"<!DOCTYPE") - 1
# calamine makes a sheet's whole rectangle up to its farthest cell (32 bytes a cell) and
# aborts the process when that fails: one stray value in XFD200000 asks for 100 GB. So a
# sheet's extent is measured while it is inflated here, from the filled cells past column Z
# or below row 9999 (a sheet without them is at most 9999 rows by 26 columns).
SHEET_MEMBER = re.compile(r"xl/worksheets/[^/]+\.xml")
# A cell past column Z or below row 9999 that holds something: <c r="AB12" …> with content,
# not an empty formatted cell (<c r="N1048576" s="1"/>), which calamine skips. Rows and
# cells nearer than that cannot reach max_cells. A literal start: 5x faster than \b.
FAR_CELL = re.compile(rb' r="([A-Z]{2,3}[0-9]+|[A-Z][0-9]{5,})"[^>]{0,200}(?<!/)>(?!</c>)')
CELL_REF = re.compile(rb"([A-Z]+)([0-9]+)")
# A cell showing a formula's error (#N/A of a VLOOKUP that found nothing, #REF!): calamine
# reads it as empty, so the clerk would be told the cell is blank, or the value would vanish.
ERROR_CELL = re.compile(rb'<c r="([A-Z]{1,3})([0-9]+)"[^>]{0,200}? t="e"[^>]{0,200}?>'
                        rb'(?:<f\b[^>]{0,200}?/>|<f\b[^>]{0,200}?>[^<]{0,2000}</f>)?<v>(#[^<]{1,20})</v>')
NARROW_COLUMNS = 26
# A cell or row may leave out its r= attribute: it then comes one after the previous one, as
# calamine reads it. Such a sheet is measured again, tag by tag (_implicit_extent).
TAG = re.compile(rb'<(row|c)(?=[\s/>])([^>]*)>|<[^>]*>')  # a row, a cell, or any other tag
REF = re.compile(rb'\br="([A-Z]*)([0-9]*)"')
# A <c or <row tag whose r= does not come first, or that has none: one pass, half the time of
# counting <c and <c r=" (and <row, <row r=") apiece.
IMPLICIT = re.compile(rb'<c (?!r=")|<c>|<row (?!r=")|<row>')
LONG_TAG = 4096
EXTENT_OVERLAP = 256  # a far cell's tag, read again whole in the next window


def inspect_zip(path: Source) -> tuple[str, dict[str, dict[tuple[int, int], str]]]:
    """("xlsx" or "xlsm", the cells showing a formula's error by sheet name) of a vetted workbook;
    ("docx", {}) of a vetted Word document; ("zip", {}) of an archive, which intake/archives.py
    vets as it unpacks it."""
    check_zip_directory(path)
    with zipfile.ZipFile(opened(path)) as zf:
        infos = zf.infolist()
        names = {info.filename for info in infos}
        if names.issuperset(WORD_PARTS) and not names.issuperset(SMALL_PARTS):
            check_members(zf, infos)
            return "docx", {}
        if not names.issuperset(SMALL_PARTS):
            refusal = _not_a_workbook(zf, names)
            if refusal is None:
                return "zip", {}
            raise refusal
        try:
            errors = check_members(zf, infos)
        except _FarCell as far:
            try:
                sheet = _sheet_names(*(_parse_small_part(zf, name) for name in SMALL_PARTS[1:])).get(far.extent.member)
            except InputFileError:
                sheet = None
            raise InputFileError("too_large", far.message_for(sheet)) from None
        content_types, workbook, rels = (_parse_small_part(zf, name) for name in SMALL_PARTS)
        sheets = _sheet_names(workbook, rels) if errors else {}
    if not any(element.tag.rsplit("}", 1)[-1] == "sheet" for element in workbook.iter()):
        raise InputFileError("unreadable", f"工作簿中没有任何工作表。{CORRUPT}")
    macro = "xl/vbaProject.bin" in names or any(
        "macroEnabled" in element.get("ContentType", "") for element in content_types.iter())
    return ("xlsm" if macro else "xlsx",
            {sheets[member]: cells for member, cells in errors.items() if member in sheets})


def check_zip_directory(path: Source) -> None:
    """Bound the zip's directory from its end record before zipfile loads it whole."""
    with path.open("rb") as fh:
        size = fh.seek(0, 2)
        fh.seek(max(0, size - 22 - 65535))  # end record (22 bytes) + the longest comment
        tail = fh.read()
        pos = tail.rfind(b"PK\x05\x06")
        if pos < 0 or len(tail) - pos < 22:
            raise InputFileError("unreadable", CORRUPT)  # truncated: the end record is gone
        entries, directory = struct.unpack_from("<HL", tail, pos + 10)
        if entries == 0xFFFF or directory == 0xFFFFFFFF:
            # Zip64: the true figures are in the Zip64 end record the locator points to.
            locator = pos - 20
            if locator < 0 or tail[locator:locator + 4] != b"PK\x06\x07":
                raise InputFileError("unreadable", CORRUPT)
            fh.seek(struct.unpack_from("<Q", tail, locator + 8)[0])
            record = fh.read(56)
            if len(record) < 56 or not record.startswith(b"PK\x06\x06"):
                raise InputFileError("unreadable", CORRUPT)
            entries, directory = struct.unpack_from("<QQ", record, 32)
    if entries > MAX_ZIP_ENTRIES or directory > MAX_ZIP_DIRECTORY_BYTES:
        raise InputFileError("too_large", BOMB.format(detail=f"内部目录过大，含 {entries} 个部件"))


def _not_a_workbook(zf: zipfile.ZipFile, names: set[str]) -> InputFileError | None:
    """Name the zip-based format that is not an Excel workbook; None for a plain archive."""
    if not names:
        return InputFileError("unreadable", CORRUPT)
    if "mimetype" in names:
        with zf.open("mimetype") as member:
            mimetype = member.read(100)
        if b"spreadsheet" in mimetype:
            return InputFileError("unsupported_type", SUFFIX_MESSAGES[".ods"])
        return InputFileError("unsupported_type", f"这是一个 OpenDocument 文档，不是 Excel 表格。{ACCEPTED}")
    if any(name.startswith("word/") for name in names):
        return InputFileError("unreadable", f"Word 文档已损坏（缺少正文部分）。{CORRUPT}")
    if any(name.startswith("ppt/") for name in names):
        return InputFileError("unsupported_type", f"这是一个 PowerPoint 演示文稿（.pptx），不是 Excel 表格。{ACCEPTED}")
    if "xl/workbook.bin" in names:
        return InputFileError("unsupported_type", SUFFIX_MESSAGES[".xlsb"])
    if "[Content_Types].xml" in names or any(name.startswith("xl/") for name in names):
        return InputFileError("unreadable", CORRUPT)  # an Office package that lost its workbook
    return None


def check_members(zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> dict[str, dict]:
    """Reject a zip bomb on its declared sizes, then verify them by inflating every member once.

    Headers can lie, so each member is decompressed in chunks and abandoned as soon as it
    yields more than it declared: with the declared total and ratios checked first, that
    bounds the work by max_unpacked_bytes without trusting anything. The same pass scans
    the XML members for a DTD, the whole member and not only its head, since a prolog can
    be padded with comments, and the sheets for their extent and error cells, which it
    returns by member.
    """
    limits = spec.thresholds()
    errors: dict[str, dict] = {}
    declared = sum(info.file_size for info in infos)
    if declared > limits["max_unpacked_bytes"]:
        raise InputFileError("too_large", BOMB.format(
            detail=f"解压后 {megabytes(declared)}，上限 {megabytes(limits['max_unpacked_bytes'])}"))
    for info in infos:
        if info.file_size > LARGE_MEMBER_BYTES and \
                info.file_size > limits["max_unpack_ratio"] * max(info.compress_size, 1):
            raise InputFileError("too_large", BOMB.format(
                detail=f"内部部件 {info.filename} 压缩比超过 {limits['max_unpack_ratio']} 倍"))
        if info.flag_bits & 0x1:
            raise InputFileError("encrypted", ENCRYPTED)  # zip-level password, rare but same remedy
        extent = inflate(zf, info)
        if extent and extent.implicit:
            _implicit_extent(zf, info, extent)
            extent.check(limits["max_cells"])
        if extent and extent.errors:
            errors[info.filename] = extent.errors
    return errors


def inflate(zf: zipfile.ZipFile, info: zipfile.ZipInfo, keep: list[bytes] | None = None) -> _Extent | None:
    """Decompress one member in 64 KB chunks, stopping as soon as it exceeds its declared size;
    a sheet's extent and error cells as seen on the way. `keep` collects the chunks."""
    # zipfile itself stops at the declared size and then reports a CRC error; give it room
    # to overrun, so that an overrun is seen for what it is.
    probe = copy.copy(info)
    probe.file_size = info.file_size + 2 * CHUNK
    scan = info.filename.lower().endswith(XML_MEMBER_SUFFIXES)
    extent = _Extent(info.filename) if SHEET_MEMBER.fullmatch(info.filename) else None
    size, tail = 0, b""
    with zf.open(probe) as member:
        if info.compress_type == zipfile.ZIP_DEFLATED:
            # ISA-L inflates the same deflate stream in half zlib's time (6 against 13 ms for a
            # 10,000-row workbook); zipfile has no option for it, so this member's is replaced.
            member._decompressor = isal_zlib.decompressobj(-15)
        while chunk := member.read(CHUNK):
            size += len(chunk)
            if size > info.file_size:
                raise InputFileError("too_large", BOMB.format(
                    detail=f"内部部件 {info.filename} 解压后超过其声明的大小"))
            if keep is not None:
                keep.append(chunk)
            if scan:
                # XML 1.0 forbids NUL: one means UTF-16, which would hide a DTD from this scan.
                window = tail + chunk
                # "!" first: one byte is found by memchr, "<!" is looked for at every "<" of the XML.
                if (b"!" in window and b"<!" in window and DTD.search(window)) or b"\x00" in chunk:
                    raise InputFileError("unreadable", TAMPERED)
                if extent:
                    extent.scan(window, len(chunk))
                tail = window[-max(DTD_OVERLAP, EXTENT_OVERLAP):]
    if size != info.file_size:
        raise InputFileError("unreadable", CORRUPT)
    if extent:
        extent.check(spec.thresholds()["max_cells"])
    return extent


class _Extent:
    """How far a sheet's filled cells reach, from its XML as it streams past (see FAR_CELL)."""

    def __init__(self, member: str):
        self.member, self.rows, self.columns, self.farthest = member, 0, NARROW_COLUMNS, ""
        self.errors: dict[tuple[int, int], str] = {}  # (row index, column index) → "#N/A"
        self.implicit = False  # a cell or row without its r= attribute was seen
        self._rest = b""  # the start of a tag that goes on in the next window

    def scan(self, xml: bytes, new: int) -> None:
        """Look at a window of the sheet's XML, whose last `new` bytes are new."""
        if not self.implicit:
            self._count(xml[len(xml) - new:])
        if b"#" in xml and b't="e"' in xml:  # an error's text starts with # (a one-byte search first)
            for letters, number, text in ERROR_CELL.findall(xml):
                self.errors[(int(number) - 1, _column_number(letters) - 1)] = text.decode("ascii", "replace")
        for match in FAR_CELL.finditer(xml):
            if match.end() + 4 > len(xml):
                continue  # whether </c> follows is for the next window to see
            letters, number = CELL_REF.fullmatch(match[1]).groups()
            column = _column_number(letters)
            if column > self.columns or int(number) > self.rows:
                self.farthest = match[1].decode()
            self.rows, self.columns = max(self.rows, int(number)), max(self.columns, column)

    def _count(self, xml: bytes) -> None:
        """Every writer we know puts r= first in each <c> and <row>: one search for a <c or <row
        without it finds the exceptions without a look at each tag. Each tag is looked at once, in
        the window where it is whole (up to the last "<" of the window; the rest waits for the next one)."""
        text = self._rest + xml
        cut = text.rfind(b"<")
        text, self._rest = (text[:cut], text[cut:]) if cut >= 0 else (text, b"")
        if len(self._rest) > LONG_TAG:  # no writer makes such a tag: measure the sheet with care
            self.implicit, self._rest = True, b""
        if IMPLICIT.search(text):
            self.implicit = True

    def check(self, max_cells: int) -> None:
        if self.rows * self.columns > max_cells:
            raise _FarCell(self, max_cells)


def _implicit_extent(zf: zipfile.ZipFile, info: zipfile.ZipInfo, extent: _Extent) -> None:
    """Measure a sheet whose cells or rows leave out their position, counting positions as the
    reader will: a row without r= is the one after the previous row, a cell without r= the one
    after the previous cell of its row. Only cells that hold something count, as in FAR_CELL.
    The member's size was verified by inflate, so reading it again is bounded."""
    row = column = 0
    pending: tuple[int, int] | None = None  # an open <c> whose content is not seen yet
    rest = b""
    with zf.open(info) as member:
        if info.compress_type == zipfile.ZIP_DEFLATED:
            member._decompressor = isal_zlib.decompressobj(-15)
        while chunk := member.read(CHUNK):
            text = rest + chunk
            cut = text.rfind(b"<")  # a tag may go on in the next chunk
            text, rest = (text[:cut], text[cut:]) if cut >= 0 else (text, b"")
            if len(rest) > CHUNK:  # a tag longer than 64 KB is no sheet's
                raise InputFileError("unreadable", TAMPERED)
            for match in TAG.finditer(text):
                name, attributes = match[1], match[2]
                if pending is not None:  # the open cell holds something unless it closes at once
                    if match[0] != b"</c>":
                        _reach(extent, *pending)
                    pending = None
                if name is None:
                    continue
                ref = REF.search(attributes)
                if name == b"row":
                    row = int(ref[2]) if ref and ref[2] else row + 1
                    column = 0
                    continue
                if ref and ref[1]:
                    column, row = _column_number(ref[1]), int(ref[2]) if ref[2] else row
                else:
                    column += 1
                if not attributes.endswith(b"/"):
                    pending = (row, column)


def _reach(extent: _Extent, row: int, column: int) -> None:
    if row > extent.rows or column > extent.columns:
        extent.farthest = f"{xl_column(column)}{row}"
    extent.rows, extent.columns = max(extent.rows, row), max(extent.columns, column)


def xl_column(number: int) -> str:
    """1 → A, 28 → AB."""
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _column_number(letters: bytes) -> int:
    """b"A" → 1, b"AB" → 28."""
    column = 0
    for letter in letters:
        column = column * 26 + letter - 64
    return column


class _FarCell(InputFileError):
    """A sheet whose filled cells span more than max_cells; _inspect_zip names the sheet."""

    def __init__(self, extent: _Extent, max_cells: int):
        self.extent, self.max_cells = extent, max_cells
        super().__init__("too_large", self.message_for(None))

    def message_for(self, sheet: str | None) -> str:
        extent = self.extent
        where = f"工作表「{sheet}」的" if sheet else "工作表的"
        return (f"{where} {extent.farthest} 单元格有内容，表格范围因此达到 {extent.rows:,} 行 × "
                f"{extent.columns:,} 列，超过上限（{self.max_cells:,} 个单元格）。这多半是误操作在远处输入了内容："
                f"请在 Excel 中打开{('「' + sheet + '」') if sheet else '该工作表'}，按 Ctrl+End 找到表格的最后一个单元格，"
                "删除明细表下方和右侧多余的行列后重新保存再发送。")


def _sheet_names(workbook: Element, rels: Element) -> dict[str, str]:
    """The name a person sees for each worksheet, by the member that stores it
    (xl/worksheets/sheet2.xml → 走访记录), from the parsed workbook.xml and its rels."""
    targets = {r.get("Id"): r.get("Target", "").lstrip("/").removeprefix("xl/") for r in rels.iter()
               if r.tag.rsplit("}", 1)[-1] == "Relationship"}
    names = {}
    for element in workbook.iter():
        if element.tag.rsplit("}", 1)[-1] == "sheet":
            rel = next((v for k, v in element.attrib.items() if k.rsplit("}", 1)[-1] == "id"), None)
            if rel in targets:
                names[f"xl/{targets[rel]}"] = element.get("name")
    return names


def _parse_small_part(zf: zipfile.ZipFile, name: str) -> Element:
    """One of the package's index parts, parsed with DTDs and entities forbidden."""
    with zf.open(name) as member:
        data = member.read(SMALL_PART_BYTES + 1)
    if len(data) > SMALL_PART_BYTES:
        raise InputFileError("unreadable", TAMPERED)
    try:
        return safe_xml.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise InputFileError("unreadable", TAMPERED) from exc
    except ParseError as exc:
        raise InputFileError("unreadable", CORRUPT) from exc
