"""Validate normalised rows with a pandera schema built from schemas/, lazily, and turn
pandera's failure cases into Issues that say where, what, and what to do.

Each check is named after the problem it finds; CHECK_CODES maps those names to the
stable codes of docs/design.md §2. Cross-field rules (the same person twice, 办理结果 that does
not add up) are checks on helper columns, so that pandera reports them per row too.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

import numpy as np
import pandas as pd
import pandera.pandas as pa

from pipeline.intake import messages
from pipeline.model import Issue
from pipeline.rules import identity, results, spec, townships
from pipeline.rules.dates import EARLIEST_DATE
from pipeline.rules.idcard import id_problem

CHECK_CODES = {
    "not_nullable": "required",
    "not_in_vocabulary": "invalid_value",
    "not_a_township": "invalid_value",
    "not_a_type": "invalid_value",
    "not_a_name": "invalid_value",
    "too_long": "invalid_value",
    "not_a_phone": "invalid_value",
    "not_a_date": "invalid_date",
    "date_out_of_range": "invalid_date",
    "bad_id": "invalid_id",
    "duplicate_row": "duplicate_row",
    "id_shared": "duplicate_row",
    "result_problem": "inconsistent_result",
}
IDENTITY, RESULT_PROBLEM, RESULT_MESSAGE = messages.IDENTITY, messages.RESULT_PROBLEM, messages.RESULT_MESSAGE
ID_SHARED = messages.ID_SHARED

_NAME = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]"
                   r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f·]*"
                   r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]$")
# One number or several (/、,，;； between): an 11-digit mobile, a landline with its area code
# (023-79222164, (023)79222164), or a local 7-8 digit number; +86 in front is allowed.
_PHONES = re.compile(r"[/、,，;；]+")
_PHONE_MARKS = re.compile(r"[-()（）]")
_PHONE = re.compile(r"(?:\+?86)?(?:1[3-9]\d{9}|0\d{9,11}|[2-9]\d{6,7})")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# What a cell shows when its formula failed (a VLOOKUP that found nothing shows #N/A).
EXCEL_ERRORS = frozenset(["#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!",
                          "#GETTING_DATA", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!"])


def _shows_an_error(texts: list) -> bool:
    """Whether a column's texts hold a formula's error. Each error starts with #: a column without
    one (most) is told by one scan of its joined texts, not a look-up of each text, whose hash
    nothing else may need (a 家庭基本情况 is long)."""
    try:
        if "#" not in "\x00".join(texts):
            return False
    except TypeError:  # not all texts
        pass
    return not EXCEL_ERRORS.isdisjoint(texts)


def _is_phone(text: str) -> bool:
    if _PHONE.fullmatch(text):  # one number without marks: most cells, at a tenth of the cost
        return True
    numbers = [n for n in _PHONES.split(text) if n]
    return bool(numbers) and len(text) <= 40 and \
        all(_PHONE.fullmatch(_PHONE_MARKS.sub("", n)) for n in numbers)


def _distinct(series: pd.Series, fn) -> pd.Series:
    """Apply a per-value test once per distinct value; a blank cell passes."""
    codes, distinct = pd.factorize(series, use_na_sentinel=True)
    passed = np.fromiter((fn(v) for v in distinct), dtype=bool, count=len(distinct))
    # A blank's code is -1, which picks the True appended last.
    return pd.Series(np.append(passed, True)[codes], index=series.index, dtype=bool)


def _within(series: pd.Series, limit: int) -> bool | pd.Series:
    """No text longer than `limit`: one pass in C for the whole column (True) in the usual case,
    a flag per cell when some text is longer."""
    values = series.tolist()
    try:
        if max(map(len, filter(None, values)), default=0) <= limit:  # texts, or None
            return True
    except TypeError:  # not a text: judged cell by cell below
        pass
    return pd.Series(np.fromiter((v.__class__ is not str or len(v) <= limit for v in values),
                                 dtype=bool, count=len(values)), index=series.index)


def _is_date(text: str) -> bool:
    """YYYY-MM-DD of a day that exists: 2026-11-31 has the form of a date and is none."""
    if not _ISO.match(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _per_value(test, name: str) -> pa.Check:
    """A check of each distinct value by `test`; blanks pass in _distinct, so pandera need
    not look for them (ignore_na=False saves it an isna pass per check)."""
    return pa.Check(lambda s: _distinct(s, test), name=name, ignore_na=False)


def _column_checks(column: spec.Column, as_of: date) -> list[pa.Check]:
    checks: list[pa.Check] = []
    if column.kind == "vocab":
        allowed = set(spec.vocabulary(column.vocabulary).values)
        checks.append(pa.Check(lambda s: s.isin(allowed), name="not_in_vocabulary"))
    elif column.kind == "township":
        allowed = {t.name for t in townships.listed()}
        checks.append(pa.Check(lambda s: s.isin(allowed), name="not_a_township"))
    elif column.kind == "types":
        allowed = set(spec.vocabulary("assistance_types").values)
        checks.append(_per_value(lambda v: all(p in allowed for p in v.split("、")), "not_a_type"))
    elif column.kind == "name":
        checks.append(_per_value(lambda v: bool(_NAME.fullmatch(v)) and len(v) <= 20
                                 and not spec.names_a_relation(v), "not_a_name"))
    elif column.kind == "date":
        low, high = EARLIEST_DATE.isoformat(), as_of.isoformat()
        checks.append(_per_value(_is_date, "not_a_date"))
        checks.append(_per_value(lambda v: not _is_date(v) or low <= v <= high, "date_out_of_range"))
    elif column.kind == "id":
        checks.append(_per_value(lambda v: id_problem(v) is None, "bad_id"))
    elif column.kind == "phone":
        checks.append(_per_value(_is_phone, "not_a_phone"))
    if column.max_length:
        limit = column.max_length
        checks.append(pa.Check(lambda s: _within(s, limit), name="too_long", ignore_na=False))
    return checks


@lru_cache(maxsize=16)
def build_schema(table: spec.Table, as_of: date) -> pa.DataFrameSchema:
    """The pandera schema of one table kind, from the column definitions in schemas/."""
    columns = {col.key: pa.Column(nullable=not col.required, required=False,
                                  checks=_column_checks(col, as_of))
               for col in table.columns}
    columns[IDENTITY] = pa.Column(nullable=True, required=False,
                                  checks=[pa.Check(lambda s: ~s.duplicated() | s.isna(), name="duplicate_row",
                                                   ignore_na=False)])
    columns[ID_SHARED] = pa.Column(nullable=True, required=False,
                                   checks=[pa.Check(lambda s: s.isna(), name="id_shared", ignore_na=False)])
    columns[RESULT_PROBLEM] = pa.Column(nullable=True, required=False,
                                        checks=[pa.Check(lambda s: s.isna(), name="result_problem",
                                                         ignore_na=False)])
    return pa.DataFrameSchema(columns, strict=False, coerce=False)


def row_identities(clean: pd.DataFrame) -> pd.Series:
    """Who a row is about: the ID number when valid, else township + village + name."""
    none = [None] * len(clean)
    ids = clean["id_number"].tolist() if "id_number" in clean else none
    valid = {v: id_problem(v) is None for v in set(ids) if isinstance(v, str)}
    villages = clean["village"].tolist() if "village" in clean else none
    keys = [identity.row_identity(t, v, n, i if valid.get(i) else None)
            for i, t, v, n in zip(ids, clean["township"].tolist(), villages, clean["name"].tolist())]
    return pd.Series(keys, index=clean.index, dtype=object)


def _ids_shared(keys: list, names: list) -> set:
    """The ID keys that one file gives to people of different names: which row holds the
    wrong number is not known, so every such row goes back."""
    ids = [k for k in keys if identity.by_id(k)]
    if len(set(ids)) == len(ids):  # no number twice: the usual case, at the cost of a set
        return set()
    names_of: dict = {}
    for key, name in zip(keys, names):
        if identity.by_id(key):
            names_of.setdefault(key, set()).add(name)
    return {key for key, seen in names_of.items() if len(seen) > 1}


def add_outcomes(clean: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Parse 办理结果 into status, programme, date (added to `clean`, which is returned); problems go
    to RESULT_PROBLEM."""
    parsed: dict[tuple, results.Outcome] = {}  # once per distinct (办理结果, 备注, 调查情况)
    outcomes = [
        parsed.get(texts) or parsed.setdefault(
            texts, results.parse_result(texts[0], remark=texts[1], investigation=texts[2], as_of=as_of))
        for texts in zip(clean["result"].tolist(), clean["remark"].tolist(), clean["investigation"].tolist())
    ]
    clean["status"] = [o.status for o in outcomes]
    clean["programme"] = [o.programme for o in outcomes]
    clean["result_date"] = [o.date for o in outcomes]
    clean["referral"] = [o.referral for o in outcomes]
    clean[RESULT_PROBLEM] = pd.Series([o.problem_code for o in outcomes], index=clean.index, dtype=object)
    clean[RESULT_MESSAGE] = [o.problem for o in outcomes]
    return clean


