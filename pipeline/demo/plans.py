"""A synthetic submission's sheets as a person would lay them out, before any file format:
title, 填报单位 and 填报日期, the header in one of several styles, the rows with the clutter
real forms carry (full-width digits, dates in every spelling), footers; and where each
expected problem lies."""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pipeline.demo import synth_text as words
from pipeline.demo.people import short_form
from pipeline.rules import spec
from pipeline.rules import townships as district  # make_district takes a list called townships

HEADER_STYLES = ("official", "short", "messy")
MAIN_SHEET = "Sheet1"


@dataclass(frozen=True, order=True)
class Expected:
    """A row-level problem the validator must report: sheet, Excel row (CSV line), column key, code."""

    sheet: str
    row: int
    column_key: str
    code: str


@dataclass
class Submission:
    """A written file and what it holds.

    `rows` are the data rows in file order as values (before any messy presentation);
    `row_numbers[i]` is the Excel row (CSV line) of `rows[i]`; `expected` the problems the
    validator must report, nothing else. `sheet` is the name the reader gives the form
    sheet (for CSV the file stem).
    """

    path: Path
    township: str | None
    rows: list[Mapping]
    expected: list[Expected] = field(default_factory=list)
    sheet: str = MAIN_SHEET
    header_row: int = 1
    row_numbers: list[int] = field(default_factory=list)
    visits: list[dict] = field(default_factory=list)


@dataclass
class Plan:
    """A sheet as rows of cell values; `kinds[i]` says how row i is styled."""

    name: str
    rows: list[list] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    merges: list[tuple[int, int, int]] = field(default_factory=list)  # (row, first col, last col)
    widths: list[int] = field(default_factory=list)
    hidden: bool = False

    def add(self, kind: str, cells: list, width: int | None = None, merges=()) -> int:
        width = width or len(cells)
        self.rows.append(list(cells) + [None] * (width - len(cells)))
        self.kinds.append(kind)
        index = len(self.rows) - 1
        self.merges.extend((index, first, last) for first, last in merges)
        return index


