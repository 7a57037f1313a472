"""Normalise the cells of a located table into comparable text, column by column.

Every value becomes a str or None. A value that cannot be normalised is kept as written,
so that validation can name it in its message: a date stays "2022.13.45", a township
stays "城北街道". Work is done once per distinct value, since columns repeat a lot.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from functools import cache, lru_cache
from typing import TYPE_CHECKING

from pipeline.intake.tables import Located, cell_text
from pipeline.rules import dates, spec, townships

if TYPE_CHECKING:
    import pandas as pd

# Full-width digits and spaces made plain; characters that show nothing (zero-width spaces
# and joiners, a BOM pasted from a web page) removed, so that an ID looks as long as it is.
_FULLWIDTH = str.maketrans({**{chr(0xFF10 + i): str(i) for i in range(10)},
                            "\u3000": " ", "\xa0": " ", "\u2002": " ", "\u2003": " ",
                            **dict.fromkeys("\u200b\u200c\u200d\u2060\ufeff")})
_NEEDS_FOLDING = re.compile("[\uff10-\uff19\u3000\xa0\u2002\u2003\u200b\u200c\u200d\u2060\ufeff]+")
_FOLDED = tuple(map(chr, _FULLWIDTH))  # an `in` test per character: 4x faster than the class's search
# An apostrophe typed before an ID to keep Excel from making it a number: not part of the ID.
_ID_QUOTE = re.compile("(?:^|(?<=\x00))['‘’`]+")
_DOTS = re.compile(r"[•‧∙・．.·]")
# An ID typed or exported with a decimal tail (500114196003049715.0): every digit is there.
_ID_POINT_ZERO = re.compile("(?:^|(?<=\x00))([0-9]{15}|[0-9]{17}[0-9X])\\.0+(?=\x00|$)")
UNKNOWN_MAY_BE_WRITTEN = ("id", "date", "phone")
_SPACES = re.compile(r"[ \t]+")
# Spaces inside a name go (张 三 → 张三), except between two parts of two or more characters
# each: 刘德明 陈玉梅 is two people, and stays so for validation to say.
_NAME_SPACES = re.compile("(?<![^\\s\x00]{2})\\s+|\\s+(?![^\\s\x00]{2})")


def clean_text(value) -> str | None:
    """Full-width digits and spaces made plain, runs of spaces collapsed, ends trimmed."""
    return _clean_spaces(value if value.__class__ is str else cell_text(value)).strip() or None


@cache
def _compound_space() -> re.Pattern:
    """The spaces after a compound surname at the start of a name (of a joined column's cells too)."""
    surnames = "|".join(map(re.escape, spec.compound_surnames()))
    return re.compile(f"(?:^|(?<=\x00))({surnames})\\s+")


_NAME_MARKS = re.compile(r"[\s•‧∙・．.]")  # what _edit_name changes


def _edit_name(text: str) -> str:
    if not _NAME_MARKS.search(text):  # most names, and most joined columns of them: one scan, no edit
        return text
    return _DOTS.sub("·", _NAME_SPACES.sub("", _compound_space().sub(r"\1", text)))


def clean_name(value) -> str | None:
    """张 三 → 张三, 欧阳 娜娜 → 欧阳娜娜; the separator of minority names in any of its look-alikes → ·."""
    text = clean_text(value)
    if text is None:
        return None
    return _unquoted(_edit_name(text))


# A full stop after a chosen value (临时救助。, 走访发现.) says nothing: the value is read without it;
# nor does an apostrophe before a value (typed to keep Excel from changing it, or from a CSV).
_CLOSING = "。.，,；;！!"
_QUOTES = "'‘’`"


def _unquoted(text: str) -> str | None:
    return text.lstrip(_QUOTES) or None


_EXPLAINED = re.compile(r"\s*[（(][^（）()]*[）)]$")


def _bare(text: str) -> str:
    """A chosen value without what says nothing around it, to look it up."""
    return text.lstrip(_QUOTES).rstrip(_CLOSING)


def clean_township(value) -> str | None:
    text = clean_text(value)
    return None if text is None else (townships.canonical(_bare(text)) or text)


@cache  # one function per vocabulary, so that _chosen's cache knows it again
def _clean_vocab(name: str) -> Callable:
    vocab = spec.vocabulary(name)

    def clean(value) -> str | None:
        text = clean_text(value)
        if text is None:
            return None
        bare = _bare(text)
        # 是（在家）, 走访发现（入户）: the chosen value, then what the clerk added to explain it.
        return vocab.canonical(bare) or vocab.canonical(_EXPLAINED.sub("", bare)) or text

    return clean


def split_types(text: str) -> list[str]:
    """城乡低保、临时救助等 → ["城乡低保", "临时救助"]; unknown parts are kept as written."""
    separators = spec.type_separators()
    parts = [p for p in re.split(f"[{separators}]+", _bare(text)) if p]
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
    return None if text is None else _joined_types(text)


@lru_cache(maxsize=16384)  # the same few combinations in every file of the week
def _joined_types(text: str) -> str | None:
    return "、".join(split_types(text)) or None


def clean_date(value) -> str | None:
    """A date as YYYY-MM-DD, or the text as written when it is not a date."""
    if value.__class__ is datetime:  # a date cell, as most are: its day, as parse_date reads it
        return value.date().isoformat()
    if value.__class__ is date:
        return value.isoformat()
    text = clean_text(value)
    if text is None:
        return None
    parsed = dates.parse_date(value)
    return parsed.isoformat() if parsed else text


def clean_id(value) -> str | None:
    """Spaces removed, x made X; a number cell keeps its float spelling so that it fails."""
    text = clean_text(value)
    return None if text is None else (_edit_id(text) or None)


def _edit_id(text: str) -> str:
    """Spaces and a leading apostrophe removed, x and full-width Ｘ made X, a .0 tail dropped."""
    text = re.sub(r"\s+", "", text)
    if any(quote in text for quote in "'‘’`"):  # the regex alone scans a joined column slowly
        text = _ID_QUOTE.sub("", text)
    text = text.upper().replace("Ｘ", "X")
    return _ID_POINT_ZERO.sub(r"\1", text) if "." in text else text


def clean_phone(value) -> str | None:
    text = clean_text(value)
    return None if text is None else text.replace(" ", "")


def cleaner(column: spec.Column) -> Callable:
    """The function that cleans one cell of `column`: the definition clean_column follows."""
    kinds = {"text": clean_text, "name": clean_name, "township": clean_township,
             "types": clean_types, "date": clean_date, "id": clean_id, "phone": clean_phone}
    if column.kind == "vocab":
        return _clean_vocab(column.vocabulary)
    return kinds[column.kind]


_MISSING = object()
SHARE_SAMPLE = 64  # cells looked at to tell a column of repeated texts (see _one_per_text)
_SEP = "\x00"  # joins a column's texts into one string (a column whose cells hold it is cleaned cell by cell)


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


# What clean_name, clean_id and clean_phone do after clean_text, for a whole joined column
# (before or after trimming each text: the same either way).
_JOINED_EDITS: dict[str, Callable[[str], str]] = {
    "name": _edit_name,
    "id": _edit_id,
    "phone": lambda s: s.replace(" ", ""),
}


def clean_column(values: list, texts: list[str], column: spec.Column) -> list[str | None]:
    """cleaner(column) of every cell, given the cells' texts (cell_text): the same result
    from a few passes over the whole column joined into one string, instead of a few Python
    calls per cell, which made up most of the time of checking a 10,000-row workbook. Where
    cleaning changes nothing, the value is the text object itself, not an equal copy.

    Dates are parsed cell by cell (a typed date cell is not its text), and so is a column
    whose cells hold the joining character itself."""
    if not texts:
        return []
    joined = _SEP.join(texts)
    if column.kind == "date" or joined.count(_SEP) != len(texts) - 1:
        return _same_where_equal(texts, _per_distinct(values, cleaner(column)))
    edited = _clean_spaces(joined)
    edit = _JOINED_EDITS.get(column.kind)
    if edit:
        edited = edit(edited)
    # A joined column that no edit changed (most are) is the cells' texts: they are trimmed as
    # they are, and strip gives back the text itself where there is nothing to trim.
    unchanged = edited == joined
    cleaned = list(map(str.strip, texts if unchanged else edited.split(_SEP)))
    if "" in cleaned:
        cleaned = [t or None for t in cleaned]
    if column.kind == "name" and any(quote in edited for quote in _QUOTES):
        cleaned = [t and _unquoted(t) for t in cleaned]
    if column.kind not in ("text", *_JOINED_EDITS):
        fn = cleaner(column)  # township, vocab, types: a look-up once per distinct text
        done = {t: t if (c := _chosen(fn, t)) == t else c for t in set(cleaned) if t is not None}
        cleaned = [None if t is None else done[t] for t in cleaned]
    return cleaned if unchanged else _same_where_equal(texts, cleaned)


def _same_where_equal(texts: list[str], clean: list) -> list:
    """The text object itself where the clean value equals it: one string to keep in memory and
    to pickle back from a child, not two equal ones."""
    return [t if c == t else c for t, c in zip(texts, clean)]


@lru_cache(maxsize=16384)  # every file of a week names the same townships, methods and programmes
def _chosen(fn: Callable, text: str) -> str | None:
    return fn(text)


def _clean_spaces(text: str) -> str:
    """clean_text but the trimming."""
    # Translated where found. A joined column is long and its runs are few: an `in` per character
    # finds them faster than the regex; a cell's short text, the regex finds at a quarter of that.
    if (_NEEDS_FOLDING.search(text) if len(text) < 64 else any(c in text for c in _FOLDED)):
        text = _NEEDS_FOLDING.sub(lambda run: run.group().translate(_FULLWIDTH), text)
    if "  " in text or "\t" in text:
        text = _SPACES.sub(" ", text)
    return text


def _transposed(located: Located) -> list[tuple]:
    """The data rows' cells column by column (rows padded to the widest column used)."""
    used = [*located.columns.values(), *([] if located.result_dates is None else [located.result_dates]),
            *(i for indexes in located.repeated.values() for i in indexes)]
    width = max(used, default=-1) + 1
    cells = located.cells
    if cells and min(map(len, cells)) < width:  # CSV rows may be short; workbook rows are all one width
        cells = [row if len(row) >= width else [*row, *[None] * (width - len(row))] for row in cells]
    return list(zip(*cells)) if cells else [() for _ in range(width)]


_NUMBERS = {int, float, bool}  # kinds whose values can be equal to another kind's


def _texts(cells: list) -> list[str]:
    """cell_text of each cell: most are text already; a column of dates or numbers repeats
    its values, so each distinct one is spelt once."""
    try:  # text only, as most columns are: told by one join, at a tenth of the cost of each cell's type
        "".join(cells)
        return cells
    except TypeError:
        pass
    kinds = set(map(type, cells))
    if kinds == {str, type(None)} or kinds == {type(None)}:  # text and blanks: nothing to spell
        return ["" if v is None else v for v in cells]
    if len(kinds & _NUMBERS) < 2 and (float not in kinds or all(v == v for v in set(cells) if v.__class__ is float)):
        # No two kinds of value that are equal as keys but spelt apart (1 and 1.0, 1 and True), and
        # no NaN, which equals nothing: a look-up of each distinct value's text, done in C.
        spelt = {v: cell_text(v) for v in set(cells) if v.__class__ is not str}
        return list(map(spelt.get, cells, cells))
    spelt = {}
    out = []
    append = out.append
    for v in cells:
        if v.__class__ is str:
            append(v)
        elif v is None:
            append("")
        else:
            key = (v.__class__, v)  # 1, 1.0 and True are equal as keys but not as cells
            text = spelt.get(key)
            if text is None:
                text = spelt[key] = cell_text(v)
            append(text)
    return out


def _one_per_text(texts: list[str]) -> list[str]:
    """A column whose texts repeat (乡镇, 发现方式, 办理结果 …) with one string object per distinct
    text: calamine gives each cell its own, which a forked child pickles back one by one, and
    each is hashed again by every look-up. A column whose first cells are mostly distinct (names,
    ID numbers) is left as it is: hashing its every cell would be the only gain."""
    head = texts[:SHARE_SAMPLE]
    if len(set(head)) * 2 > len(head):
        return texts
    one = dict(zip(texts, texts))
    return list(map(one.__getitem__, texts))


def prepare(located: Located, table: spec.Table) -> None:
    """Turn a located table's cells into each column's texts and clean values, and drop the cells.

    Plain Python, no pandas: the reading child does it for the files it reads while its
    parent is still loading pandas and pandera.
    """
    if located.prepared is not None:
        return
    columns = _transposed(located)
    prepared = {}
    for col in table.columns:
        index = located.columns.get(col.key)
        cells = list(columns[index]) if index is not None else [None] * len(located.rows)
        if col.key in located.repeated and col.key in spec.joined_when_repeated():  # a second 备注 column
            cells = _joined(cells, [columns[i] for i in located.repeated[col.key]])
        texts = _one_per_text(_texts(cells))
        clean = clean_column(cells, texts, col)
        if col.kind in UNKNOWN_MAY_BE_WRITTEN and not col.required:  # 不详, 无, / : not known, so blank
            unknown = spec.unknown_placeholders()
            clean = [None if c in unknown else c for c in clean]
        if col.key == "result" and located.result_dates is not None:
            clean = _with_result_dates(clean, columns[located.result_dates])
        prepared[col.key] = (texts, clean)
    located.prepared, located.cells = prepared, []


def _joined(cells: list, others: list[tuple]) -> list:
    """Each row's text from a column and the columns repeating its header, joined with ；."""
    out = []
    for values in zip(cells, *others):
        texts = [t for t in (cell_text(v).strip() for v in values) if t]
        out.append("；".join(dict.fromkeys(texts)) or None)
    return out


def _with_result_dates(results: list, days: tuple) -> list:
    """办理结果 with the date of its own 纳入时间 column added, where the result gives none."""
    out = []
    for result, day in zip(results, days):
        day = clean_text(day) if day is not None else None
        if result and day and dates.find_date(result)[1] is None:
            result = f"{result}，{day}"
        out.append(result)
    return out


def normalise(tables: list[tuple[str, Located]], table: spec.Table) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(raw, clean) frames of the data rows of same-kind tables, one row per data row.

    `tables` pairs each located table with the name of its file. Both frames carry `_file`,
    `_sheet` and `_row` (the Excel row a person sees). `raw` holds each cell as the person
    typed it; `clean` the normalised text, every table column present.

    Example: raw, clean = normalise([("城西.xlsx", locate(sheet))], spec.form())
    """
    import pandas as pd  # here: prepare runs where pandas is not loaded yet

    texts: dict[str, list] = {key: [] for key in table.keys}
    cleaned: dict[str, list] = {key: [] for key in table.keys}
    files, sheets, rows = [], [], []
    for file, located in tables:
        prepare(located, table)
        for key, (text, clean) in located.prepared.items():
            texts[key].extend(text)
            cleaned[key].extend(clean)
        files.extend([file] * len(located.rows))
        sheets.extend([located.sheet] * len(located.rows))
        rows.extend(located.rows)
    raw = pd.DataFrame(texts, dtype=object)
    clean = pd.DataFrame(cleaned, dtype=object)
    for frame in (raw, clean):
        frame["_file"] = pd.Series(files, index=frame.index, dtype=object)
        frame["_sheet"] = pd.Series(sheets, index=frame.index, dtype=object)
        frame["_row"] = pd.Series(rows, index=frame.index, dtype="int64")
    return raw, clean