def validate(raw: pd.DataFrame, clean: pd.DataFrame, table: spec.Table, *,
             headers: dict[tuple[str, str, str], str], as_of: date) -> list[Issue]:
    """Every row-level Issue of the rows in `clean`, in row order, then column order.

    The rows may come from several files (column `_file`): one pandera pass serves them
    all, and the same person counts as a duplicate only within one file. `headers` maps
    (file, sheet, key) to the header text as written there.
    Example: validate(raw, clean, spec.form(), headers=h, as_of=date.today())
    """
    if clean.empty:
        return []
    frame = clean.copy()
    if table.kind == "form":  # the same person counts twice only within one file
        keys = [k if k is None else f"{k}\x1f{f}" for k, f in zip(row_identities(clean), clean["_file"].tolist())]
        shared = _ids_shared(keys, clean["name"].tolist())
        frame[IDENTITY] = [None if k in shared else k for k in keys] if shared else keys
        frame[ID_SHARED] = pd.Series([k if k in shared else None for k in keys], index=frame.index, dtype=object) \
            if shared else None
    else:
        frame[IDENTITY] = frame[ID_SHARED] = None
    if RESULT_PROBLEM not in frame:
        frame[RESULT_PROBLEM] = None
    order = {key: n for n, key in enumerate([*table.keys, IDENTITY, ID_SHARED, RESULT_PROBLEM])}

    def header(index: int, key: str) -> str:
        return headers.get((frame.at[index, "_file"], frame.at[index, "_sheet"], key)) or table.column(key).header

    def issue(index: int, key: str, code: str, message: str, value: str) -> tuple[int, int, Issue]:
        return index, order[key], Issue(code, frame.at[index, "_file"], frame.at[index, "_sheet"],
                                        int(frame.at[index, "_row"]), header(index, key), value or "", message)

    # A formula's error is said as such, instead of whatever else the cell's text breaks.
    # Not in 序号, which is never used: a #DIV/0! there must not send the person back.
    shown = {(int(index), key): raw.at[index, key] for key in table.keys
             if key in raw and key != "seq" and _shows_an_error(raw[key].tolist())
             for index in raw.index[raw[key].isin(EXCEL_ERRORS)]}
    issues = [issue(index, key, "invalid_value", messages.FORMULA_ERROR.format(
        header=spec.short_label(header(index, key)), value=value), value) for (index, key), value in shown.items()]
    try:
        build_schema(table, as_of).validate(frame, lazy=True, inplace=True)
        cases = None
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    seen: set[tuple] = set()
    for case in [] if cases is None else cases.itertuples(index=False):
        code = CHECK_CODES.get(case.check)
        if code is None or case.index is None or pd.isna(case.index):
            continue
        index = int(case.index)
        key = {IDENTITY: "name", ID_SHARED: "id_number", RESULT_PROBLEM: "result"}.get(case.column, case.column)
        if case.column == RESULT_PROBLEM:
            code = frame.at[index, RESULT_PROBLEM]
        if (index, key, code) in seen or (index, key) in shown:
            continue
        seen.add((index, key, code))
        value = raw.at[index, key] if key in raw else ""
        message = messages.describe(code, case.check, table.column(key), header=spec.short_label(header(index, key)),
                                    value=value, frame=frame, index=index, as_of=as_of)
        issues.append(issue(index, key, code, message, value))
    return [found for _, _, found in sorted(issues, key=lambda t: t[:2])]
