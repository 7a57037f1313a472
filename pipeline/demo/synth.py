"""Synthetic township submissions: fictitious people (Faker zh_CN) written as the forms
townships really send — valid, or with chosen errors whose place is known in advance.

Used by the tests, the benchmarks and `jiuzhu demo`. Columns, vocabularies and
townships come from pipeline/spec.py; free-text word lists from pipeline/synth_text.py.
Everything is deterministic: the same arguments and seed give the same rows and
byte-identical files (the xlsx creation time is pinned to the 填报日期).

The flow: make_people → (make_visits) → write_submission; make_submission adds errors
and returns where the validator must report them; make_district writes a whole inbox.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import random
import re
import zipfile
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path

from pipeline.rules import spec
from pipeline.rules import townships as district  # make_district takes a list called townships
from pipeline.demo import synth_text as words
from pipeline.rules.idcard import check_char
from pipeline.demo.synth_text import villages

__all__ = ["AS_OF", "ERROR_CODES", "Expected", "Person", "Submission", "make_district", "make_id",
           "make_people", "make_submission", "make_visits", "villages", "write_assistants",
           "write_submission", "write_zero_report"]

AS_OF = date(2026, 11, 28)
OUTCOMES = ("new_assisted", "observation", "closed", "pending")
DEFAULT_MIX = {"new_assisted": 0.35, "observation": 0.2, "closed": 0.15, "pending": 0.3}
ERROR_CODES = ("required", "invalid_value", "invalid_date", "invalid_id", "duplicate_row",
               "inconsistent_result")
FORMATS = ("xlsx", "xlsm", "xls", "csv")
HEADER_STYLES = ("official", "short", "messy")
XLSM_MAIN = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
MAIN_SHEET = "Sheet1"
IDENTITY_KEYS = ("name", "id_number", "township", "village")


# --- people -------------------------------------------------------------------------


@dataclass(eq=True)
class Person(MutableMapping):
    """One row of the form, keyed like spec.form() (`p["name"]` or `p.name`), plus the
    outcome it was made for. Empty cells are None; dates are `date` objects.

    Example: dict(make_people("城西街道", 1)[0])["township"] → "城西街道"
    """

    seq: int | str | None = None
    method: str | None = None
    finder: str | None = None
    township: str | None = None
    name: str | None = None
    household: str | None = None
    suspected: str | None = None
    investigation: str | None = None
    result: str | None = None
    remark: str | None = None
    id_number: str | float | None = None
    village: str | None = None
    discovered: date | str | None = None
    phone: str | int | None = None
    outcome: str = "pending"

    def __getitem__(self, key: str):
        if key not in _PERSON_KEYS:
            raise KeyError(key)
        return getattr(self, key)

    def __setitem__(self, key: str, value) -> None:
        if key not in _PERSON_KEYS:
            raise KeyError(key)
        setattr(self, key, value)

    def __delitem__(self, key: str) -> None:
        """Deleting a field empties the cell."""
        self[key] = None

    def __iter__(self) -> Iterator[str]:
        return iter(_PERSON_KEYS)

    def __len__(self) -> int:
        return len(_PERSON_KEYS)

    def copy(self) -> Person:
        return replace(self)


_PERSON_KEYS = tuple(f.name for f in fields(Person))


def _rng(*parts) -> random.Random:
    return random.Random(":".join(map(str, parts)))  # str seeds are hashed with SHA-512: stable


def district_code() -> str:
    return str(spec.load_yaml("townships.yaml")["district"]["code"])


def make_id(rng: random.Random, birth: date, *, male: bool | None = None, region: str | None = None) -> str:
    """A fictitious 18-character ID number (GB 11643) with a valid check character.

    Region defaults to the district (500114 黔江区); the 17th digit is odd for men.
    Example: make_id(random.Random(1), date(1980, 1, 1))[:14] → "50011419800101"
    """
    male = rng.random() < 0.5 if male is None else male
    order = rng.randint(0, 99) * 10 + rng.choice((1, 3, 5, 7, 9) if male else (0, 2, 4, 6, 8))
    order = order or 2  # 000 is never issued
    first17 = f"{region or district_code()}{birth:%Y%m%d}{order:03d}"
    return first17 + check_char(first17)


def _counts(n: int, mix: Mapping[str, float]) -> list[str]:
    """Exactly n outcomes in the shares of `mix` (largest remainder)."""
    unknown = set(mix) - set(OUTCOMES)
    if unknown:
        raise ValueError(f"unknown outcomes in mix: {sorted(unknown)}")
    total = sum(mix.values()) or 1.0
    exact = {k: n * v / total for k, v in mix.items()}
    counts = {k: int(v) for k, v in exact.items()}
    short = n - sum(counts.values())
    for k in sorted(exact, key=lambda k: (counts[k] - exact[k], OUTCOMES.index(k)))[:short]:
        counts[k] += 1
    return [k for k in OUTCOMES for _ in range(counts.get(k, 0))]


def _weighted(rng: random.Random, values, weights):
    weights = list(weights)[: len(values)] + [0.05] * (len(values) - len(weights))
    return rng.choices(values, weights=weights)[0]


def _short_form(vocab: spec.Vocabulary, value: str) -> str:
    """The first short form listed for a value in vocabularies.yaml (低保 for 城乡低保)."""
    for spelling, canonical in vocab.forms.items():
        if canonical == value and spelling != spec.fold(value):
            return spelling
    return value


def _suspected(rng: random.Random) -> list[str]:
    values = spec.vocabulary("assistance_types").values
    k = rng.choices((1, 2, 3), weights=(60, 30, 10))[0]
    chosen: list[str] = []
    while len(chosen) < min(k, len(values)):
        value = _weighted(rng, values, (35, 8, 25, 15, 6, 5, 4, 2))
        if value not in chosen:
            chosen.append(value)
    return chosen


def _people(township: str, n: int, *, seed: int, as_of: date, mix: Mapping[str, float] | None,
            with_ids: bool, taken_ids: set[str]) -> list[Person]:
    if district.canonical(township) != township:
        raise ValueError(f"not a township of the district: {township!r}")
    rng = _rng("people", seed, township)
    outcomes = _counts(n, mix or DEFAULT_MIX)
    rng.shuffle(outcomes)
    methods = spec.vocabulary("methods").values
    types_vocab = spec.vocabulary("assistance_types")
    places = villages(township)
    names: set[str] = set()
    people = []
    for seq, outcome in enumerate(outcomes, start=1):
        male = rng.random() < 0.5
        name = words.person_name(rng, male, minority_share=0.01)
        while name in names:  # unique per township: without an ID, identity is the name
            name = words.person_name(rng, male, minority_share=0.01)
        names.add(name)
        age = int(rng.triangular(18, 92, 68))
        birth = date(as_of.year - age, 1, 1) + timedelta(days=rng.randint(0, 364))
        id_number = None
        if with_ids:
            id_number = make_id(rng, birth, male=male)
            while id_number in taken_ids:
                id_number = make_id(rng, birth, male=male)
            taken_ids.add(id_number)
        discovered = as_of - timedelta(days=int(rng.triangular(0, 75, 10)))
        method = _weighted(rng, methods, (55, 20, 25))
        finder = words.finder(rng, method)
        types = _suspected(rng)
        shown = [_short_form(types_vocab, t) if rng.random() < 0.15 else t for t in types]
        investigation = rng.choice(words.INVESTIGATION[outcome])
        if outcome == "pending" and rng.random() < 0.6:
            investigation = None
        result, remark = words.result(rng, outcome, types, discovered, as_of)
        people.append(Person(
            seq=seq, method=method, finder=finder, township=township, name=name,
            household=words.household(rng, male=male, age=age),
            suspected=("、" if rng.random() < 0.85 else "，").join(shown),
            investigation=investigation, result=result, remark=remark, id_number=id_number,
            village=rng.choice(places), discovered=discovered,
            phone=words.mobile(rng) if rng.random() < 0.85 else None, outcome=outcome))
    return people


def make_people(township: str, n: int, *, seed: int = 0, as_of: date = AS_OF,
                mix: Mapping[str, float] | None = None, with_ids: bool = True) -> list[Person]:
    """n fictitious people of one township, each a valid row of the form.

    `mix` gives the share of each outcome (new_assisted, observation, closed, pending);
    the counts are exact. Names are unique in the township and IDs unique overall.
    Example: [p.outcome for p in make_people("城西街道", 3, mix={"pending": 1})] → ["pending"] * 3
    """
    return _people(township, n, seed=seed, as_of=as_of, mix=mix, with_ids=with_ids, taken_ids=set())


def make_visits(people: list[Mapping], as_of: date = AS_OF, *, seed: int = 0,
                seen_share: float = 0.8) -> list[dict]:
    """走访记录 rows for the key population (pending and observation) of `people`.

    About 85% of them are visited in as_of's month, a share `seen_share` of those seen in
    person; some also have a visit in the month before. Keys: spec.visits_table().keys.
    Example: {v["seen"] for v in make_visits(make_people("城西街道", 50), date(2026, 11, 28))} → {"是", "否"}
    """
    rng = _rng("visits", seed)
    yes, no = spec.vocabulary("seen").values[:2]
    month_start = as_of.replace(day=1)
    previous_start = (month_start - timedelta(days=1)).replace(day=1)
    visits = []
    for index, person in enumerate(people):
        if person.get("outcome", "pending") not in ("pending", "observation"):
            continue
        found = person.get("discovered")
        found = found if isinstance(found, date) else month_start
        visitor = rng.choice(words.VISITORS).format(name=words.person_name(rng, rng.random() < 0.5))

        def visit(day: date, seen: bool) -> dict:
            return {"name": person.get("name"), "id_number": person.get("id_number"),
                    "township": person.get("township"), "village": person.get("village"),
                    "visit_date": day, "visitor": visitor, "seen": yes if seen else no,
                    "notes": rng.choice(words.VISIT_SEEN if seen else words.VISIT_NOT_SEEN)}

        if found < month_start and rng.random() < 0.3:
            start = max(found, previous_start)
            day = start + timedelta(days=rng.randint(0, (month_start - start).days - 1))
            visits.append((index, visit(day, True)))
        if rng.random() < 0.85:
            start = max(found, month_start)
            day = start + timedelta(days=rng.randint(0, max((as_of - start).days, 0)))
            visits.append((index, visit(min(day, as_of), rng.random() < seen_share)))
    visits.sort(key=lambda pair: (pair[1]["visit_date"], pair[0]))
    keys = spec.visits_table().keys
    return [{key: v.get(key) for key in keys} for _, v in visits]


# --- the written sheet --------------------------------------------------------------


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
class _Plan:
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
    """A valid but untidy spelling of a cell, as DESIGN §1 says the reader must accept."""
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
        return _short_form(spec.vocabulary("methods"), value)
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


def _form_plan(rows, table: spec.Table, columns: list[spec.Column], *, sheet: str, township: str | None,
               filled_date: date, title: bool, preamble: bool, footer: bool, headers: str,
               blank_rows: bool, dates_as: str, messy: bool, rng: random.Random,
               protected: frozenset) -> tuple[_Plan, list[int], int]:
    """(plan, data row indexes, header row index) of the form sheet."""
    width = len(columns)
    plan = _Plan(sheet, widths=[c.width for c in columns])
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


def _visits_plan(visits, *, headers: str, dates_as: str, messy: bool, rng: random.Random) -> _Plan:
    table = spec.visits_table()
    plan = _Plan(table.sheet, widths=[c.width for c in table.columns])
    plan.add("header", [header_text(c, table, headers) for c in table.columns])
    for visit in visits:
        plan.add("data", [_cell(c.key, visit.get(c.key), rng, dates_as=dates_as, messy=messy, protected=False)
                          for c in table.columns])
    return plan


def _lookup_plans() -> list[_Plan]:
    empty = _Plan("Sheet2", widths=[8])
    lookup = _Plan(words.LOOKUP_SHEET, widths=[14, 14, 12], hidden=True)
    lists = [spec.vocabulary("methods").values, spec.vocabulary("assistance_types").values,
             [t.name for t in district.listed()]]
    for i in range(max(map(len, lists))):
        lookup.add("data", [(values[i] if i < len(values) else None) for values in lists])
    return [empty, lookup]


# --- file formats -------------------------------------------------------------------


def _cells(plan: _Plan):
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


def _write_xlsx(target, plans: list[_Plan], created: datetime) -> None:
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
            for r, c, last, value, kind in _cells(plan):
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


def _write_xlsm(path: Path, plans: list[_Plan], created: datetime) -> None:
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


def _write_xls(path: Path, plans: list[_Plan]) -> None:
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
        for r, c, last, value, kind in _cells(plan):
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


def _write_csv(path: Path, plan: _Plan, encoding: str) -> list[int]:
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


def _save(path: Path, fmt: str, plans: list[_Plan], *, created: datetime, encoding: str = "utf-8") -> list[int]:
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


def _fmt(path: Path, fmt: str | None) -> str:
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
    fmt = _fmt(path, fmt)
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
    rng = _rng("write", seed, path.name)
    table = spec.form()
    columns = [c for c in table.columns if optional_columns or c.official]
    sheet = path.stem if fmt == "csv" else sheet_name
    plan, data, header = _form_plan(
        rows, table, columns, sheet=sheet, township=township, filled_date=filled_date, title=title,
        preamble=preamble, footer=footer, headers=headers, blank_rows=blank_rows, dates_as=dates_as,
        messy=messy, rng=rng, protected=_protected)
    plans = [plan]
    if visits:
        plans.append(_visits_plan(visits, headers=headers, dates_as=dates_as, messy=messy, rng=rng))
    if extra_sheets and workbook:
        plans.extend(_lookup_plans())
    lines = _save(path, fmt, plans, created=datetime.combine(filled_date, time(9, 0)), encoding=encoding)
    return Submission(path, township, list(rows), [], sheet, lines[header], [lines[i] for i in data],
                      list(visits or []))


# --- injected errors ----------------------------------------------------------------


def _invalid(values, valid) -> list[str]:
    return [v for v in values if not valid(v)]


def _inject(people: list[Person], errors: Mapping[str, int], rng: random.Random, *, as_of: date,
            optional_columns: bool) -> tuple[list[tuple[int, str, str]], set[tuple[int, str]]]:
    """Put each requested error on its own row; ([(row index, column key, code)], protected cells)."""
    unknown = set(errors) - set(ERROR_CODES)
    if unknown:
        raise ValueError(f"unknown error codes: {sorted(unknown)}; use {ERROR_CODES}")
    total = sum(errors.values())
    if total > len(people) - 1:
        raise ValueError(f"{total} errors need at least {total + 1} rows, not {len(people)}")
    if not optional_columns and errors.get("invalid_id"):
        raise ValueError("invalid_id needs the 身份证号码 column (optional_columns=True)")
    targets = rng.sample(range(1, len(people)), total)
    untouched = sorted(set(range(len(people))) - set(targets))
    methods, types = spec.vocabulary("methods"), spec.vocabulary("assistance_types")
    bad = {
        "method": _invalid(words.BAD_METHODS, methods.canonical),
        "suspected": _invalid(words.BAD_TYPES, types.canonical),
        "township": _invalid(words.BAD_TOWNSHIPS, district.canonical),
    }
    programme = types.values[0]
    out: list[tuple[int, str, str]] = []
    protected: set[tuple[int, str]] = set()
    order = iter(targets)
    for code in ERROR_CODES:
        for n in range(errors.get(code, 0)):
            i = next(order)
            p = people[i]
            if code == "required":
                key = ("name", "method")[n % 2]
                p[key] = None
            elif code == "invalid_value":
                key = ("method", "suspected", "township")[n % 3]
                p[key] = rng.choice(bad[key])
            elif code == "invalid_date" and optional_columns:
                key = "discovered"
                p[key] = words.BAD_DATES[n % len(words.BAD_DATES)]
            elif code == "invalid_date":
                key = "result"
                p.result, p.outcome = f"纳入{programme}，2022.13.45", "new_assisted"
                p.investigation = p.investigation or words.INVESTIGATION["new_assisted"][0]
            elif code == "invalid_id":
                key = "id_number"
                number = p.id_number if isinstance(p.id_number, str) else make_id(rng, date(1970, 1, 1))
                if n % 2:
                    p[key] = float(number[:17] + "0")  # what Excel does to a long number
                else:
                    p[key] = number[:17] + next(c for c in "0123456789X" if c != number[17])
            elif code == "duplicate_row":
                key = "name"
                earlier = [j for j in untouched if j < i]
                j = rng.choice(earlier)
                source = people[j]
                if n % 2 or not isinstance(source.id_number, str):
                    source.id_number = None  # same township + village + name, no ID on either
                people[i] = p = source.copy()
                protected.update((row, k) for row in (i, j) for k in IDENTITY_KEYS)
            else:  # inconsistent_result
                key = "result"
                p.outcome = "new_assisted"
                p.investigation = p.investigation or words.INVESTIGATION["new_assisted"][0]
                variant = n % 3
                if variant == 0:
                    p.result = f"纳入{programme}"
                elif variant == 1:
                    later = as_of + timedelta(days=rng.randint(3, 40))
                    p.result = f"纳入{programme}，{later.year}年{later.month}月{later.day}日"
                else:
                    p.result = f"纳入{programme}，{as_of.year}年{as_of.month}月{as_of.day}日"
                    p.investigation = None
                protected.add((i, "investigation"))
            out.append((i, key, code))
            protected.add((i, key))
    for seq, p in enumerate(people, start=1):
        p.seq = seq
    return out, protected


def _make_submission(path: Path, township: str, n: int, *, seed: int, as_of: date,
                     errors: Mapping[str, int] | None, mix, with_ids: bool, with_visits: bool,
                     taken_ids: set[str], write_options: dict) -> Submission:
    people = _people(township, n, seed=seed, as_of=as_of, mix=mix, with_ids=with_ids, taken_ids=taken_ids)
    rng = _rng("errors", seed, township)
    injected, protected = _inject(people, errors or {}, rng, as_of=as_of,
                                  optional_columns=write_options.get("optional_columns", True))
    wrong = {i for i, _, _ in injected}  # visits only for people whose rows are right
    visits = make_visits([p for i, p in enumerate(people) if i not in wrong], as_of, seed=seed) \
        if with_visits else None
    write_options.setdefault("filled_date", as_of - timedelta(days=rng.randint(0, 2)))
    write_options.setdefault("seed", seed)
    if visits is not None:
        write_options.setdefault("visits", visits)
    sub = write_submission(path, people, township=township, _protected=frozenset(protected), **write_options)
    sub.expected = sorted(Expected(sub.sheet, sub.row_numbers[i], key, code) for i, key, code in injected)
    return sub


def make_submission(path: Path, township: str, n: int, *, seed: int = 0, as_of: date = AS_OF,
                    errors: Mapping[str, int] | None = None, mix: Mapping[str, float] | None = None,
                    with_ids: bool = True, with_visits: bool = False, **write_options) -> Submission:
    """n people of a township written to `path`, with `errors` {code: how many rows} injected.

    Each error is on its own row: required (blank 对象姓名 or 发现方式), invalid_value (a
    method, type or township not in the vocabulary), invalid_date (发现日期 2022.13.45 or
    去年冬天; in 办理结果 without the optional columns), invalid_id (a wrong check digit, or
    the float Excel makes of a long number), duplicate_row (a later row about the same
    person, by ID or by township + village + name; reported on the later row's 对象姓名),
    inconsistent_result (纳入 without a date, a date after as_of, or no 调查情况).
    `Submission.expected` lists exactly what the validator must report. `with_visits` adds
    a 走访记录 sheet; the other options go to write_submission.
    Example: make_submission(tmp / "城西.xlsx", "城西街道", 20, errors={"invalid_id": 2}).expected[0].row
    """
    return _make_submission(path, township, n, seed=seed, as_of=as_of, errors=errors, mix=mix,
                            with_ids=with_ids, with_visits=with_visits, taken_ids=set(),
                            write_options=dict(write_options))


def make_district(inbox: Path, *, rows_per_township: int = 300, seed: int = 0, as_of: date = AS_OF,
                  townships: list[str] | None = None, errors: Mapping[str, Mapping[str, int]] | None = None,
                  fmt: str = "xlsx") -> list[Submission]:
    """One submission per township in `inbox`, as a week's e-mail brings them.

    File names vary the way townships name them (城西街道_20261128.xlsx, 城西1128.xlsx,
    黔江区城西街道社会救助主动发现明细表.xlsx, …); layouts vary too (header styles, blank
    rows, extra sheets, messy values, date text). Workbooks carry a 走访记录 sheet. fmt:
    xlsx, xlsm, xls, csv, or "mixed" for a realistic mixture (without .xls when xlwt, a
    test dependency, is not installed). IDs are unique district-wide.
    Example: make_district(Path("inbox"), rows_per_township=50, townships=["城西街道", "石会镇"])
    """
    inbox = Path(inbox)
    inbox.mkdir(parents=True, exist_ok=True)
    names = townships or [t.name for t in district.listed()]
    errors = errors or {}
    unknown = set(errors) - set(names)
    if unknown:
        raise ValueError(f"errors given for townships not written: {sorted(unknown)}")
    taken: set[str] = set()
    used: set[str] = set()
    out = []
    towns = {t.name: t for t in district.listed()}
    mixture = dict(zip(FORMATS, (60, 10, 15, 15)))
    if fmt == "mixed" and importlib.util.find_spec("xlwt") is None:
        mixture["xlsx"] += mixture.pop("xls")
    if set(names) - set(towns):
        raise ValueError(f"not townships of the district: {sorted(set(names) - set(towns))}")
    for township in names:
        town = towns[township]
        rng = _rng("district", seed, township)
        kind = fmt if fmt != "mixed" else rng.choices(list(mixture), weights=list(mixture.values()))[0]
        filled = as_of - timedelta(days=rng.randint(0, 3))
        pattern = rng.choice(words.FILE_NAMES)
        filename = pattern.format(township=township, short=town.short, district=district.district_name(),
                                  compact=f"{as_of:%Y%m%d}", mmdd=f"{as_of:%m%d}", month=as_of.month,
                                  ext=kind)
        if filename in used:
            filename = f"{township}_{as_of:%Y%m%d}.{kind}"
        used.add(filename)
        headers = rng.choices(HEADER_STYLES, weights=(60, 25, 15))[0]
        options = dict(fmt=kind, filled_date=filled, headers=headers, blank_rows=rng.random() < 0.3,
                       extra_sheets=rng.random() < 0.2, dates_as="text" if rng.random() < 0.3 else "date",
                       messy=headers == "messy" or rng.random() < 0.3)
        if kind == "csv":
            options["encoding"] = rng.choice(("utf-8", "utf-8-sig", "gb18030"))
        out.append(_make_submission(
            inbox / filename, township, rows_per_township, seed=seed, as_of=as_of,
            errors=errors.get(township), mix=None, with_ids=True, with_visits=kind != "csv",
            taken_ids=taken, write_options=options))
    return out


def write_zero_report(path: Path, township: str, *, filled_date: date = AS_OF, **write_options) -> Submission:
    """A township's 零报告: the form with its header, no data rows; 填报单位 names the township.

    Example: write_zero_report(tmp / "石会镇1128.xlsx", "石会镇", filled_date=date(2026, 11, 27)).rows → []
    """
    return write_submission(path, [], township=township, filled_date=filled_date, **write_options)


def write_assistants(path: Path, township: str, villages: list[str] | None = None, *, seed: int = 0,
                     missing: int = 0) -> Path:
    """The township's 社会救助协理员名册: one assistant per village, header in row 1.

    `villages` defaults to synth_text.villages(township); the last `missing` of them are
    left out (no assistant), so a caller knows which.
    Example: write_assistants(tmp / "城西协理员.xlsx", "城西街道", missing=1)
    """
    path = Path(path)
    fmt = _fmt(path, None)
    table = spec.assistants_table()
    places = list(villages if villages is not None else words.villages(township))
    kept = places[: len(places) - missing] if missing else places
    rng = _rng("assistants", seed, township)
    plan = _Plan(table.sheet, widths=[c.width for c in table.columns])
    plan.add("header", [c.header for c in table.columns])
    for village in kept:
        row = {"township": township, "village": village, "phone": words.mobile(rng),
               "assistant": words.person_name(rng, rng.random() < 0.5)}
        plan.add("data", [row.get(c.key) for c in table.columns])
    _save(path, fmt, [plan], created=datetime.combine(AS_OF, time(9, 0)))
    return path
