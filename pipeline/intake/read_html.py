"""The tables of a web page (an "xls" a business system exported as HTML), every cell kept as
the text it shows. Table N of the page (in the order its <table> tags open, nested ones
included) is the sheet 表格N (intake/document.py). rowspan and colspan are read as a
workbook's merged cells are: a value spanning rows down one column is given to each row it
covers; one spanning columns stays in its first column.

The standard library's html.parser reads the page: it never fetches anything, never runs a
script, and keeps no stack of its own, so 100,000 nested tags cost only their time; the
only stack here is of open tables, bounded with the cells by CellBudget.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from pipeline.intake import markup
from pipeline.intake.blob import Source
from pipeline.intake.document import CellBudget, fill_down, table_sheet
from pipeline.intake.read import Sheet

# HTML caps spans at these (the living standard's limits): a larger one is a larger one's mistake.
MAX_COLSPAN, MAX_ROWSPAN = 1000, 65534
_BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "caption"})
_UNSEEN = frozenset({"script", "style", "head", "title", "template", "noscript"})
_SPACES = re.compile(r"[ \t\r\n\f]+")


def read_html(path: Source) -> list[Sheet]:
    """The sheets 表格1, 表格2 … of a web page. Raises InputFileError (unreadable, too_large)."""
    parser = _Tables()
    parser.feed(markup.decode(path.read_bytes(), "html"))
    parser.close()
    return [table.sheet() for table in parser.done if table.rows]


class _Table:
    def __init__(self, number: int, preamble: list[str], budget: CellBudget):
        self.number, self.preamble, self.budget = number, preamble, budget
        self.rows: list[list] = []
        self.spans_down: dict[tuple[int, int], int] = {}  # (top row, column) → last row covered
        self.covered: dict[int, int] = {}  # column → the last row a rowspan from above covers
        self.row: list | None = None
        self.cell: list[str] | None = None
        self.cell_span = (1, 1)

    def start_row(self) -> None:
        self.end_row()
        self.row = []

    def end_row(self) -> None:
        self.end_cell()
        if self.row is not None:
            self.rows.append(self.row)
            self.row = None

    def start_cell(self, colspan: int, rowspan: int) -> None:
        self.end_cell()
        if self.row is None:
            self.start_row()
        self.cell, self.cell_span = [], (colspan, rowspan)

    def end_cell(self) -> None:
        if self.cell is None or self.row is None:
            return
        colspan, rowspan = self.cell_span
        row, top = self.row, len(self.rows)
        column = len(row)
        while self.covered.get(column, -1) >= top:  # columns a rowspan from above still holds
            column += 1
        self.budget.add_cells(column - len(row) + colspan)  # every cell a row is given counts
        row.extend([""] * (column - len(row)))
        row.append(_text(self.cell))
        row.extend([""] * (colspan - 1))
        if rowspan > 1:
            for c in range(column, column + colspan):
                self.covered[c] = top + rowspan - 1
            if colspan == 1:
                self.spans_down[(top, column)] = top + rowspan - 1
        self.cell = None

    def sheet(self) -> Sheet:
        self.end_row()
        merged = fill_down(self.rows, self.spans_down)
        return table_sheet(self.number, self.preamble, self.rows, merged)


class _Tables(HTMLParser):
    """Collects every table of the page, and the lines of text outside them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.done: list[_Table] = []
        self.open: list[_Table] = []
        self.lines: list[str] = [""]  # text outside tables, by line: the preamble of the next table
        self.unseen = 0  # depth inside <script>, <style> …: text not shown
        self.budget = CellBudget()

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in _UNSEEN:
            self.unseen += 1
            return
        table = self.open[-1] if self.open else None
        if tag == "table":
            self.budget.add_table()
            new = _Table(len(self.done) + 1, [line.strip() for line in self.lines if line.strip()], self.budget)
            self.done.append(new)
            self.open.append(new)
            self.lines = [""]
        elif table is not None and tag == "tr":
            table.start_row()
        elif table is not None and tag in ("td", "th"):
            values = dict(attrs)
            table.start_cell(_span(values.get("colspan"), MAX_COLSPAN), _span(values.get("rowspan"), MAX_ROWSPAN))
        elif tag in _BLOCKS:
            self._newline()

    def handle_startendtag(self, tag: str, attrs) -> None:
        if tag == "br":
            self._newline()
        elif tag not in _UNSEEN:
            self.handle_starttag(tag, attrs)
            if tag in ("td", "th", "tr", "table"):
                self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _UNSEEN:
            self.unseen = max(0, self.unseen - 1)
            return
        table = self.open[-1] if self.open else None
        if tag == "table" and table is not None:
            table.end_row()
            self.open.pop()
        elif table is not None and tag == "tr":
            table.end_row()
        elif table is not None and tag in ("td", "th"):
            table.end_cell()
        elif tag in _BLOCKS:
            self._newline()

    def handle_data(self, data: str) -> None:
        if self.unseen:
            return
        table = self.open[-1] if self.open else None
        if table is None:
            self.lines[-1] += data
        elif table.cell is not None:
            table.cell.append(data)

    def _newline(self) -> None:
        table = self.open[-1] if self.open else None
        if table is None:
            self.lines = self.lines[-8:] + [""]
        elif table.cell is not None:
            table.cell.append("\n")


def _span(value: str | None, limit: int) -> int:
    """A colspan or rowspan attribute as the browser reads it: 1 unless a positive number."""
    digits = re.match(r"\s*(\d{1,6})", value or "")
    return min(max(int(digits[1]), 1), limit) if digits else 1


def _text(parts: list[str]) -> str:
    """A cell's text as a browser shows it: runs of spaces one space, <br> and blocks line breaks."""
    lines = (_SPACES.sub(" ", line).strip() for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line)
