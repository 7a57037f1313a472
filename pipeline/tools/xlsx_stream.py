"""Large tables written fast into xlsxwriter workbooks, and the workbook that closes them.

xlsxwriter spends ~8 µs on every cell it is handed (argument checks, a cell object, XML
escaping through several regular expressions): 20 columns × 500,000 rows would take over
a minute. write_blocks renders a table column by column instead, a repeated value once,
and in constant_memory mode appends the finished <row> elements to each sheet's row file,
which xlsxwriter later copies into the sheet unchanged. Everything else in the file
(title, header, column widths, print setup) still goes through xlsxwriter.
"""

from __future__ import annotations

import functools
import shutil
import tempfile
import threading
from collections.abc import Sequence

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

from pipeline.tools.xlsx_cells import cell_xml, style_attr, texts_xml, write_text

_SEQ_MARK = "\x01"  # the block's 序号 in a rendered row; never in escaped text
SEQ = "序号"                     # as a column's values: each row's number within its block, 1, 2, 3…
STREAM_CHUNK = 2000             # table rows rendered at a time
_STREAM_ATTRS = ("constant_memory", "previous_row", "table", "row_info", "fh",
                 "_write_single_row", "_check_dimensions")
Formats = Format | Sequence[Format] | None  # one for the whole column, or one per table row
Column = tuple[Sequence | str, Formats]      # (values, formats); values may be SEQ


SPOOL_BYTES = 1024 * 1024  # a constant_memory sheet's rows kept in memory up to this size, then in a file
IN_MEMORY_BYTES = 16 * 1024 * 1024  # a workbook is assembled in memory unless a sheet's rows pass this
_PART_MARK = "\x02"  # around a spilled sheet's number in its in-memory part; never in escaped text


class _RowSpool:
    """Where a constant_memory sheet's rows wait, as UTF-8: in memory up to SPOOL_BYTES,
    then in a temporary file. Kept as bytes, so that a spilled sheet is copied into its
    part of the zip without decoding and encoding it again (5.9 s of the stress ledger)."""

    def __init__(self, directory: str | None):
        self.file = tempfile.SpooledTemporaryFile(SPOOL_BYTES, mode="w+b", dir=directory)
        self.size = 0
        self.mark: str | None = None  # set by Workbook.close: the rows join the zip there, not the part

    def write(self, text: str) -> None:
        data = text.encode("utf-8")
        self.size += len(data)
        self.file.write(data)

    def spilled(self) -> bool:
        return getattr(self.file, "_rolled", True)

    def copy_to(self, fh) -> None:
        if self.mark is not None:  # Workbook.close puts the rows in place of the mark
            fh.write(self.mark)
            return
        self.file.seek(0)
        if hasattr(fh, "buffer"):  # the sheet's part is a file: bytes straight across
            fh.flush()
            shutil.copyfileobj(self.file, fh.buffer, 1 << 20)
        else:  # the part is in memory (StringIO)
            fh.write(self.file.read().decode("utf-8"))
        self.file.close()

    def read(self) -> bytes:
        self.file.seek(0)
        data = self.file.read()
        self.file.close()
        return data

    def close(self) -> None:
        self.file.close()


