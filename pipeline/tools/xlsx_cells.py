"""One cell as Excel must show it: text as text (never a formula, a link or a number), dates
as dates, numbers as numbers, blanks formatted; through xlsxwriter (`write_text`) or as the
XML of a streamed row (`cell_xml`, `texts_xml`, used by xlsx_stream). Both make the same
decisions, which the tests compare cell by cell.
"""

from __future__ import annotations

import functools
import math
import numbers
import re
from collections.abc import Sequence
from datetime import date, datetime, time

from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

EXCEL_EPOCH = datetime(1899, 12, 31)
MAX_CELL_CHARS = 32767          # Excel's limit, in UTF-16 units
_NEEDS_ESCAPE = re.compile("[\x00-\x08\x0b-\x1f\ufffe\uffff&<>]|_x[0-9a-fA-F]{4}_")
_EXCEL_ESCAPED = re.compile(r"(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\ufffe\uffff]")
_CELL_SEP = "\x02"  # between the cells of a column, in _texts_xml: escaped in any text


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


# Text that Excel would take for a formula once a clerk edits the cell: stored as text and shown
# with Excel's quote prefix (quotePrefix), which keeps it text when the cell is edited.
FORMULA_STARTS = "=+-@"


def quoted(fmt: Format | None) -> Format | None:
    """The twin of a format with Excel's quote prefix (xlsx_stream.Workbook makes it when needed)."""
    twin = getattr(fmt, "quoted_twin", None)
    return twin() if twin is not None else fmt


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
        if value[:1] in FORMULA_STARTS:
            fmt = quoted(fmt)
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


def style_attr(fmt: Format | None) -> str:
    return f' s="{fmt._get_xf_index()}"' if fmt is not None else ""


def cell_xml(value, fmt: Format | None, date_fmt: Format | None) -> str:
    """The same decisions as write_text, as XML."""
    value = _plain(value)
    if isinstance(value, str):
        if value[:1] in FORMULA_STARTS:
            fmt = quoted(fmt)
        return string_xml(value, style_attr(fmt)) if value else f'"{style_attr(fmt)}/>'
    if _is_missing(value):
        return f'"{style_attr(fmt)}/>'
    if isinstance(value, bool):
        return string_xml("是" if value else "否", style_attr(fmt))
    if isinstance(value, (date, datetime)):
        target = date_fmt or (fmt if _has_date_format(fmt) else None)
        if target is None:
            return string_xml(value.isoformat(), style_attr(fmt))
        return _number_xml(_excel_serial(_as_datetime(value)), target)
    if isinstance(value, numbers.Real) and math.isfinite(value):
        return _number_xml(value, fmt)
    text = str(value)
    return string_xml(text, style_attr(fmt)) if text else f'"{style_attr(fmt)}/>'


def _number_xml(number, fmt: Format | None) -> str:
    return f'"{style_attr(fmt)}><v>{number:.16G}</v></c>'


def string_xml(text: str, style: str, prefix: str = "") -> str:
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


def texts_xml(values: Sequence, style: str, prefix: str, fmt: Format | None, date_fmt: Format | None,
              suffix: str = "") -> list[str]:
    """What _string_xml (or _cell_xml, for a blank, a number, a date) gives for each of
    `values`, all in one format, between `prefix` and `suffix`. The texts that need no escape, no kept space and no cut,
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
                out[index] = prefix + cell_xml(value, fmt, date_fmt) + suffix
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
        careful.update(np.flatnonzero(kinds[starts] & _FORMULA).tolist())
        if "_x" in joined:
            careful.update(n for n, text in enumerate(texts) if _EXCEL_ESCAPED.search(text))
    for n in careful:
        text = texts[n]
        out[where[n]] = string_xml(text, style_attr(quoted(fmt)) if text[:1] in FORMULA_STARTS else style, prefix) + suffix
    if careful:
        plain = [n for n in range(len(texts)) if n not in careful]
        joined = _CELL_SEP.join(texts[n] for n in plain)
    else:
        plain = range(len(texts))
    if plain:
        head, tail = f'{prefix}"{style} t="inlineStr"><is><t>', "</t></is></c>" + suffix
        rendered = (head + joined.replace(_CELL_SEP, tail + _CELL_SEP + head) + tail).split(_CELL_SEP)
        if every and not careful:
            return rendered
        for n, xml in zip(plain, rendered):
            out[where[n]] = xml
    return out


_ESCAPE, _SPACE, _FORMULA = 1, 2, 4


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
    for char in FORMULA_STARTS:
        kinds[ord(char)] |= _FORMULA
    for code in range(0x10000):  # no white space lies beyond U+3000
        if chr(code).isspace():
            kinds[code] |= _SPACE
    return kinds


def _excel_serial(moment: datetime) -> float:
    """Excel's 1900 date number (with its fictitious 1900-02-29, as xlsxwriter counts it)."""
    delta = moment - EXCEL_EPOCH
    days = delta.days + (delta.seconds + delta.microseconds / 1e6) / 86400
    return days + 1 if days > 59 else days
