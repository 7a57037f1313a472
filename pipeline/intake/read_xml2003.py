"""Excel 2003 XML (SpreadsheetML), which business systems export under an .xls name: its
worksheets as sheets, every cell kept as the text it holds, rows numbered as Excel shows
them (ss:Index honoured). Parsed by defusedxml with DTDs forbidden, as the .xlsx parts are,
and streamed row by row. ss:MergeDown is read as a workbook's merged cells are.
"""

from __future__ import annotations

import bisect
import io
import re
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree as safe_xml
from defusedxml import DefusedXmlException

from pipeline.errors import InputFileError
from pipeline.intake import markup
from pipeline.intake.blob import Source
from pipeline.intake.document import CellBudget, fill_down
from pipeline.intake.read import Sheet
from pipeline.intake.refusals import CORRUPT, TAMPERED

SS = "{urn:schemas-microsoft-com:office:spreadsheet}"
EXCEL = "{urn:schemas-microsoft-com:office:excel}"
MAX_ROW, MAX_COLUMN = 1_048_576, 16_384  # Excel's own limits
_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_DATE_TIME = re.compile(r"(\d{4}-\d\d-\d\d)T00:00:00(?:\.0+)?")


def read_xml2003(path: Source) -> list[Sheet]:
    """The worksheets of an Excel 2003 XML file. Raises InputFileError (unreadable, too_large)."""
    text = markup.decode(path.read_bytes(), "xml2003")
    # Decoded here (expat knows no GB18030): the declaration that names the charset goes with it.
    data = io.BytesIO(_DECLARATION.sub("", text, count=1).encode("utf-8"))
    sheets: list[Sheet] = []
    budget = CellBudget()
    current: _Worksheet | None = None
    try:
        for event, element in safe_xml.iterparse(data, events=("start", "end"), forbid_dtd=True):
            tag = element.tag
            if event == "start":
                if tag == f"{SS}Worksheet":
                    current = _Worksheet(element.get(f"{SS}Name") or f"Sheet{len(sheets) + 1}")
                continue
            if current is None:
                continue
            if tag == f"{SS}Row":
                current.add_row(element, budget)
                element.clear()
            elif tag == f"{EXCEL}Visible" and (element.text or "").strip() in ("SheetHidden", "SheetVeryHidden"):
                current.visible = False
            elif tag == f"{SS}Worksheet":
                sheets.append(current.sheet())
                current = None
                element.clear()
    except DefusedXmlException as exc:
        raise InputFileError("unreadable", TAMPERED) from exc
    except ParseError as exc:
        raise InputFileError("unreadable", CORRUPT) from exc
    if not sheets:
        raise InputFileError("unreadable", f"Excel 2003 XML 文件中没有任何工作表。{CORRUPT}")
    return sheets


class _Worksheet:
    def __init__(self, name: str):
        self.name, self.visible = name, True
        self.rows: list[list] = []
        self.numbers: list[int] = []
        self.downs: list[tuple[int, int, int]] = []  # (top row number, column, last row number)
        self.covered: dict[int, set[int]] = {}  # row number → columns a merge from above holds

    def add_row(self, element, budget: CellBudget) -> None:
        number = _index(element.get(f"{SS}Index"), (self.numbers[-1] if self.numbers else 0) + 1, MAX_ROW)
        if self.numbers and number <= self.numbers[-1]:
            raise InputFileError("unreadable", CORRUPT)
        if self.numbers and number > self.numbers[-1] + 1:
            self.rows.append([])  # blank rows between: one stands for them all
            self.numbers.append(number - 1)
        row: list = []
        covered = self.covered.pop(number, set())
        for cell in element.iter(f"{SS}Cell"):
            column = len(row)
            while column in covered:
                column += 1
            column = _index(cell.get(f"{SS}Index"), column + 1, MAX_COLUMN) - 1
            if column < len(row):  # Excel writes each cell right of the one before
                raise InputFileError("unreadable", CORRUPT)
            across = _index(cell.get(f"{SS}MergeAcross"), 0, MAX_COLUMN)
            down = _index(cell.get(f"{SS}MergeDown"), 0, MAX_ROW)
            # The cells a merge covers count too, and those an ss:Index skips.
            budget.add_cells((1 + across) * (1 + down) + max(0, column - len(row)))
            row.extend([""] * (column - len(row)))
            row.append(_cell_text(cell))
            row.extend([""] * across)
            for below in range(number + 1, min(number + down, MAX_ROW) + 1):
                self.covered.setdefault(below, set()).update(range(column, column + across + 1))
            if down and not across:
                self.downs.append((number, column, number + down))
        self.rows.append(row)
        self.numbers.append(number)

    def sheet(self) -> Sheet:
        starts = {}
        for top, column, last in self.downs:
            index = bisect.bisect_left(self.numbers, top)
            starts[(index, column)] = bisect.bisect_right(self.numbers, last) - 1
        merged = fill_down(self.rows, starts)
        return Sheet(self.name, self.visible, self.rows, self.numbers, frozenset(merged))


def _index(value: str | None, default: int, limit: int) -> int:
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise InputFileError("unreadable", CORRUPT) from None
    if not 0 <= number <= limit:
        raise InputFileError("unreadable", CORRUPT)
    return number


def _cell_text(cell) -> str:
    """What the cell shows: its Data's text (rich text too), a date without its midnight."""
    data = cell.find(f"{SS}Data")
    if data is None:
        return ""
    text = "".join(data.itertext())
    if data.get(f"{SS}Type") == "DateTime" and (day := _DATE_TIME.fullmatch(text.strip())):
        return day[1]
    return text
