"""Normalise the cells of a located table into comparable text, column by column.

Every value becomes a str or None. A value that cannot be normalised is kept as written,
so that validation can name it in its message: a date stays "2022.13.45", a township
stays "城北街道". Work is done once per distinct value, since columns repeat a lot.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pandas as pd

from pipeline import classify, spec
from pipeline.tables import Located, cell_text

_FULLWIDTH = str.maketrans({**{chr(0xFF10 + i): str(i) for i in range(10)},
                            "\u3000": " ", "\xa0": " ", "\u2002": " ", "\u2003": " "})
_NEEDS_FOLDING = re.compile("[\uff10-\uff19\u3000\xa0\u2002\u2003]")
_DOTS = re.compile(r"[•‧∙・．.·]")
_SPACES = re.compile(r"[ \t]+")


def clean_text(value) -> str | None:
    """Full-width digits and spaces made plain, runs of spaces collapsed, ends trimmed."""
    text = value if value.__class__ is str else cell_text(value)
    if _NEEDS_FOLDING.search(text):
        text = text.translate(_FULLWIDTH)
    if "  " in text or "\t" in text:
        text = _SPACES.sub(" ", text)
    return text.strip() or None


def clean_name(value) -> str | None:
    """张 三 → 张三; the separator of minority names in any of its look-alikes → ·."""
    text = clean_text(value)
    if text is None:
        return None
    return _DOTS.sub("·", re.sub(r"\s+", "", text))


def clean_township(value) -> str | None:
    text = clean_text(value)
    return None if text is None else (spec.canonical_township(text) or text)


def _clean_vocab(name: str) -> Callable:
    vocab = spec.vocabulary(name)

    def clean(value) -> str | None:
        text = clean_text(value)
        return None if text is None else (vocab.canonical(text) or text)

    return clean


def split_types(text: str) -> list[str]:
    """城乡低保、临时救助等 → ["城乡低保", "临时救助"]; unknown parts are kept as written."""
    separators = spec.type_separators()
    parts = [p for p in re.split(f"[{separators}]+", text) if p]
    vocab = spec.vocabulary("assistance_types")
    out: list[str] = []
    for part in parts:
        canonical = vocab.canonical(part)
        if canonical is None:
            for filler in spec.type_fillers():
                if part.endswith(filler) and vocab.canonical(part[: -len(filler)]):
                    canonical = vocab.canonical(part[: -len(filler)])
                    break
        if canonical is None and part in spec.type_fillers():
            continue
        value = canonical or part
        if value not in out:
            out.append(value)
    return out


def clean_types(value) -> str | None:
    text = clean_text(value)
    return None if text is None else "、".join(split_types(text)) or None


def clean_date(value) -> str | None:
    """A date as YYYY-MM-DD, or the text as written when it is not a date."""
    text = clean_text(value)
    if text is None:
        return None
    parsed = classify.parse_date(value)
    return parsed.isoformat() if parsed else text


def clean_id(value) -> str | None:
    """Spaces removed, x made X; a number cell keeps its float spelling so that it fails."""
    text = clean_text(value)
    return None if text is None else re.sub(r"\s+", "", text).upper()


def clean_phone(value) -> str | None:
    text = clean_text(value)
    return None if text is None else text.replace(" ", "")


def cleaner(column: spec.Column) -> Callable:
    kinds = {"text": clean_text, "name": clean_name, "township": clean_township,
             "types": clean_types, "date": clean_date, "id": clean_id, "phone": clean_phone}
    if column.kind == "vocab":
        return _clean_vocab(column.vocabulary)
    return kinds[column.kind]


_MISSING = object()


def _per_distinct(values: list, fn: Callable) -> list:
    """fn applied once per distinct value (columns repeat a lot)."""
    done: dict = {}
    out = []
    append = out.append
    for value in values:
        # 1, 1.0 and True are equal as keys but not as cells; text is the common case.
        key = value if value.__class__ is str else (value.__class__, value)
        result = done.get(key, _MISSING)
        if result is _MISSING:
            result = done[key] = fn(value)
        append(result)
    return out


def _transposed(located: Located) -> list[tuple]:
    """The data rows' cells column by column (rows padded to the widest column used)."""
    width = max(located.columns.values(), default=-1) + 1
    cells = located.cells
    if any(len(row) < width for row in cells):  # CSV rows may be short; workbook rows are all one width
        cells = [row if len(row) >= width else [*row, *[None] * (width - len(row))] for row in cells]
    return list(zip(*cells)) if cells else [() for _ in range(width)]


def normalise(tables: list[tuple[str, Located]], table: spec.Table) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(raw, clean) frames of the data rows of same-kind tables, one row per data row.

    `tables` pairs each located table with the name of its file. Both frames carry `_file`,
    `_sheet` and `_row` (the Excel row a person sees). `raw` holds each cell as the person
    typed it; `clean` the normalised text, every table column present.

    Example: raw, clean = normalise([("城西.xlsx", locate(sheet))], spec.form())
    """
    cells: dict[str, list] = {key: [] for key in table.keys}
    files, sheets, rows = [], [], []
    for file, located in tables:
        columns = _transposed(located)
        for key in table.keys:
            index = located.columns.get(key)
            cells[key].extend(columns[index] if index is not None else [None] * len(located.rows))
        files.extend([file] * len(located.rows))
        sheets.extend([located.sheet] * len(located.rows))
        rows.extend(located.rows)
    # Most cells are text already; the rest (numbers, dates) are few enough to convert one by one.
    raw = pd.DataFrame({key: [v if v.__class__ is str else cell_text(v) for v in cells[key]]
                        for key in table.keys}, dtype=object)
    clean = pd.DataFrame({col.key: _per_distinct(cells[col.key], cleaner(col)) for col in table.columns},
                         dtype=object)
    for frame in (raw, clean):
        frame["_file"] = pd.Series(files, index=frame.index, dtype=object)
        frame["_sheet"] = pd.Series(sheets, index=frame.index, dtype=object)
        frame["_row"] = pd.Series(rows, index=frame.index, dtype="int64")
    return raw, clean
