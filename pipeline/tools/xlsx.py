"""Small xlsxwriter helpers shared by every workbook jiuzhu writes.

The ledger, the feedback workbooks, the reminders and the blank template all look like the
printed form: a 宋体 title, bordered cells, a grey header, A4 landscape with the header on
every page. Two rules hold for all of them: text is always written as text (a name such
as `=HYPERLINK(...)` never becomes a formula, an ID never becomes a float), and the same
input gives the same bytes (the document dates are pinned, the zip entries are dated
1980-01-01). Large tables (the district ledger) go through write_rows / write_blocks into
a constant_memory workbook, which render rows straight into the sheet XML.

Example:
    wb = new_workbook(path, created=as_of)
    fmts = formats(wb)
    ws = wb.add_worksheet("全部")
    last = write_table(ws, 0, [("对象姓名", 10), ("发现日期", 12)], rows, fmts, title="汇总台账")
    print_setup(ws, header_rows=(1, 1), last_col=1)
    wb.close()
"""

from __future__ import annotations

import functools
import math
import numbers
import re
import shutil
import tempfile
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from pathlib import Path

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

# Never turn text into formulas, links or numbers; keep the zip in memory so that file
# permissions and temp-file dates cannot leak into the bytes.
WORKBOOK_OPTIONS = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "in_memory": True,
}

FONT = "宋体"
TITLE_FONT = "宋体"
GB2312_CHARSET = 134  # tells Excel which script the CJK font is for
FONT_SIZE = 11
TITLE_SIZE = 18
DATE_FORMAT = "yyyy-mm-dd"
TEXT_FORMAT = "@"
HEADER_FILL = "#D9D9D9"
OPTIONAL_HEADER_FILL = "#F2F2F2"
BAD_FILL = "#FFC7CE"
BAD_FONT_COLOR = "#9C0006"

PAPER_A4 = 9
PAGE_FOOTER = "&C第 &P 页，共 &N 页"
MARGINS = {"left": 0.4, "right": 0.4, "top": 0.6, "bottom": 0.6}  # inches

# Excel's own limits for a data validation.
MAX_LIST_CHARS = 255
MAX_PROMPT_TITLE = 32
MAX_PROMPT_MESSAGE = 255


def new_workbook(path: Path | str, *, created: date, title: str | None = None,
                 constant_memory: bool = False) -> xlsxwriter.Workbook:
    """A workbook that writes text as text and whose bytes depend only on what is written.

    `created` pins the document's created and modified dates (run date, or the template
    date), so the same input gives a byte-identical file. `constant_memory` is for large
    sheets written top to bottom (see write_rows): each row is written out as soon as the
    next one starts, so memory stays flat; earlier rows can no longer be changed. Rows wait
    in memory up to SPOOL_BYTES a sheet and in a temporary file beyond (_SpooledWorksheet).

    Example: wb = new_workbook(outbox / "全区汇总台账.xlsx", created=date(2026, 11, 28))
    """
    options = dict(WORKBOOK_OPTIONS)
    if constant_memory:
        options.update(in_memory=False, constant_memory=True)
    workbook = _Workbook(str(path), options)
    stamp = created if isinstance(created, datetime) else datetime.combine(created, time())
    properties = {"created": stamp, "author": "jiuzhu", "comments": ""}
    if title:
        properties["title"] = title
    workbook.set_properties(properties)
    return workbook


SPOOL_BYTES = 16 * 1024 * 1024  # a constant_memory sheet's rows kept in memory up to this size


class _RowSpool:
    """Where a constant_memory sheet's rows wait, as UTF-8: in memory up to SPOOL_BYTES,
    then in a temporary file. Kept as bytes, so that a spilled sheet is copied into its
    part of the zip without decoding and encoding it again (5.9 s of the stress ledger)."""

    def __init__(self, directory: str | None):
        self.file = tempfile.SpooledTemporaryFile(SPOOL_BYTES, mode="w+b", dir=directory)

    def write(self, text: str) -> None:
        self.file.write(text.encode("utf-8"))

    def spilled(self) -> bool:
        return getattr(self.file, "_rolled", True)

    def copy_to(self, fh) -> None:
        self.file.seek(0)
        if hasattr(fh, "buffer"):  # the sheet's part is a file: bytes straight across
            fh.flush()
            shutil.copyfileobj(self.file, fh.buffer, 1 << 20)
        else:  # the part is in memory (StringIO)
            fh.write(self.file.read().decode("utf-8"))
        self.file.close()

    def close(self) -> None:
        self.file.close()


