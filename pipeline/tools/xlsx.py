"""Small xlsxwriter helpers shared by every workbook jiuzhu writes.

The ledger, the feedback workbooks, the reminders and the blank template all look like the
printed form: a 宋体 title, bordered cells, a grey header, A4 landscape with the header on
every page. Two rules hold for all of them: text is always written as text (a name such
as `=HYPERLINK(...)` never becomes a formula, an ID never becomes a float), and the same
input gives the same bytes (the document dates are pinned, the zip entries are dated
1980-01-01). Large tables (the district ledger) go through write_rows / write_blocks into
a constant_memory workbook, which render rows straight into the sheet XML (xlsx_stream.py);
one cell's rules are in xlsx_cells.py.

Example:
    wb = new_workbook(path, created=as_of)
    fmts = formats(wb)
    ws = wb.add_worksheet("全部")
    last = write_table(ws, 0, [("对象姓名", 10), ("发现日期", 12)], rows, fmts, title="汇总台账")
    print_setup(ws, header_rows=(1, 1), last_col=1)
    wb.close()
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from pathlib import Path

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from pipeline.tools.xlsx_cells import MAX_CELL_CHARS, write_text  # noqa: F401 (the house style's writers)
from pipeline.tools.xlsx_stream import SEQ, Workbook, write_blocks, write_rows  # noqa: F401

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
NARROW_MARGINS = {"left": 0.2, "right": 0.2, "top": 0.5, "bottom": 0.5}  # a wide table that must stay readable
A4_INCHES = (8.27, 11.69)
# Nothing prints smaller: a sheet's font size times the scale it is fitted to (printed_scale) is at
# least this, so its columns must fit the page at MIN_PRINTED_PT / FONT_SIZE (82 %).
MIN_PRINTED_PT = 9

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
    workbook = Workbook(str(path), options)
    stamp = created if isinstance(created, datetime) else datetime.combine(created, time())
    properties = {"created": stamp, "author": "jiuzhu", "comments": ""}
    if title:
        properties["title"] = title
    workbook.set_properties(properties)
    return workbook


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
    # ID numbers, phone numbers: text that never wraps inside its cell (its column is wide enough).
    "code": {**_font(), **_BOX, "text_wrap": False, "align": "center", "num_format": TEXT_FORMAT},
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
    plain_text / plain_date (the same without borders) · border · heading / note / note_bold ·
    code (an ID or phone number: text, never wrapped).
    """
    return {name: workbook.add_format(dict(props)) for name, props in FORMAT_PROPERTIES.items()}


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


def column_pixels(width: float) -> int:
    """A column's width in pixels as Excel lays it out (units of the default font's digit, 7 px)."""
    return int(width * 7 + 0.5) + 5


def printed_scale(widths: Iterable[float], *, landscape: bool = True, margins: dict | None = None) -> int:
    """The scale (%) Excel prints a sheet at when fitted to one A4 page wide: 100 when the columns
    fit, else the largest whole percentage at which they do."""
    margins = margins or MARGINS
    page = (A4_INCHES[1] if landscape else A4_INCHES[0]) - margins["left"] - margins["right"]
    needed = sum(column_pixels(w) for w in widths)
    return min(100, math.floor(page * 96 * 100 / needed)) if needed else 100


def print_setup(ws: Worksheet, *, header_rows: tuple[int, int] | None, last_col: int,
                last_row: int | None = None, landscape: bool = True,
                page_title: str | None = None, margins: dict | None = None) -> None:
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
    ws.set_margins(**(margins or MARGINS))
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
