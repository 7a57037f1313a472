"""Read a submitted file into sheets of cell values, after guard has vetted it.

.xlsx, .xlsm and .xls go through python-calamine (fast, never evaluates formulas: it
returns the cached value, and never runs macros); .csv through the csv module after
decoding UTF-8 (with or without BOM) or GB18030. Row numbers are kept as a person sees
them: Excel rows from 1, CSV line numbers. Word documents and web pages are read by
read_docx and read_html (a table's rows, as 表格N), Excel 2003 XML by read_xml2003, and
.doc, .wps and .et once LibreOffice has converted them (intake/convert.py).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from pipeline.errors import InputFileError
from pipeline.intake import guard
from pipeline.intake.blob import Blob, Source, opened
from pipeline.rules import spec

CSV_ENCODINGS = ("utf-8-sig", "gb18030")
_SEP_LINE = re.compile(r"sep=([,;\t|])\r?\n")


@dataclass
class Sheet:
    """One sheet's cells from A1; `row_numbers[i]` is the row a person sees for `rows[i]`.
    `merged` holds the (row index, column) of cells that show a value merged down from above."""

    name: str
    visible: bool
    rows: list[list]
    row_numbers: list[int]
    merged: frozenset[tuple[int, int]] = frozenset()


def read_sheets(path: Source, examined: guard.Examined | None = None) -> list[Sheet]:
    """All worksheets (or a document's tables) of a vetted file. Raises InputFileError for what
    guard cannot see.

    Example: read_sheets(Path("城西街道1128.xlsx"))[0].rows[2]  # Excel row 3
    """
    examined = examined or guard.examine(path)
    kind = examined.kind
    if kind in ("doc", "wps", "rtf", "et"):
        from pipeline.intake.convert import converted

        made = converted(path, kind)
        return read_sheets(made, guard.examine(made))
    if kind == "docx":
        from pipeline.intake.read_docx import read_docx

        return read_docx(path)
    if kind == "html":
        from pipeline.intake.read_html import read_html

        return read_html(path)
    if kind == "xml2003":
        from pipeline.intake.read_xml2003 import read_xml2003

        return read_xml2003(path)
    if kind == "zip":  # intake/check.py unpacks an archive before reading; one inside another is refused
        raise InputFileError("unsupported_type", f"这是一个 zip 压缩包，不是 Excel 表格。{guard.UNZIP}")
    if kind == "csv":
        return [_read_csv(path)]
    return _read_workbook(path, kind, examined.error_cells)


def _read_workbook(path: Source, kind: str, error_cells: dict[str, dict[tuple[int, int], str]]) -> list[Sheet]:
    import python_calamine as calamine

    max_cells = spec.thresholds()["max_cells"]
    try:
        if isinstance(path, Blob):
            book = calamine.CalamineWorkbook.from_filelike(opened(path))
        elif (kind == "xls") == (path.suffix.lower() == ".xls") and _utf8(path):
            book = calamine.CalamineWorkbook.from_path(str(path))
        else:  # calamine goes by the name (an .xlsx saved as .xls), and takes only a UTF-8 one
            with path.open("rb") as fh:
                book = calamine.CalamineWorkbook.from_filelike(fh)
        sheets = []
        for meta in book.sheets_metadata:
            if meta.typ != calamine.SheetTypeEnum.WorkSheet:
                continue
            sheet = book.get_sheet_by_name(meta.name)
            height, width = sheet.end if sheet.end else (-1, -1)
            if (height + 1) * (width + 1) > max_cells:
                raise InputFileError(
                    "too_large",
                    f"工作表「{meta.name}」的范围达到 {height + 1} 行 × {width + 1} 列，超过上限"
                    f"（{max_cells:,} 个单元格）。请删除表格下方和右侧多余的行列后重新保存。")
            rows = sheet.to_python(skip_empty_area=False)
            _show_errors(rows, error_cells.get(meta.name, {}))
            merged = _fill_merged_down(rows, sheet.merged_cell_ranges or ())
            visible = meta.visible == calamine.SheetVisibleEnum.Visible
            sheets.append(Sheet(meta.name, visible, rows, list(range(1, len(rows) + 1)), merged))
        book.close()
    except InputFileError:
        raise
    except Exception as exc:  # calamine raises its own error types for every kind of damage
        raise InputFileError(
            "unreadable",
            f"文件内容已损坏，无法作为表格读取（{type(exc).__name__}）。"
            "请用 Excel 或 WPS 打开确认后另存为 .xlsx 再发送。") from exc
    return sheets


def _utf8(path) -> bool:
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:  # a GBK name's bytes, escaped (intake/inbox.shown_name)
        return False
    return True


def decode_csv(data: bytes) -> str:
    for encoding in CSV_ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InputFileError(
        "unreadable",
        "CSV 文件的文字编码无法识别（应为 UTF-8 或 GB18030/GBK）。请用 Excel 另存为 .xlsx 后再发送。")


def _show_errors(rows: list[list], cells: dict[tuple[int, int], str]) -> None:
    """Put back what a cell showing a formula's error shows (#N/A), which calamine reads as empty."""
    for (row, column), text in cells.items():
        if row < len(rows) and column < len(rows[row]) and rows[row][column] in ("", None):
            rows[row][column] = text


def _fill_merged_down(rows: list[list], ranges) -> frozenset[tuple[int, int]]:
    """Cells merged down one column (所属乡镇 or 发现方式 once for a village's people) hold
    their value in the top cell only: give it to each row, as a person sees it, and return
    the cells so filled (a row with nothing of its own is still blank). Merges across
    columns are left alone: which column a value belongs to is not for us to guess."""
    filled = set()
    for (top, column), (bottom, last) in ranges:
        if column != last or top >= len(rows) or column >= len(rows[top]):
            continue
        value = rows[top][column]
        if value is None or value == "":
            continue
        for index in range(top + 1, min(bottom + 1, len(rows))):
            row = rows[index]
            if column < len(row) and (row[column] is None or row[column] == ""):
                row[column] = value
                filled.add((index, column))
    return frozenset(filled)


def _read_csv(path: Source) -> Sheet:
    """Rows of a CSV as Excel writes it: quotes doubled inside quoted cells, an optional first
    line sep=; naming the delimiter, and ="0012…" for a cell Excel must keep as text."""
    text = decode_csv(path.read_bytes())
    first, dialect = 1, csv.excel
    if (named := _SEP_LINE.match(text)) is not None:
        delimiter, text, first = named[1], text[named.end():], 2
    else:
        try:
            dialect = csv.Sniffer().sniff(text[:8192], delimiters=",\t;")
        except csv.Error:
            pass
        delimiter = dialect.delimiter
    reader = csv.reader(io.StringIO(text, newline=""), dialect, delimiter=delimiter, doublequote=True)
    rows, numbers = [], []
    line = first
    max_cells = spec.thresholds()["max_cells"]
    cells = 0
    try:
        for record in reader:
            rows.append([cell[2:-1] if cell.startswith('="') and cell.endswith('"') else cell for cell in record])
            numbers.append(line)  # the line where the record starts, as an editor shows it
            line = reader.line_num + first
            cells += len(record)
            if cells > max_cells:
                raise InputFileError(
                    "too_large", f"CSV 文件超过 {max_cells:,} 个单元格的上限，请按乡镇拆分后再发送。")
    except csv.Error as exc:
        raise InputFileError(
            "unreadable", f"CSV 文件第 {line} 行格式有误（{exc}），请用 Excel 打开检查后另存为 .xlsx。") from exc
    return Sheet(path.stem, True, rows, numbers)
