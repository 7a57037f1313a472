"""Synthetic township submissions: fictitious people (Faker zh_CN) written as the forms
townships really send — valid, or with chosen errors whose place is known in advance.

Used by the tests, the benchmarks and `jiuzhu demo`. Columns, vocabularies and
townships come from pipeline/rules/spec.py; free-text word lists from pipeline/demo/synth_text.py.
Everything is deterministic: the same arguments and seed give the same rows and
byte-identical files (the xlsx creation time is pinned to the 填报日期).

The flow: make_people → (make_visits) → write_submission; make_submission adds errors
and returns where the validator must report them; make_district writes a whole inbox.
"""

from __future__ import annotations

import importlib.util
import random
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from pathlib import Path

from pipeline.demo import synth_text as words
from pipeline.demo.files import FORMATS, XLSM_MAIN, format_of, save, write_submission
from pipeline.demo.people import AS_OF, IDENTITY_KEYS, Person, make_id, make_people, make_visits, people_of, rng_for
from pipeline.demo.plans import HEADER_STYLES, Expected, Plan, Submission
from pipeline.demo.synth_text import villages
from pipeline.rules import spec
from pipeline.rules import townships as district  # make_district takes a list called townships

__all__ = ["AS_OF", "ERROR_CODES", "Expected", "Person", "Submission", "make_district", "make_id",
           "make_people", "make_submission", "make_visits", "villages", "write_assistants",
           "write_submission", "write_zero_report", "XLSM_MAIN"]

ERROR_CODES = ("required", "invalid_value", "invalid_date", "invalid_id", "duplicate_row",
               "inconsistent_result")


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
    people = people_of(township, n, seed=seed, as_of=as_of, mix=mix, with_ids=with_ids, taken_ids=taken_ids)
    rng = rng_for("errors", seed, township)
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
        rng = rng_for("district", seed, township)
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
    fmt = format_of(path, None)
    table = spec.assistants_table()
    places = list(villages if villages is not None else words.villages(township))
    kept = places[: len(places) - missing] if missing else places
    rng = rng_for("assistants", seed, township)
    plan = Plan(table.sheet, widths=[c.width for c in table.columns])
    plan.add("header", [c.header for c in table.columns])
    for village in kept:
        row = {"township": township, "village": village, "phone": words.mobile(rng),
               "assistant": words.person_name(rng, rng.random() < 0.5)}
        plan.add("data", [row.get(c.key) for c in table.columns])
    save(path, fmt, [plan], created=datetime.combine(AS_OF, time(9, 0)))
    return path