class _SpooledWorksheet(Worksheet):
    """A constant_memory worksheet whose rows wait in a _RowSpool.

    xlsxwriter gives every such sheet a temporary file, and assembles the zip from more
    temporary files. Removing a file costs 2–7 ms on this machine's disk: a week's overdue
    list, one sheet per township, spent 0.2 s of its 0.6 s on it. A district week's sheets
    fit in memory; the stress case's spill over into files as before.
    """

    def _initialize(self, init_data) -> None:
        super()._initialize({**init_data, "constant_memory": False})  # no temporary file yet
        self.constant_memory = init_data["constant_memory"]
        if self.constant_memory:
            self.row_data_fh = self.fh = _RowSpool(self.tmpdir)

    def _write_optimized_sheet_data(self) -> None:
        if self.dim_rowmin is None:
            self._xml_empty_tag("sheetData")
            return
        self._xml_start_tag("sheetData")
        self.row_data_fh.copy_to(self.fh)
        self._xml_end_tag("sheetData")

    def spilled(self) -> bool:
        return bool(self.constant_memory and self.row_data_fh.spilled())


DEFLATE_LEVEL = 2  # ISA-L's levels are 0-3


class _Workbook(xlsxwriter.Workbook):
    """Closes into a zip deflated by ISA-L, assembled in memory when every sheet's rows stayed there.

    ISA-L (isal) writes the same deflate format as zlib, four times as fast as zlib's
    fastest level and into a slightly smaller file: the week's 20 MB of ledger XML in
    0.05 s (3.21 MB) against 0.22 s at zlib's level 1 (3.31 MB) and 0.50 s at its default
    (2.38 MB); the stress case's ledger holds ~700 MB of it. xlsxwriter has no option for
    the compressor, so zipfile's is swapped for the duration of close(), under a lock.
    """

    worksheet_class = _SpooledWorksheet
    _zip_lock = threading.Lock()

    def close(self) -> None:
        import zipfile

        from isal import isal_zlib

        if self.constant_memory and not any(ws.spilled() for ws in self.worksheets()):
            self.in_memory = True
        original = zipfile._get_compressor

        def compressor(compress_type, compresslevel=None):
            if compress_type == zipfile.ZIP_DEFLATED:
                return isal_zlib.compressobj(DEFLATE_LEVEL, isal_zlib.DEFLATED, -15)
            return original(compress_type, compresslevel)

        with self._zip_lock:
            zipfile._get_compressor = compressor
            try:
                super().close()
            finally:
                zipfile._get_compressor = original


def _font(size: int = FONT_SIZE, name: str = FONT) -> dict:
    return {"font_name": name, "font_size": size, "font_charset": GB2312_CHARSET}


_BOX = {"border": 1, "valign": "vcenter", "text_wrap": True}

# name → format properties; the order fixes the order of styles inside the file.
FORMAT_PROPERTIES: dict[str, dict] = {
    "title": {**_font(TITLE_SIZE, TITLE_FONT), "bold": True, "align": "center", "valign": "vcenter"},
    "label": {**_font(), "align": "left", "valign": "vcenter"},
    "label_right": {**_font(), "align": "right", "valign": "vcenter"},
    "fill_in": {**_font(), "align": "left", "valign": "vcenter"},
    "fill_in_date": {**_font(), "align": "left", "valign": "vcenter", "num_format": DATE_FORMAT},
    "header": {**_font(), **_BOX, "bold": True, "align": "center", "bg_color": HEADER_FILL},
    "header_optional": {**_font(), **_BOX, "align": "center", "bg_color": OPTIONAL_HEADER_FILL},
    "cell": {**_font(), **_BOX, "align": "left"},
    "cell_center": {**_font(), **_BOX, "align": "center"},
    "text": {**_font(), **_BOX, "align": "left", "num_format": TEXT_FORMAT},
    "date": {**_font(), **_BOX, "align": "center", "num_format": DATE_FORMAT},
    "number": {**_font(), **_BOX, "align": "right"},
    "bad": {**_font(), **_BOX, "align": "left", "bg_color": BAD_FILL, "font_color": BAD_FONT_COLOR},
    "bad_date": {**_font(), **_BOX, "align": "center", "bg_color": BAD_FILL,
                 "font_color": BAD_FONT_COLOR, "num_format": DATE_FORMAT},
    # Unboxed variants: column defaults below a bordered block, so that a typed cell keeps
    # the font, the wrapping and the text/date format without printing an empty grid.
    "plain": {**_font(), "valign": "vcenter", "text_wrap": True},
    "plain_text": {**_font(), "valign": "vcenter", "text_wrap": True, "num_format": TEXT_FORMAT},
    "plain_date": {**_font(), "valign": "vcenter", "align": "center", "num_format": DATE_FORMAT},
    "border": {"border": 1},  # conditional format: box a row once something is typed in it
    # Running text such as an instructions sheet.
    "heading": {**_font(13), "bold": True, "valign": "vcenter"},
    "note": {**_font(), "valign": "top", "text_wrap": True},
    "note_bold": {**_font(), "valign": "top", "text_wrap": True, "bold": True},
}