class _SpooledWorksheet(Worksheet):
    """A constant_memory worksheet whose rows wait in a _RowSpool.

    xlsxwriter gives every such sheet a temporary file, and assembles the zip from more
    temporary files. Removing a file costs 2–7 ms on this machine's disk: a week's overdue
    list, one sheet per township, spent 0.2 s of its 0.6 s on it. Rows past SPOOL_BYTES wait
    in a temporary file (deleted by the system when closed, even by a killed run), and join
    the zip only as their part is written (Workbook.close): a week's ledger, 20 MB of XML in
    four sheets, raised the run's peak by 50 MB when every part was built in memory at once.
    A sheet past IN_MEMORY_BYTES (the stress case) goes through xlsxwriter's files as before.
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


class Workbook(xlsxwriter.Workbook):
    """Closes into a zip deflated by ISA-L, assembled in memory when every sheet's rows stayed there.

    ISA-L (isal) writes the same deflate format as zlib, four times as fast as zlib's
    fastest level and into a slightly smaller file: the week's 20 MB of ledger XML in
    0.05 s (3.21 MB) against 0.22 s at zlib's level 1 (3.31 MB) and 0.50 s at its default
    (2.38 MB); the stress case's ledger holds ~700 MB of it. xlsxwriter has no option for
    the compressor, so zipfile's is swapped for the duration of close(), under a lock.
    """

    worksheet_class = _SpooledWorksheet

    def add_format(self, properties: dict | None = None) -> Format:
        """A format that can make its twin with Excel's quote prefix (xlsx_cells.quoted), only
        when a text that looks like a formula is written in it, so that other files are unchanged."""
        fmt = super().add_format(properties)
        fmt.quoted_twin = functools.partial(self._quoted, fmt, dict(properties or {}))
        return fmt

    def _quoted(self, fmt: Format, properties: dict) -> Format:
        twins = self.__dict__.setdefault("_twins", {})
        if id(fmt) not in twins:
            twins[id(fmt)] = super().add_format({**properties, "quote_prefix": True})
        return twins[id(fmt)]
    _zip_lock = threading.Lock()

    def close(self) -> None:
        import zipfile

        from isal import isal_zlib

        spools = [ws.row_data_fh for ws in self.worksheets()
                  if isinstance(ws, _SpooledWorksheet) and ws.constant_memory]
        parts: dict[bytes, _RowSpool] = {}
        if self.constant_memory and not any(spool.size > IN_MEMORY_BYTES for spool in spools):
            self.in_memory = True
            for n, spool in enumerate(s for s in spools if s.spilled()):
                spool.mark = f"{_PART_MARK}{n}{_PART_MARK}"
                parts[spool.mark.encode("utf-8")] = spool
        original = zipfile._get_compressor
        writestr = zipfile.ZipFile.writestr

        def compressor(compress_type, compresslevel=None):
            if compress_type == zipfile.ZIP_DEFLATED:
                return isal_zlib.compressobj(DEFLATE_LEVEL, isal_zlib.DEFLATED, -15)
            return original(compress_type, compresslevel)

        def with_rows(zf, zinfo, data, *args, **kwargs):
            # A spilled sheet's rows join its part only here, one sheet at a time: the part's
            # bytes, and so the deflated stream (ISA-L's depends on how its input is cut), are
            # those of a sheet kept in memory whole, while the workbook's sheets never all are.
            if parts and isinstance(data, bytes) and zinfo.filename.startswith("xl/worksheets/"):
                for mark in [m for m in parts if m in data]:
                    before, after = data.split(mark, 1)
                    data = b"".join((before, parts.pop(mark).read(), after))
            return writestr(zf, zinfo, data, *args, **kwargs)

        with self._zip_lock:
            zipfile._get_compressor = compressor
            zipfile.ZipFile.writestr = with_rows
            try:
                super().close()
            finally:
                zipfile._get_compressor = original
                zipfile.ZipFile.writestr = writestr
                for spool in parts.values():  # a close that failed before its sheets were written
                    spool.close()


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
    # Each table row is rendered once as the pieces between its row numbers: <row r=" | ">
    # <c r="A | the A cell and <c r="B | … | the last cell and </row>, so that each block
    # writes it with one join on its row number; the block's 序号 (SEQ_MARK) is filled into
    # its own small piece. Rendered text never holds the mark: control characters are
    # escaped to _xHHHH_.
    targets = [_Block(ws, first, rows, len(columns)) for ws, first, rows in blocks]
    starts = [f'<c r="{xl_col_to_name(col)}' for col in range(len(columns))]
    renderers = [ColumnXML(values, fmt, date_fmt, "", suffix)
                 for (values, fmt), suffix in zip(columns, [*starts[1:], "</row>"])]
    seq_at = [2 + col for col, (values, _) in enumerate(columns) if _is_seq(values)]
    heads: dict[float | None, str] = {}  # the piece after the row number: its height, the first cell's start
    for chunk in range(0, count, STREAM_CHUNK):
        stop = min(count, chunk + STREAM_CHUNK)
        rows = []
        for index, cells in enumerate(zip(*(r.render(chunk, stop) for r in renderers)), start=chunk):
            points = None if heights is None else heights[index]
            head = heads.get(points) or heads.setdefault(
                points, f'"{"" if points is None else _height_attr(points)}>{starts[0]}')
            rows.append(['<row r="', head, *cells])
        for target in targets:
            seq, wanted = target.take(stop)
            out: list[str] = []
            append = out.append
            first = target.first
            for index in wanted:
                seq += 1
                pieces = rows[index - chunk]
                if seq_at:
                    pieces = pieces.copy()
                    text = str(seq)
                    for at in seq_at:
                        pieces[at] = pieces[at].replace(_SEQ_MARK, text)
                append(str(first + seq).join(pieces))
            if out:
                target.ws.fh.write("".join(out))
    return [target.finish() for target in targets]


def _height_attr(points: float) -> str:
    pixels = int(points * 4.0 / 3.0 + 0.5)  # as xlsxwriter's set_row rounds it
    return f' ht="{pixels * 0.75:.16g}" customHeight="1"'


class ColumnXML:
    """The cells of one column as XML (`prefix` is the start of each <c> element), chunk by chunk.

    Rendered once per distinct value while values repeat (a township, a date, a class);
    a column of mostly distinct values (names, IDs, free text) stops remembering them, so
    that memory stays flat however many rows there are.
    """

    def __init__(self, values: Sequence | str, fmt: Formats, date_fmt: Format | None, prefix: str, suffix: str = ""):
        self.values, self.fmt, self.date_fmt, self.prefix, self.suffix = values, fmt, date_fmt, prefix, suffix
        self.single = fmt is None or isinstance(fmt, Format)
        self.style = style_attr(fmt) if self.single else None
        self.seq = _is_seq(values)
        self.cache: dict | None = {}

    def render(self, start: int, stop: int) -> list[str]:
        prefix, suffix, fmt, date_fmt = self.prefix, self.suffix, self.fmt, self.date_fmt
        if self.seq:
            return [f'{prefix}"{style_attr(_pick(fmt, index))}><v>{_SEQ_MARK}</v></c>{suffix}'
                    for index in range(start, stop)]
        chunk = self.values[start:stop]
        if self.cache is None and self.single:  # mostly distinct text: the common case, without _cell_xml's checks
            return texts_xml(chunk, self.style, prefix, fmt, date_fmt, suffix)
        if self.cache is None:
            return [prefix + cell_xml(v, f, date_fmt) + suffix for v, f in zip(chunk, fmt[start:stop])]
        cache = self.cache
        formats = [fmt] * len(chunk) if self.single else fmt[start:stop]
        out = []
        append = out.append
        for value, cell_fmt in zip(chunk, formats):
            try:
                key = (value.__class__, value, id(cell_fmt))
                xml = cache.get(key)
                if xml is None:
                    xml = cache[key] = prefix + cell_xml(value, cell_fmt, date_fmt) + suffix
            except TypeError:  # an unhashable value: rendered as its text
                xml = prefix + cell_xml(value, cell_fmt, date_fmt) + suffix
            append(xml)
        if len(cache) > len(chunk) // 2:
            self.cache = None  # mostly distinct values: remembering them only costs memory
        return out
