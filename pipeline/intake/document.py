"""The tables of a document (a Word file, a web page) as the sheets the reader locates the
form in: table N is the sheet 表格N, its rows numbered from 1 as a person counts them in that
table, header rows included, so that a problem is found as 表格2 第5行. The few lines of text
just above a table come first, unnumbered, so that its 填报单位 and 填报日期 are read as a
workbook's rows above the header are.
"""

from __future__ import annotations

from pipeline.errors import InputFileError
from pipeline.intake.read import Sheet
from pipeline.rules import spec

PREAMBLE_LINES = 3  # lines of text above a table read with it (填报单位：… 填报日期：…)
UNNUMBERED = 0      # the row number of those lines: never a person's row, nor a header's


def table_name(number: int) -> str:
    """The sheet name of a document's table N (from 1): 表格N."""
    return f"表格{number}"


def table_sheet(number: int, preamble: list[str], rows: list[list], merged: set[tuple[int, int]]) -> Sheet:
    """A document's table N as a sheet: `rows` as read (cells as text), `merged` the (row index,
    column) of cells that show a value merged down from above."""
    lines = [[line] for line in preamble[-PREAMBLE_LINES:] if line.strip()]
    shift = len(lines)
    return Sheet(table_name(number), True, lines + rows, [UNNUMBERED] * shift + list(range(1, len(rows) + 1)),
                 frozenset((row + shift, column) for row, column in merged))


class CellBudget:
    """Counts a document's cells against max_cells and its tables against max_document_tables."""

    def __init__(self) -> None:
        limits = spec.thresholds()
        self.cells, self.tables = 0, 0
        self.max_cells, self.max_tables = limits["max_cells"], limits["max_document_tables"]

    def add_cells(self, count: int) -> None:
        self.cells += count
        if self.cells > self.max_cells:
            raise InputFileError("too_large", (
                f"文件中的表格超过 {self.max_cells:,} 个单元格的上限，可能已损坏或是恶意构造的文件。"
                "请只保留明细表，另存为 .xlsx 后再发送。"))

    def add_table(self) -> None:
        self.tables += 1
        if self.tables > self.max_tables:
            raise InputFileError("too_large", (
                f"文件中有超过 {self.max_tables} 个表格，不像是明细表，可能已损坏或是恶意构造的文件。"
                "请只保留明细表，另存为 .xlsx 后再发送。"))


def fill_down(rows: list[list], starts: dict[tuple[int, int], int]) -> set[tuple[int, int]]:
    """Cells merged down one column (a Word vMerge, an HTML rowspan) hold their value in the
    top cell only: give it to each row below that the merge covers, as read.py does for a
    workbook. `starts` maps (top row index, column) to the last row index covered. A merge
    across columns is never given here: which column a value belongs to is not for us to guess."""
    filled = set()
    for (top, column), bottom in starts.items():
        value = rows[top][column] if column < len(rows[top]) else None
        if value is None or value == "":
            continue
        for index in range(top + 1, min(bottom, len(rows) - 1) + 1):
            row = rows[index]
            if column < len(row) and (row[column] is None or row[column] == ""):
                row[column] = value
                filled.add((index, column))
    return filled