def formats(workbook: xlsxwriter.Workbook) -> dict[str, Format]:
    """The named formats of FORMAT_PROPERTIES, added to `workbook`.

    title · label / label_right (a 填报单位： line) · fill_in / fill_in_date (the
    value after a label) · header / header_optional · cell / cell_center / text / date /
    number (bordered data cells) · bad / bad_date (a cell with a problem, red) · plain /
    plain_text / plain_date (the same without borders) · border · heading / note / note_bold.
    """
    return {name: workbook.add_format(dict(props)) for name, props in FORMAT_PROPERTIES.items()}


def _is_missing(value) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN, NaT
    except TypeError:  # pandas.NA refuses to be a bool
        return True


def _plain(value):
    """A numpy scalar (from a DataFrame) as the Python value it stands for."""
    dtype = getattr(value, "dtype", None)
    if dtype is None or not hasattr(value, "item") or getattr(value, "ndim", 0):
        return value
    if dtype.kind == "M":  # datetime64: .item() of nanoseconds would be an int
        return value.astype("datetime64[us]").item()
    return value.item()


def _has_date_format(fmt: Format | None) -> bool:
    num_format = getattr(fmt, "num_format", None)
    return isinstance(num_format, str) and "yy" in num_format.lower()


def write_text(ws: Worksheet, row: int, col: int, value, fmt: Format | None = None, *,
               date_fmt: Format | None = None) -> None:
    """Write one value so that Excel shows exactly it: text as text, never a formula.

    Strings (including '=SUM(A1)', '+1', '0012', '500101199001011234') go through
    write_string; None, '' and NaN/NaT leave a formatted blank; dates and datetimes become
    Excel dates in `date_fmt` (else `fmt` when it has a date format, else ISO text so a
    date never shows as a bare serial number); only real numbers are written as numbers;
    True/False read 是/否.
    """
    value = _plain(value)
    if isinstance(value, str):
        if value.startswith("<r>") and value.endswith("</r>"):
            _write_literal_markup(ws, row, col, value, fmt)
        elif value:
            ws.write_string(row, col, value, fmt)
        else:
            ws.write_blank(row, col, None, fmt)
        return
    if _is_missing(value):
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        ws.write_string(row, col, "是" if value else "否", fmt)
    elif isinstance(value, (date, datetime)):
        target = date_fmt or (fmt if _has_date_format(fmt) else None)
        if target is None:
            ws.write_string(row, col, value.isoformat(), fmt)
        else:
            ws.write_datetime(row, col, _as_datetime(value), target)
    elif isinstance(value, numbers.Real) and math.isfinite(value):
        ws.write_number(row, col, value, fmt)
    else:
        ws.write_string(row, col, str(value), fmt)


def _write_literal_markup(ws: Worksheet, row: int, col: int, text: str, fmt: Format | None) -> None:
    """Write a text such as '<r><t>x</t></r>' as that text.

    xlsxwriter copies a string that starts with <r> and ends with </r> into the file
    unescaped, taking it for its own rich-text XML: typed into a submission, it would
    vanish or shift every later text of the sheet. As a rich string of escaped pieces it
    reads back exactly as typed.
    """
    pieces = (text[:1], text[1:2], text[2:])
    if fmt is None:
        ws.write_rich_string(row, col, *pieces)
    else:
        ws.write_rich_string(row, col, fmt, pieces[0], fmt, pieces[1], fmt, pieces[2], fmt)


def _as_datetime(value: date) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return datetime.combine(value, time())


def display_width(text: str) -> float:
    """Width of a text in Excel column units at 11pt: CJK and full-width count about two."""
    return sum(2.1 if unicodedata.east_asian_width(ch) in "WF" else 1.1 for ch in text)


def text_lines(text: str, width: float) -> int:
    """How many lines a wrapped text takes in a column `width` units wide (CJK breaks anywhere)."""
    usable = max(width - 0.8, 1.0)
    lines = 0
    for paragraph in str(text).split("\n"):
        lines += max(1, math.ceil(display_width(paragraph) / usable))
    return lines


