"""The baseline every benchmark here compares with: a bare python_calamine read of the same files."""

from __future__ import annotations

import time
from pathlib import Path

import python_calamine


def bare_read(paths: list[Path]) -> int:
    """What any reader must pay: open each workbook and pull every sheet into Python."""
    cells = 0
    for path in paths:
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        for name in book.sheet_names:
            cells += len(book.get_sheet_by_name(name).to_python())
    return cells


def best(fn, paths: list[Path], repeat: int) -> float:
    """The fastest of `repeat` calls of fn(paths), in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(paths)
        times.append(time.perf_counter() - start)
    return min(times)
