"""Synthetic submissions written as files: .xlsx (openpyxl-free, a zip written here, dated
as filled in), .xlsm, .xls (xlwt) and .csv in UTF-8 or GB18030; `write_submission` is the one
entry point."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Mapping
from datetime import date, datetime, time
from pathlib import Path

from pipeline.demo.people import AS_OF, rng_for
from pipeline.demo.plans import MAIN_SHEET, Plan, Submission, form_plan, lookup_plans, visits_plan
from pipeline.rules import spec
from pipeline.rules import townships as district  # make_district takes a list called townships

FORMATS = ("xlsx", "xlsm", "xls", "csv")
XLSM_MAIN = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"


def plan_cells(plan: Plan):
    """(row, col, last col of a merge or None, value, row kind) of each cell to write."""
    merged = {(r, first): last for r, first, last in plan.merges}
    for r, (cells, kind) in enumerate(zip(plan.rows, plan.kinds)):
        skip = -1
        for c, value in enumerate(cells):
            last = merged.get((r, c))
            if c <= skip or (last is None and value is None and kind not in ("data", "header")):
                continue  # covered by a merge, or empty outside the bordered table
            skip = last if last is not None else skip
            yield r, c, last, value, kind


def _write_xlsx(target, plans: list[Plan], created: datetime) -> None:
    import xlsxwriter

    options = {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False,
               "in_memory": True}
    with xlsxwriter.Workbook(target, options) as wb:
        wb.set_properties({"created": created, "author": "Administrator"})
        base = {"font_name": "宋体", "font_size": 10, "valign": "vcenter"}
        boxed = {**base, "border": 1, "text_wrap": True}
        formats = {
            "title": wb.add_format({**base, "font_size": 16, "bold": True, "align": "center"}),
            "preamble": wb.add_format(base),
            "header": wb.add_format({**boxed, "bold": True, "align": "center", "bg_color": "#F2F2F2"}),
            "data": wb.add_format(boxed),
            "footer": wb.add_format(base),
            "blank": wb.add_format(base),
        }
        date_format = wb.add_format({**boxed, "num_format": "yyyy-mm-dd"})
        for plan in plans:
            ws = wb.add_worksheet(plan.name)
            if plan.hidden:
                ws.hide()
            for col, width in enumerate(plan.widths):
                ws.set_column(col, col, width)
            for r, c, last, value, kind in plan_cells(plan):
                fmt = formats[kind]
                if last is not None:
                    ws.merge_range(r, c, r, last, value or "", fmt)
                elif value is None:
                    ws.write_blank(r, c, None, fmt)
                elif isinstance(value, str):
                    ws.write_string(r, c, value, fmt)
                elif isinstance(value, date):
                    ws.write_datetime(r, c, value, date_format)
                else:
                    ws.write_number(r, c, value, fmt)
            if "title" in plan.kinds:
                ws.set_row(plan.kinds.index("title"), 30)
            header = next((r for r, kind in enumerate(plan.kinds) if kind == "header"), None)
            if header is not None:
                ws.freeze_panes(header + 1, 0)


def _write_xlsm(path: Path, plans: list[Plan], created: datetime) -> None:
    """An .xlsm as Excel saves a macro-enabled workbook without macros.

    xlsxwriter switches the workbook content type to macroEnabled only when a
    vbaProject.bin is added; an .xlsm with no macros has that content type and no VBA
    part, so the content type is set here.
    """
    buffer = io.BytesIO()
    _write_xlsx(buffer, plans, created)
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "[Content_Types].xml":
                data = data.replace(XLSX_MAIN.encode(), XLSM_MAIN.encode())
            target.writestr(info, data)


def _write_xls(path: Path, plans: list[Plan]) -> None:
    import xlwt  # real BIFF8; xlwt is a test dependency, needed only for .xls

    wb = xlwt.Workbook(encoding="utf-8")
    font = "font: name 宋体, height 200;"
    box = "borders: left thin, right thin, top thin, bottom thin; align: vert center, wrap on;"
    styles = {
        "title": xlwt.easyxf("font: name 宋体, height 320, bold on; align: horiz center, vert center"),
        "preamble": xlwt.easyxf(font),
        "header": xlwt.easyxf(font.replace(";", ", bold on;") + box + "align: horiz center"),
        "data": xlwt.easyxf(font + box),
        "footer": xlwt.easyxf(font),
        "blank": xlwt.easyxf(font),
    }
    date_style = xlwt.easyxf(font + box, num_format_str="YYYY-MM-DD")
    for plan in plans:
        ws = wb.add_sheet(plan.name, cell_overwrite_ok=True)
        if plan.hidden:
            ws.visibility = 1
        for col, width in enumerate(plan.widths):
            ws.col(col).width = 256 * width
        for r, c, last, value, kind in plan_cells(plan):
            if last is not None:
                ws.write_merge(r, r, c, last, value or "", styles[kind])
            else:
                ws.write(r, c, value, date_style if isinstance(value, date) else styles[kind])
    wb.save(str(path))


def _csv_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


def _write_csv(path: Path, plan: Plan, encoding: str) -> list[int]:
    """Write one sheet as CSV; the line number where each row starts."""
    if encoding not in ("utf-8", "utf-8-sig", "gb18030"):
        raise ValueError(f"CSV encoding must be utf-8, utf-8-sig or gb18030, not {encoding!r}")
    lines, line = [], 1
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        for cells in plan.rows:
            texts = [_csv_text(v) for v in cells]
            writer.writerow(texts)
            lines.append(line)
            line += 1 + sum(t.count("\n") for t in texts)
    return lines


def save(path: Path, fmt: str, plans: list[Plan], *, created: datetime, encoding: str = "utf-8") -> list[int]:
    """Write the sheets in a format; the row (CSV line) where each row of the first sheet starts."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        return _write_csv(path, plans[0], encoding)
    if fmt == "xlsx":
        _write_xlsx(str(path), plans, created)
    elif fmt == "xlsm":
        _write_xlsm(path, plans, created)
    else:
        _write_xls(path, plans)
    return list(range(1, len(plans[0].rows) + 1))