def row_height(cells: Iterable[tuple[str, float]], *, font_size: int = FONT_SIZE,
               minimum: float = 15.0) -> float:
    """A row height in points that shows every (text, column width) pair fully wrapped.

    Excel does not re-measure rows written by xlsxwriter when they are printed, so tall
    headers are sized here.
    """
    lines = max((text_lines(text, width) for text, width in cells), default=1)
    return _height(lines, font_size, minimum)


# Excel's tallest row: a taller one is stored but opens and prints broken (a page holding only the
# header). A longer text stays whole in its cell, shown in full when the cell is opened.
MAX_ROW_HEIGHT = 409.0


def _height(lines: int, font_size: int, minimum: float) -> float:
    return min(MAX_ROW_HEIGHT, max(minimum, round(lines * font_size * 1.35 + 6, 1)))


def add_validation(ws: Worksheet, first_row: int, first_col: int, last_row: int, last_col: int,
                   options: dict) -> None:
    """ws.data_validation, but a refused validation (too long a message…) raises ValueError
    instead of being dropped with a warning."""
    if ws.data_validation(first_row, first_col, last_row, last_col, options) != 0:
        raise ValueError(f"Excel 不接受的数据验证：{options}")


def border_when_filled(ws: Worksheet, first_row: int, last_row: int, last_col: int,
                       fmt: Format) -> None:
    """Box the cells of a row in `first_row..last_row` once any cell of it is filled.

    Pre-formatted input rows then print only as far as they are used, instead of pages of
    empty grid.
    """
    from xlsxwriter.utility import xl_rowcol_to_cell

    left = xl_rowcol_to_cell(first_row, 0, row_abs=False, col_abs=True)
    right = xl_rowcol_to_cell(first_row, last_col, row_abs=False, col_abs=True)
    ws.conditional_format(first_row, 0, last_row, last_col, {
        "type": "formula", "criteria": f"=COUNTA({left}:{right})>0", "format": fmt})


def print_setup(ws: Worksheet, *, header_rows: tuple[int, int] | None, last_col: int,
                last_row: int | None = None, landscape: bool = True,
                page_title: str | None = None) -> None:
    """Print like the paper form: A4, landscape, fit to one page wide, header rows on
    every page, centred, 第 n 页，共 m 页 at the foot; freeze the panes below the header.

    `header_rows` are zero-based (first, last), None for running text (nothing repeated,
    nothing frozen). With `last_row`, the print area is A1 to (last_row, last_col);
    without, Excel prints as far as the sheet is used. `page_title`, when given, is printed
    at the top of every page.
    """
    ws.set_paper(PAPER_A4)
    if landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.set_margins(**MARGINS)
    if last_row is not None:
        ws.print_area(0, 0, last_row, last_col)
    ws.fit_to_pages(1, 0)
    ws.center_horizontally()
    ws.set_footer(PAGE_FOOTER)
    if page_title:
        ws.set_header("&C&14" + page_title.replace("&", "&&"))
    if header_rows is not None:
        first, last = header_rows
        ws.repeat_rows(first, last)
        ws.freeze_panes(last + 1, 0)


def write_table(ws: Worksheet, first_row: int, columns: Sequence[tuple[str, float]],
                rows: Iterable[Sequence], fmts: dict[str, Format], *,
                title: str | None = None) -> int:
    """Write an optional merged title, a header row and bordered data rows; return the
    zero-based index of the last row written (the header row when there are no rows).

    Values go through write_text: dates in fmts['date'], everything else in fmts['cell'].
    To mark a cell afterwards (a red problem cell), write it again: the last write wins.

    Example: last = write_table(ws, 0, [("乡镇", 12), ("人数", 8)], [["城西街道", 3]], fmts, title="统计")
    """
    row = first_row
    last_col = len(columns) - 1
    if title:
        if last_col > 0:
            ws.merge_range(row, 0, row, last_col, title, fmts["title"])
        else:
            ws.write_string(row, 0, title, fmts["title"])
        ws.set_row(row, TITLE_SIZE * 2)
        row += 1
    for col, (header, width) in enumerate(columns):
        ws.set_column(col, col, width)
        ws.write_string(row, col, header, fmts["header"])
    ws.set_row(row, row_height(columns))
    for values in rows:
        row += 1
        for col, value in enumerate(values):
            write_text(ws, row, col, value, fmts["cell"], date_fmt=fmts["date"])
        for col in range(len(values), len(columns)):
            ws.write_blank(row, col, None, fmts["cell"])
    return row


def write_merged(ws: Worksheet, row: int, last_col: int, text: str, fmt: Format, *,
                 width: float | None = None, height: float | None = None) -> None:
    """A line of running text merged across columns 0..last_col (a heading, a paragraph).

    The row is made tall enough for the wrapped text when `width` (the merged width in
    column units) is given, since nobody re-measures merged cells.
    """
    if last_col > 0:
        ws.merge_range(row, 0, row, last_col, "", fmt)
    write_text(ws, row, 0, text, fmt)
    if height is None and width is not None:
        height = row_height([(text, width)], font_size=_font_size(fmt))
    if height is not None:
        ws.set_row(row, height)