def header_text(column: spec.Column, table: spec.Table, style: str = "official") -> str:
    """The header cell of a column: the official text, a short form (发现方式, 姓名, 办理结果)
    or a messy one (half-width brackets, a line break inside). Always one the reader matches.

    Example: header_text(spec.form().column("result"), spec.form(), "short") → "办理结果"
    """
    if style not in HEADER_STYLES:
        raise ValueError(f"headers must be one of {HEADER_STYLES}, not {style!r}")
    text = column.header
    if style == "short":
        text = re.sub(r"（[^（）]*）$", "", column.header) or column.header
        if text == column.header or "（" in text:
            tails = [v for v in column.variants
                     if 2 <= len(v) < len(text) and text.endswith(v) and table.match(v) == column.key]
            text = min(tails, key=len) if tails else text
    elif style == "messy":
        text = column.header.replace("（", "(").replace("）", ")")
        cut = text.find("(")
        cut = cut if cut > 0 else (len(text) // 2 if len(text) >= 4 else 0)
        text = text[:cut] + "\n" + text[cut:] if cut else text
    return text if table.match(text) == column.key else column.header


_FULL = str.maketrans("0123456789", "０１２３４５６７８９")


def _messy(key: str, value, rng: random.Random):
    """A valid but untidy spelling of a cell, as docs/design.md §1 says the reader must accept."""
    if value is None:
        return None
    if key == "name" and isinstance(value, str) and "·" not in value and len(value) >= 2 and rng.random() < 0.3:
        return value[0] + rng.choice((" ", "　")) + value[1:]
    if key == "township" and rng.random() < 0.5:
        town = next((t for t in district.listed() if t.name == value), None)
        if town is not None:
            choices = [district.district_name() + town.name, town.short, *town.former,
                       town.name + ("办事处" if town.type == "街道" else "人民政府")]
            return rng.choice(choices)
    if key == "method" and rng.random() < 0.3:
        return short_form(spec.vocabulary("methods"), value)
    if key == "id_number" and isinstance(value, str):
        roll = rng.random()
        if roll < 0.15:
            return value.translate(_FULL)
        if roll < 0.25:
            return f"{value[:6]} {value[6:14]} {value[14:]}"
        if roll < 0.35:
            return value.lower()
    if key in ("discovered", "visit_date") and isinstance(value, date) and rng.random() < 0.3:
        text = words.date_text(value, rng)
        return text.translate(_FULL) if rng.random() < 0.4 else text
    if key == "result" and isinstance(value, str) and rng.random() < 0.2:
        return value.translate(_FULL)
    if key == "seq" and isinstance(value, int) and rng.random() < 0.5:
        return str(value)
    if key == "phone" and isinstance(value, str) and value.isdigit() and rng.random() < 0.4:
        return int(value)
    if key == "suspected" and isinstance(value, str) and rng.random() < 0.2:
        return value + "等"
    return value


def _cell(key: str, value, rng: random.Random, *, dates_as: str, messy: bool, protected: bool):
    if messy and not protected:
        value = _messy(key, value, rng)
    if isinstance(value, date) and dates_as == "text":
        value = words.date_text(value, rng)
    if value == "":
        value = None
    return value


def form_plan(rows, table: spec.Table, columns: list[spec.Column], *, sheet: str, township: str | None,
               filled_date: date, title: bool, preamble: bool, footer: bool, headers: str,
               blank_rows: bool, dates_as: str, messy: bool, rng: random.Random,
               protected: frozenset) -> tuple[Plan, list[int], int]:
    """(plan, data row indexes, header row index) of the form sheet."""
    width = len(columns)
    plan = Plan(sheet, widths=[c.width for c in columns])
    if title:
        plan.add("title", [spec.form_title()], width, merges=[(0, width - 1)])
    if preamble:
        unit = words.UNIT_TEXT.format(district=district.district_name(), township=township or "")
        when = words.DATE_TEXT.format(date=f"{filled_date.year}年{filled_date.month}月{filled_date.day}日")
        at = max(width - 3, 2)
        plan.add("preamble", [unit] + [None] * (at - 1) + [when], width,
                 merges=[(0, min(3, at - 1)), (at, width - 1)])
    header_index = plan.add("header", [header_text(c, table, headers) for c in columns])
    if blank_rows and rng.random() < 0.5:
        plan.add("blank", [], width)
    data = []
    for index, row in enumerate(rows):
        cells = [_cell(c.key, row.get(c.key), rng, dates_as=dates_as, messy=messy,
                       protected=(index, c.key) in protected) for c in columns]
        if cells[0] is None and columns[0].key == "seq":
            cells[0] = index + 1
        data.append(plan.add("data", cells))
        if blank_rows and rng.random() < 0.06:
            plan.add("blank", [], width)
    if footer:
        if blank_rows:
            plan.add("blank", [], width)
        if rng.random() < 0.5:
            plan.add("footer", [words.TOTAL_TEXT.format(count=len(rows))], width)
        clerk, reviewer = (words.person_name(rng, rng.random() < 0.5) for _ in range(2))
        texts = [t.format(clerk=clerk, reviewer=reviewer, phone=f"023-79{rng.randint(300000, 999999)}")
                 for t in words.FOOTER_CELLS]
        cells = [None] * width
        for n, text in enumerate(texts):
            cells[min(n * width // len(texts), width - 1)] = text
        plan.add("footer", cells)
    return plan, data, header_index


def visits_plan(visits, *, headers: str, dates_as: str, messy: bool, rng: random.Random) -> Plan:
    table = spec.visits_table()
    plan = Plan(table.sheet, widths=[c.width for c in table.columns])
    plan.add("header", [header_text(c, table, headers) for c in table.columns])
    for visit in visits:
        plan.add("data", [_cell(c.key, visit.get(c.key), rng, dates_as=dates_as, messy=messy, protected=False)
                          for c in table.columns])
    return plan


def lookup_plans() -> list[Plan]:
    empty = Plan("Sheet2", widths=[8])
    lookup = Plan(words.LOOKUP_SHEET, widths=[14, 14, 12], hidden=True)
    lists = [spec.vocabulary("methods").values, spec.vocabulary("assistance_types").values,
             [t.name for t in district.listed()]]
    for i in range(max(map(len, lists))):
        lookup.add("data", [(values[i] if i < len(values) else None) for values in lists])
    return [empty, lookup]


