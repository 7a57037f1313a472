"""Readable on paper (issue 16.7): no output workbook of a demo run has a font below 9 pt, nor text
that prints below 9 pt once its sheet is fitted to the page; numbers (IDs, phone numbers) never
wrap in their cells; the summary's print CSS sets nothing below 9 pt."""

from __future__ import annotations

import math
import re
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from pipeline.demo.demo import run_demo
from pipeline.reports import ledger
from pipeline.rules import spec
from pipeline.tools import charts, xlsx

AS_OF = date(2026, 11, 28)
DEFAULT_COLUMN_PX = 64  # Excel's 8.43 characters


@pytest.fixture(scope="module")
def outdir(tmp_path_factory) -> Path:
    return run_demo(tmp_path_factory.mktemp("demo"), AS_OF).outdir


def _workbooks(outdir: Path) -> list[Path]:
    return sorted(outdir.rglob("*.xlsx"))


def column_px(ws) -> dict[int, int]:
    """Column number → its width in pixels, from the sheet's <col min max width> ranges."""
    out = {}
    for dim in ws.column_dimensions.values():
        if dim.width and dim.customWidth:
            out.update({c: round(dim.width * 7) for c in range(dim.min, dim.max + 1)})
    return out


def printed_scale(ws) -> float:
    """The share of its size a sheet prints at: its scale, or what fitting to the page gives."""
    setup, margins = ws.page_setup, ws.page_margins
    if not (ws.sheet_properties.pageSetUpPr and ws.sheet_properties.pageSetUpPr.fitToPage):
        return (setup.scale or 100) / 100
    landscape = setup.orientation == "landscape"
    width_in = (xlsx.A4_INCHES[1] if landscape else xlsx.A4_INCHES[0]) - margins.left - margins.right
    height_in = (xlsx.A4_INCHES[0] if landscape else xlsx.A4_INCHES[1]) - margins.top - margins.bottom
    columns = sum(column_px(ws).get(c, DEFAULT_COLUMN_PX) for c in range(1, ws.max_column + 1))
    scale = min(1.0, math.floor(width_in * 96 * 100 / columns) / 100)
    if setup.fitToHeight in (None, 1):  # one page tall as well (1, the default, is not written)
        rows = sum(ws.row_dimensions[r].height or 15 for r in range(1, ws.max_row + 1))
        scale = min(scale, math.floor(height_in * 72 * 100 / rows) / 100)
    return scale


def test_no_font_in_any_output_workbook_is_below_9_pt(outdir: Path):
    books = _workbooks(outdir)
    assert {"全区汇总台账.xlsx", "走访缺口.xlsx", "超期催办.xlsx"} <= {p.name for p in books}
    assert any("退回意见" in p.name for p in books) and any(p.parent.parent.name == "乡镇" for p in books)
    for path in books:
        wb = openpyxl.load_workbook(path)
        # Every style; xlsxwriter adds Tahoma 8 for a workbook with comments, which do not print (their
        # own text is COMMENT_FONT_SIZE, in the comment's drawing).
        fonts = [f.sz for f in wb._fonts if f.sz and not (f.name == "Tahoma" and f.sz == 8 and f.color.indexed == 81)]
        assert min(fonts) >= xlsx.MIN_PRINTED_PT, path.name
        for ws in wb:
            scale = printed_scale(ws)
            smallest = min((c.font.sz for row in ws.iter_rows() for c in row if c.value is not None), default=11)
            assert smallest * scale >= xlsx.MIN_PRINTED_PT - 0.05, (path.name, ws.title, smallest, scale)


def test_numbers_never_wrap_in_the_ledger(outdir: Path):
    wb = openpyxl.load_workbook(outdir / "全区汇总台账.xlsx")
    ws = wb["全部"]
    headers = [c.value for c in ws[2]]
    for key in ("id_number", "phone"):
        col = headers.index(spec.form().column(key).header) + 1
        cells = [ws.cell(r, col) for r in range(3, ws.max_row + 1) if ws.cell(r, col).value]
        assert cells and not any(c.alignment.wrap_text for c in cells), key
        width_px = column_px(ws)[col]
        longest = max(len(str(c.value)) for c in cells)
        assert width_px >= longest * 7.4 + 4, key  # 宋体 11 pt digits are 7.33 px wide
    for col, header in enumerate(headers, 1):  # dates are date cells: Excel never wraps them
        if header in ("发现日期", "办理时间", "首次报送"):
            assert column_px(ws)[col] >= 10 * 7.4 + 4


def test_the_ledger_fits_a_page_wide_at_a_readable_scale():
    widths = [c.width for c in ledger.person_columns()]
    scale = xlsx.printed_scale(widths, margins=xlsx.NARROW_MARGINS)
    assert xlsx.FONT_SIZE * scale / 100 >= xlsx.MIN_PRINTED_PT


def test_the_summary_prints_nothing_below_9_pt():
    css = (spec.data_dir("templates") / "summary.css.j2").read_text(encoding="utf-8")
    printed = css[css.index("@media print"):]
    sizes = [float(v) for v in re.findall(r"font-size:\s*([\d.]+)pt", printed)]
    assert sizes and min(sizes) >= xlsx.MIN_PRINTED_PT
    # The charts are drawn WIDTH units wide and printed across the page (A4 less 13 mm margins).
    page_px = (210 - 26) / 25.4 * 96
    assert min(charts.SMALL, charts.FONT_SIZE) * page_px / charts.WIDTH * 0.75 >= xlsx.MIN_PRINTED_PT
    # Outside @media print, px sizes print as they are (1 px = 0.75 pt), except those print overrides.
    screen = css[:css.index("@media screen")]
    overridden = {".tag", "table.grid"}
    for selector, px in re.findall(r"([^{}\n]+)\{[^}]*?font-size:\s*([\d.]+)px", screen):
        if not any(o in selector for o in overridden):
            assert float(px) * 0.75 >= xlsx.MIN_PRINTED_PT, selector