def _font_size(fmt: Format | None) -> int:
    size = getattr(fmt, "font_size", None)
    return int(size) if isinstance(size, (int, float)) and size else FONT_SIZE


# --- many rows at once ----------------------------------------------------------------
#
# xlsxwriter spends ~8 µs on every cell it is handed (argument checks, a cell object, XML
# escaping through several regular expressions): 20 columns × 500,000 rows would take over
# a minute. write_blocks renders a table column by column instead, a repeated value once,
# and in constant_memory mode appends the finished <row> elements to each sheet's row file,
# which xlsxwriter later copies into the sheet unchanged. Everything else in the file
# (title, header, column widths, print setup) still goes through xlsxwriter.

SEQ = "序号"                     # as a column's values: each row's number within its block, 1, 2, 3…
EXCEL_EPOCH = datetime(1899, 12, 31)
MAX_CELL_CHARS = 32767          # Excel's limit, in UTF-16 units
STREAM_CHUNK = 2000             # table rows rendered at a time
_ROW_MARK, _SEQ_MARK = "\x00", "\x01"  # placeholders in a rendered row; never in escaped text
_NEEDS_ESCAPE = re.compile("[\x00-\x08\x0b-\x1f\ufffe\uffff&<>]|_x[0-9a-fA-F]{4}_")
_EXCEL_ESCAPED = re.compile(r"(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\ufffe\uffff]")
_CELL_SEP = "\x02"  # between the cells of a column, in _texts_xml: escaped in any text
_STREAM_ATTRS = ("constant_memory", "previous_row", "table", "row_info", "fh",
                 "_write_single_row", "_check_dimensions")

Formats = Format | Sequence[Format] | None  # one for the whole column, or one per table row
Column = tuple[Sequence | str, Formats]      # (values, formats); values may be SEQ


def write_rows(ws: Worksheet, first_row: int, columns: Sequence[Column], *,
               date_fmt: Format | None = None, heights: Sequence[float] | None = None) -> int:
    """Write a table from `first_row` down, column by column; return the last row written
    (first_row - 1 when the table is empty). See write_blocks.

    Example: last = write_rows(ws, 2, [(SEQ, fmts["number"]), (names, fmts["cell"])], date_fmt=fmts["date"])
    """
    return write_blocks([(ws, first_row, None)], columns, date_fmt=date_fmt, heights=heights)[0]


def write_blocks(blocks: Sequence[tuple[Worksheet, int, Sequence[int] | None]], columns: Sequence[Column], *,
                 date_fmt: Format | None = None, heights: Sequence[float] | None = None) -> list[int]:
    """Write rows of one table into one or more sheets; return the last row written in each.

    `columns` are (values, format) with one value per table row, or SEQ for a column that
    numbers the rows of each block 1, 2, 3…; the format is one Format for the column or
    one per table row (a marked cell). Values are written as write_text writes them: text
    always as text, never a formula; dates as Excel dates in `date_fmt`; numbers as
    numbers; None/NaN as a formatted blank. Each block (ws, first_row, rows) gets the
    table rows listed in `rows` (increasing; all when None) from `first_row` down.
    `heights` are per table row, in points.

    In constant_memory workbooks the rows are rendered straight into the sheets' row files,
    each table row once however many blocks show it: some 20 times faster than cell by
    cell. Every block must then start below all rows already written in its sheet, and its
    rows can carry no comments or merged cells. Otherwise this is a loop over write_text.

    Example: write_blocks([(everyone, 2, None), (pending, 2, [3, 8])], columns, date_fmt=fmts["date"])
    """
    sized = [values for values, _ in columns if not _is_seq(values)]
    count = len(sized[0]) if sized else 0
    if any(len(values) != count for values in sized):
        raise ValueError("write_blocks: every column needs one value per table row")
    if heights is not None and len(heights) != count:
        raise ValueError("write_blocks: one height per table row")
    blocks = [(ws, first, range(count) if rows is None else rows) for ws, first, rows in blocks]
    if len({id(ws) for ws, _, _ in blocks}) < len(blocks):
        raise ValueError("write_blocks: one block per sheet (rows must reach a sheet in order)")
    for _, _, rows in blocks:
        if any(b <= a for a, b in zip(rows, rows[1:])) or (len(rows) and not 0 <= rows[0] <= rows[-1] < count):
            raise ValueError("write_blocks: a block's rows must be increasing table row numbers")
    if all(_can_stream(ws) for ws, _, _ in blocks):
        return _stream(blocks, columns, count, date_fmt, heights)
    out = []
    for ws, first, rows in blocks:
        for number, index in enumerate(rows, start=1):
            row = first + number - 1
            if heights is not None:
                ws.set_row(row, heights[index])
            for col, (values, fmt) in enumerate(columns):
                value = number if _is_seq(values) else values[index]
                write_text(ws, row, col, value, _pick(fmt, index), date_fmt=date_fmt)
        out.append(first + len(rows) - 1)
    return out


