"""The tables of a Word document (.docx, and the .doc or .wps LibreOffice converts to one):
each is the sheet 表格N of intake/document.py, its rows numbered as a person counts them.
The document's text between tables is read only as the few lines above each table (its
填报单位 and 填报日期), so the notice's own wording around the form is never taken for rows.

Merged cells are read as a workbook's are: a cell merged down (vMerge) gives its value to
each row it covers; one spanning columns (gridSpan) stays in its first column. guard_xlsx
has vetted the package (zip directory, every member inflated against its declared size, no
DTD); word/document.xml is then streamed through defusedxml, DTDs forbidden, and its cells
counted against max_cells.
"""

from __future__ import annotations

import zipfile
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree as safe_xml
from defusedxml import DefusedXmlException

from pipeline.errors import InputFileError
from pipeline.intake.blob import Source, opened
from pipeline.intake.document import CellBudget, fill_down, table_sheet
from pipeline.intake.read import Sheet
from pipeline.intake.refusals import CORRUPT, TAMPERED

DOCUMENT_PART = "word/document.xml"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MAX_SPAN = 1000  # columns one cell may span (Word's own limit is 63)
VAL = f"{W}val"
CHUNK = 64 * 1024


def read_docx(path: Source) -> list[Sheet]:
    """The sheets 表格1, 表格2 … of a vetted .docx. Raises InputFileError (unreadable, too_large)."""
    try:
        with zipfile.ZipFile(opened(path)) as zf, zf.open(DOCUMENT_PART) as part:
            return _Reader().read(part)
    except InputFileError:
        raise
    except DefusedXmlException as exc:
        raise InputFileError("unreadable", TAMPERED) from exc
    except (ParseError, KeyError, zipfile.BadZipFile, OSError, EOFError) as exc:
        raise InputFileError("unreadable", f"Word 文档已损坏，无法读取其中的表格。{CORRUPT}") from exc


class _Table:
    def __init__(self, number: int, preamble: list[str]):
        self.number, self.preamble = number, preamble
        self.rows: list[list] = []
        self.row: list | None = None
        self.cell: list[str] | None = None
        self.span, self.merge, self.before = 1, None, 0  # this cell's gridSpan and vMerge; the row's gridBefore
        self.restarts: dict[int, tuple[int, int]] = {}  # column → (top row, gridSpan) of a vertical merge
        self.spans_down: dict[tuple[int, int], int] = {}

    def end_cell(self, budget: CellBudget) -> None:
        if self.row is None or self.cell is None:
            return
        row, here = self.row, len(self.rows)
        if not row and self.before:
            budget.add_cells(self.before)
            row.extend([""] * self.before)
        column = len(row)
        budget.add_cells(self.span)
        text = "\n".join(line.strip() for line in "".join(self.cell).strip("\n").split("\n"))
        row.append(text if self.merge in (None, "restart") else "")
        row.extend([""] * (self.span - 1))
        if self.merge == "restart":
            self.restarts[column] = (here, self.span)
        elif self.merge is not None and column in self.restarts:  # continues the merge from above
            top, span = self.restarts[column]
            if span == 1:
                self.spans_down[(top, column)] = here
        else:
            self.restarts.pop(column, None)
        self.cell, self.span, self.merge = None, 1, None

    def end_row(self, budget: CellBudget) -> None:
        self.end_cell(budget)
        if self.row is not None:
            self.rows.append(self.row)
        self.row, self.before = None, 0

    def sheet(self) -> Sheet:
        merged = fill_down(self.rows, self.spans_down)
        return table_sheet(self.number, self.preamble, self.rows, merged)


class _Reader:
    """The parser's target: told each element's start and end and the text between, it builds
    no tree (defusedxml's parser calls it directly). Tables may nest inside cells; each is a
    table of its own, and its text is not its outer cell's."""

    def __init__(self) -> None:
        self.budget = CellBudget()
        self.tables: list[_Table] = []
        self.open: list[_Table] = []
        self.lines: list[str] = []  # paragraphs outside tables since the last table
        self.paragraph: list[str] = []
        self.in_text = False  # inside a w:t, whose text is the document's

    def read(self, part) -> list[Sheet]:
        parser = safe_xml.DefusedXMLParser(target=self, forbid_dtd=True)
        while chunk := part.read(CHUNK):
            parser.feed(chunk)
        parser.close()
        return [table.sheet() for table in self.tables if table.rows]

    def _text(self) -> list[str]:
        table = self.open[-1] if self.open else None
        return self.paragraph if table is None or table.cell is None else table.cell

    def start(self, tag: str, attrib: dict) -> None:
        if not tag.startswith(W):
            return
        tag = tag[len(W):]
        table = self.open[-1] if self.open else None
        if tag == "t":
            self.in_text = True
        elif tag in ("tab", "ptab"):
            self._text().append("\t")
        elif tag in ("br", "cr"):
            self._text().append("\n")
        elif tag == "noBreakHyphen":
            self._text().append("-")
        elif tag == "tbl":
            self.budget.add_table()
            new = _Table(len(self.tables) + 1, [line for line in self.lines if line.strip()])
            self.tables.append(new)
            self.open.append(new)
            self.lines = []
        elif table is None:
            return
        elif tag == "tr":
            table.end_row(self.budget)
            table.row = []
        elif tag == "tc":
            table.end_cell(self.budget)
            if table.row is None:
                table.row = []
            table.cell = []
        elif tag == "gridSpan" and table.cell is not None:
            table.span = _number(attrib.get(VAL), 1, MAX_SPAN)
        elif tag == "vMerge" and table.cell is not None:
            table.merge = attrib.get(VAL) or "continue"
        elif tag == "gridBefore" and table.row is not None and table.cell is None:
            table.before = _number(attrib.get(VAL), 0, MAX_SPAN)

    def end(self, tag: str) -> None:
        if not tag.startswith(W):
            return
        tag = tag[len(W):]
        table = self.open[-1] if self.open else None
        if tag == "t":
            self.in_text = False
        elif tag == "p":
            if table is None:
                self.lines = self.lines[-8:] + ["".join(self.paragraph)]
                self.paragraph = []
            elif table.cell is not None:
                table.cell.append("\n")
        elif table is None:
            return
        elif tag == "tc":
            table.end_cell(self.budget)
        elif tag == "tr":
            table.end_row(self.budget)
        elif tag == "tbl":
            table.end_row(self.budget)
            self.open.pop()

    def data(self, text: str) -> None:
        if self.in_text:
            self._text().append(text)

    def close(self) -> None:
        return None


def _number(value: str | None, default: int, limit: int) -> int:
    try:
        return min(max(int(value), default), limit) if value is not None else default
    except ValueError:
        return default