def format_of(path: Path, fmt: str | None) -> str:
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, not {fmt!r} ({path.name})")
    return fmt


def write_submission(path: Path, rows: list[Mapping], *, township: str | None = None, fmt: str | None = None,
                     filled_date: date | None = None, title: bool | None = None, preamble: bool | None = None,
                     footer: bool | None = None, headers: str = "official", optional_columns: bool = True,
                     visits: list[dict] | None = None, encoding: str = "utf-8", blank_rows: bool = False,
                     extra_sheets: bool = False, dates_as: str = "date", messy: bool | None = None,
                     sheet_name: str = MAIN_SHEET, seed: int = 0,
                     _protected: frozenset = frozenset()) -> Submission:
    """Write rows (dicts or Persons keyed like spec.form()) as a township's submission.

    fmt comes from the suffix (xlsx, xlsm, xls, csv). Workbooks get, by default, the title
    merged across row 1, 填报单位/填报日期 in row 2, the header in row 3, data from row 4 and
    a footer (填表人/审核人/联系电话, sometimes 合计); CSV by default only the header (line 1)
    and data (from line 2). `headers`: official | short | messy. `messy` (default: on with
    messy headers) spells values untidily but validly (张 三, 黔江区城西街道, 城西, full-width
    digits, seq as text, phone as a number cell). `dates_as`: date cells, or "text" in mixed
    written forms. `visits` go on a 走访记录 sheet (header row 1). `extra_sheets` adds an
    empty sheet and a hidden lookup sheet. `seed` drives the presentation choices.

    Returns a Submission with the Excel row of every data row; `expected` is empty.
    Example: write_submission(tmp / "城西.csv", make_people("城西街道", 5)).row_numbers → [2, 3, 4, 5, 6]
    """
    path = Path(path)
    fmt = format_of(path, fmt)
    if dates_as not in ("date", "text"):
        raise ValueError(f"dates_as must be 'date' or 'text', not {dates_as!r}")
    if fmt == "csv" and visits:
        raise ValueError("a CSV file holds one table: write visits to a workbook")
    workbook = fmt != "csv"
    title = workbook if title is None else title
    preamble = workbook if preamble is None else preamble
    footer = workbook if footer is None else footer
    messy = headers == "messy" if messy is None else messy
    if township is None:
        towns = [district.canonical(str(r.get("township") or "")) for r in rows]
        towns = [t for t in towns if t]
        township = max(sorted(set(towns)), key=towns.count) if towns else None
    filled_date = filled_date or AS_OF
    rng = rng_for("write", seed, path.name)
    table = spec.form()
    columns = [c for c in table.columns if optional_columns or c.official]
    sheet = path.stem if fmt == "csv" else sheet_name
    plan, data, header = form_plan(
        rows, table, columns, sheet=sheet, township=township, filled_date=filled_date, title=title,
        preamble=preamble, footer=footer, headers=headers, blank_rows=blank_rows, dates_as=dates_as,
        messy=messy, rng=rng, protected=_protected)
    plans = [plan]
    if visits:
        plans.append(visits_plan(visits, headers=headers, dates_as=dates_as, messy=messy, rng=rng))
    if extra_sheets and workbook:
        plans.extend(lookup_plans())
    lines = save(path, fmt, plans, created=datetime.combine(filled_date, time(9, 0)), encoding=encoding)
    return Submission(path, township, list(rows), [], sheet, lines[header], [lines[i] for i in data],
                      list(visits or []))