def _is_seq(values) -> bool:
    return isinstance(values, str) and values == SEQ


def _pick(fmt: Formats, index: int) -> Format | None:
    return fmt if fmt is None or isinstance(fmt, Format) else fmt[index]


def _can_stream(ws: Worksheet) -> bool:
    return bool(getattr(ws, "constant_memory", False)) and all(hasattr(ws, a) for a in _STREAM_ATTRS)


class _Block:
    """One block's sheet and table rows, and how many of them are written."""

    def __init__(self, ws: Worksheet, first_row: int, rows: Sequence[int], width: int):
        pending = ws.previous_row
        if first_row < pending or (first_row == pending and (ws.table.get(pending) or pending in ws.row_info)):
            raise ValueError(f"write_blocks: row {first_row + 1} is above rows already written (constant_memory)")
        self.last_row = first_row + len(rows) - 1
        if len(rows) and (ws._check_dimensions(self.last_row, width - 1) or ws._check_dimensions(first_row, 0)):
            raise ValueError(f"write_blocks: rows {first_row + 1}..{self.last_row + 1} are outside the sheet")
        ws._write_single_row(first_row)  # flush what was written through xlsxwriter so far
        self.ws, self.rows, self.first, self.done = ws, rows, first_row, 0

    def take(self, stop: int) -> tuple[int, Sequence[int]]:
        """(rows written so far, this block's next table rows below `stop`)."""
        start = end = self.done
        rows = self.rows
        while end < len(rows) and rows[end] < stop:
            end += 1
        self.done = end
        return start, rows[start:end]

    def finish(self) -> int:
        if len(self.rows):
            self.ws.previous_row = self.last_row  # later writes go below the block
        return self.last_row


def _stream(blocks, columns: Sequence[Column], count: int, date_fmt, heights) -> list[int]:
    # Each table row is rendered once as a string with placeholders for the row number
    # (ROW_MARK, in every cell reference) and the block's 序号 (SEQ_MARK); each block then
    # fills them in with two str.replace calls. Rendered text never holds either mark:
    # control characters are escaped to _xHHHH_.
    targets = [_Block(ws, first, rows, len(columns)) for ws, first, rows in blocks]
    renderers = [_ColumnXML(values, fmt, date_fmt, f'<c r="{xl_col_to_name(col)}{_ROW_MARK}')
                 for col, (values, fmt) in enumerate(columns)]
    has_seq = any(_is_seq(values) for values, _ in columns)
    row_attrs: dict[float, str] = {}
    for chunk in range(0, count, STREAM_CHUNK):
        stop = min(count, chunk + STREAM_CHUNK)
        bodies = ["".join(cells) for cells in zip(*(r.render(chunk, stop) for r in renderers))]
        for target in targets:
            seq, wanted = target.take(stop)
            out: list[str] = []
            append = out.append
            for index in wanted:
                seq += 1
                number = str(target.first + seq)
                body = bodies[index - chunk].replace(_ROW_MARK, number)
                if has_seq:
                    body = body.replace(_SEQ_MARK, str(seq))
                height = ""
                if heights is not None:
                    height = row_attrs.get(heights[index]) or row_attrs.setdefault(
                        heights[index], _height_attr(heights[index]))
                append(f'<row r="{number}"{height}>{body}</row>')
            if out:
                target.ws.fh.write("".join(out))
    return [target.finish() for target in targets]


def _height_attr(points: float) -> str:
    pixels = int(points * 4.0 / 3.0 + 0.5)  # as xlsxwriter's set_row rounds it
    return f' ht="{pixels * 0.75:.16g}" customHeight="1"'


