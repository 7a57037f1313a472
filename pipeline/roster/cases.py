"""The district roster as of a run date: every person classified, with the reminders issued
(when their letters went out: roster/letters.py).

Each person has the class of docs/design.md §3 (新增救助群众 / 救助观察群众 / 不符合 / 待办理);
pending cases get their age in working days and whether they are 超期 or 提醒后仍未办理
(rules/overdue.py). `standing` gives everything the outputs of a date are made from.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date

import pandas as pd

from pipeline.roster import overrides, scorecard, visits
from pipeline.rules import overdue, spec, townships, workdays
from pipeline.tools import frames

FORM_KEYS = [c.key for c in spec.form().columns]


def load(db: sqlite3.Connection) -> pd.DataFrame:
    """Every person of the store, one row each, with the form fields expanded; not those the bureau
    withdrew (reported in error: kept in the store and in `jiuzhu find`, counted nowhere)."""
    # SQLite expands the JSON, so no Python dict is made per person. The person's own
    # columns (and the effective discovery date) win over the submitted text.
    own = [r[1] for r in db.execute("PRAGMA table_info(persons)") if r[1] != "data"]
    fields = [k for k in FORM_KEYS if k not in own]
    columns = [f'"{c}"' for c in own] + [f"json_extract(data, '$.{k}') AS \"{k}\"" for k in fields]
    withdrawn = " WHERE key NOT IN (SELECT person_key FROM withdrawn)" if overrides.has_tables(db) else ""
    return frames.shared_texts(pd.read_sql_query(f"SELECT {', '.join(columns)} FROM persons{withdrawn}", db))


def classify(roster: pd.DataFrame, as_of: date, reminded: dict[str, str] | None = None) -> pd.DataFrame:
    """Add status_label, age_workdays, overdue, reminded_on and still_overdue (rules/overdue.py),
    sorted for print: by the district's township order, discovery date, name.

    `reminded` maps a person key to the date of the first reminder issued before as_of.
    Example: classify(load(db), date(2026, 11, 28))
    """
    reminded = reminded or {}
    out = roster.copy()
    out["status_label"] = out["status"].map(spec.STATUS_LABELS)
    pending = out["status"] == "pending"
    ages = overdue.ages(out["discovered"].to_numpy(dtype=object), as_of)
    out["age_workdays"] = pd.arrays.IntegerArray(ages, ~pending.to_numpy(dtype=bool))
    out["overdue"] = pending & (out["age_workdays"].fillna(0) > overdue.limit()).astype(bool)
    out["reminded_on"] = [reminded.get(k) if o else None for k, o in zip(out["key"], out["overdue"])]
    out["still_overdue"] = [overdue.still_overdue(on, as_of) for on in out["reminded_on"]]
    out["_t"] = out["township"].map(townships.order()).fillna(len(townships.order()))
    out = out.sort_values(["_t", "discovered", "name", "key"], kind="stable").drop(columns="_t")
    return out.reset_index(drop=True)


def counts(classified: pd.DataFrame) -> dict[str, int]:
    """The docs/design.md §6 `roster` object."""
    status = classified["status"]
    return {"total": int(len(classified)), "new_assisted": int((status == "new_assisted").sum()),
            "observation": int((status == "observation").sum()), "closed": int((status == "closed").sum()),
            "pending": int((status == "pending").sum()), "overdue": int(classified["overdue"].sum())}


def calendar_warning(as_of: date) -> str | None:
    """Said when the holiday calendar does not know the run's year (working days are then Mon–Fri)."""
    if workdays.calendar_known(as_of):
        return None
    return (f"节假日日历中还没有 {as_of.year} 年的放假安排，本次按周一至周五计算工作日，节假日被算作工作日，"
            "超期天数可能偏多；请联系维护人员更新节假日日历（chinese-calendar）后重新运行。")


def reminders_before(db: sqlite3.Connection, as_of: date) -> dict[str, str]:
    """First written reminder issued on or before the run date, per person: its deadline is the
    one that counts, however often the case was reminded again. Reminders are issued when their
    letter went out (roster/letters.py), so one sent on the day counts in that day's outputs."""
    return {r[0]: r[1] for r in db.execute(
        "SELECT person_key, min(issued_on) FROM reminders WHERE issued_on <= ? GROUP BY person_key",
        (as_of.isoformat(),))}


@dataclass(frozen=True)
class Standing:
    """The roster as of a run date, as every output of that date shows it."""

    people: pd.DataFrame     # every person, classified (classify)
    gaps: pd.DataFrame       # the key population and its visits (visits.gaps)
    townships: pd.DataFrame  # one row per township (scorecard.township_table)


def standing(db: sqlite3.Connection, as_of: date) -> Standing:
    """Every person classified, the visit gaps and the township table, as of the run date."""
    people = classify(load(db), as_of, reminded=reminders_before(db, as_of))
    gap_rows = visits.gaps(people, visits.load(db, as_of), as_of)
    return Standing(people, gap_rows, scorecard.township_table(db, people, gap_rows, as_of))