class _ColumnXML:
    """The cells of one column as XML (`prefix` is the start of each <c> element), chunk by chunk.

    Rendered once per distinct value while values repeat (a township, a date, a class);
    a column of mostly distinct values (names, IDs, free text) stops remembering them, so
    that memory stays flat however many rows there are.
    """

    def __init__(self, values: Sequence | str, fmt: Formats, date_fmt: Format | None, prefix: str):
        self.values, self.fmt, self.date_fmt, self.prefix = values, fmt, date_fmt, prefix
        self.single = fmt is None or isinstance(fmt, Format)
        self.style = _style(fmt) if self.single else None
        self.seq = _is_seq(values)
        self.cache: dict | None = {}

    def render(self, start: int, stop: int) -> list[str]:
        prefix, fmt, date_fmt = self.prefix, self.fmt, self.date_fmt
        if self.seq:
            return [f'{prefix}"{_style(_pick(fmt, index))}><v>{_SEQ_MARK}</v></c>' for index in range(start, stop)]
        chunk = self.values[start:stop]
        if self.cache is None and self.single:  # mostly distinct text: the common case, without _cell_xml's checks
            return _texts_xml(chunk, self.style, prefix, fmt, date_fmt)
        if self.cache is None:
            return [prefix + _cell_xml(v, f, date_fmt) for v, f in zip(chunk, fmt[start:stop])]
        cache = self.cache
        formats = [fmt] * len(chunk) if self.single else fmt[start:stop]
        out = []
        append = out.append
        for value, cell_fmt in zip(chunk, formats):
            try:
                key = (value.__class__, value, id(cell_fmt))
                xml = cache.get(key)
                if xml is None:
                    xml = cache[key] = prefix + _cell_xml(value, cell_fmt, date_fmt)
            except TypeError:  # an unhashable value: rendered as its text
                xml = prefix + _cell_xml(value, cell_fmt, date_fmt)
            append(xml)
        if len(cache) > len(chunk) // 2:
            self.cache = None  # mostly distinct values: remembering them only costs memory
        return out


def _style(fmt: Format | None) -> str:
    return f' s="{fmt._get_xf_index()}"' if fmt is not None else ""


def _cell_xml(value, fmt: Format | None, date_fmt: Format | None) -> str:
    """The same decisions as write_text, as XML."""
    value = _plain(value)
    if isinstance(value, str):
        return _string_xml(value, _style(fmt)) if value else f'"{_style(fmt)}/>'
    if _is_missing(value):
        return f'"{_style(fmt)}/>'
    if isinstance(value, bool):
        return _string_xml("是" if value else "否", _style(fmt))
    if isinstance(value, (date, datetime)):
        target = date_fmt or (fmt if _has_date_format(fmt) else None)
        if target is None:
            return _string_xml(value.isoformat(), _style(fmt))
        return _number_xml(_excel_serial(_as_datetime(value)), target)
    if isinstance(value, numbers.Real) and math.isfinite(value):
        return _number_xml(value, fmt)
    text = str(value)
    return _string_xml(text, _style(fmt)) if text else f'"{_style(fmt)}/>'


def _number_xml(number, fmt: Format | None) -> str:
    return f'"{_style(fmt)}><v>{number:.16G}</v></c>'


def _string_xml(text: str, style: str, prefix: str = "") -> str:
    """A cell holding `text` as an inline string (after `prefix`, the start of the <c>
    element), escaped as xlsxwriter escapes one: never markup, never a formula."""
    if len(text) > MAX_CELL_CHARS // 2 and len(text.encode("utf-16-le")) // 2 > MAX_CELL_CHARS:
        text = text.encode("utf-16-le")[: MAX_CELL_CHARS * 2].decode("utf-16-le", "ignore")
    if _NEEDS_ESCAPE.search(text):
        text = _EXCEL_ESCAPED.sub(r"_x005F\1", text)  # a literal _x0041_ is not an escape
        text = _CONTROL.sub(lambda m: f"_x{ord(m.group()):04X}_", text)
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    space = ' xml:space="preserve"' if text[0].isspace() or text[-1].isspace() else ""
    return f'{prefix}"{style} t="inlineStr"><is><t{space}>{text}</t></is></c>'


def _texts_xml(values: Sequence, style: str, prefix: str, fmt: Format | None, date_fmt: Format | None) -> list[str]:
    """What _string_xml (or _cell_xml, for a blank, a number, a date) gives for each of
    `values`, all in one format. The texts that need no escape, no kept space and no cut,
    most cells of a ledger, are rendered together with one join, replace and split; the
    few others, and the values that are not text, one by one.

    Which texts need care is read off their characters with numpy rather than with regular
    expressions over the joined text, which took a tenth of the stress ledger.
    """
    import numpy as np

    out: list = [None] * len(values)
    try:  # the common case: every value a text, none empty
        joined = _CELL_SEP.join(values)
        every = bool(joined) and _CELL_SEP * 2 not in joined and _CELL_SEP not in (joined[0], joined[-1])
    except TypeError:
        every = False
    if every:
        texts, where = values, range(len(values))
    else:
        texts, where = [], []
        for index, value in enumerate(values):
            if value.__class__ is str and value:
                texts.append(value)
                where.append(index)
            else:
                out[index] = prefix + _cell_xml(value, fmt, date_fmt)
        if not texts:
            return out
        joined = _CELL_SEP.join(texts)
    codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    seps = np.flatnonzero(codes == ord(_CELL_SEP))
    if len(seps) != len(texts) - 1:  # a text holds the separator itself: one by one
        careful = set(range(len(texts)))
    else:
        kinds = _char_kinds().take(codes)
        starts, ends = np.append(0, seps + 1), np.append(seps - 1, len(codes) - 1)
        careful = set(np.searchsorted(seps, np.flatnonzero(kinds & _ESCAPE)).tolist())
        careful.update(np.flatnonzero((kinds[starts] | kinds[ends]) & _SPACE).tolist())
        careful.update(np.flatnonzero(ends - starts >= MAX_CELL_CHARS // 2).tolist())
        if "_x" in joined:
            careful.update(n for n, text in enumerate(texts) if _EXCEL_ESCAPED.search(text))
    for n in careful:
        out[where[n]] = _string_xml(texts[n], style, prefix)
    if careful:
        plain = [n for n in range(len(texts)) if n not in careful]
        joined = _CELL_SEP.join(texts[n] for n in plain)
    else:
        plain = range(len(texts))
    if plain:
        head, tail = f'{prefix}"{style} t="inlineStr"><is><t>', "</t></is></c>"
        rendered = (head + joined.replace(_CELL_SEP, tail + _CELL_SEP + head) + tail).split(_CELL_SEP)
        if every and not careful:
            return rendered
        for n, xml in zip(plain, rendered):
            out[where[n]] = xml
    return out


_ESCAPE, _SPACE = 1, 2


@functools.cache
def _char_kinds():
    """For every code point, whether _string_xml escapes it (_ESCAPE) and whether it is
    white space that a cell keeps only with xml:space (_SPACE, as str.isspace)."""
    import numpy as np

    kinds = np.zeros(0x110000, dtype=np.uint8)
    for char in "&<>\ufffe\uffff" + "".join(map(chr, range(0x20))):
        if _NEEDS_ESCAPE.match(char):
            kinds[ord(char)] |= _ESCAPE
    kinds[ord(_CELL_SEP)] = 0  # between the texts; a text that holds it is rendered on its own
    for code in range(0x10000):  # no white space lies beyond U+3000
        if chr(code).isspace():
            kinds[code] |= _SPACE
    return kinds


def _excel_serial(moment: datetime) -> float:
    """Excel's 1900 date number (with its fictitious 1900-02-29, as xlsxwriter counts it)."""
    delta = moment - EXCEL_EPOCH
    days = delta.days + (delta.seconds + delta.microseconds / 1e6) / 86400
    return days + 1 if days > 59 else days


def row_heights(columns: Sequence[tuple[Sequence, float]], *, font_size: int = FONT_SIZE,
                minimum: float = 15.0) -> list[float]:
    """Row heights in points for many rows: for each row, what row_height gives for its
    (text, column width) cells.

    Measured without a look at each character, which would take seconds for 300,000 rows:
    with c characters and b bytes of UTF-8, a text of CJK (3 bytes, 2.1 units) and ASCII
    (1 byte, 1.1 units) is 0.5·b + 0.6·c units wide, as display_width counts it.

    Example: heights = row_heights([(households, 30.0), (results, 22.0)])
    """
    import numpy as np

    count = len(columns[0][0]) if columns else 0
    lines = np.ones(count, dtype=np.int64)
    for values, width in columns:
        usable = max(width - 0.8, 1.0)
        fits = int(usable / 2.1)  # this many characters fit on one line whatever they are
        chars = np.fromiter((len(v) if v.__class__ is str else 0 for v in values), dtype=np.int64, count=count)
        long = np.flatnonzero(chars > fits)
        if not len(long):
            continue
        texts = [values[i] for i in long]
        utf8 = np.fromiter((len(t.encode("utf-8", "surrogatepass")) for t in texts), dtype=np.int64,
                           count=len(texts))
        needed = np.ceil((0.5 * utf8 + 0.6 * chars[long]) / usable).astype(np.int64)
        for j, text in enumerate(texts):
            if "\n" in text:
                needed[j] = text_lines(text, width)
        lines[long] = np.maximum(lines[long], needed)
    by_lines: dict[int, float] = {}
    return [by_lines.get(n) or by_lines.setdefault(n, _height(n, font_size, minimum)) for n in lines.tolist()]
