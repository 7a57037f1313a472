"""The district roster as a DataFrame, classified as of a run date.

Each person gets the class of DESIGN §3 (新增救助群众 / 救助观察群众 / 不符合 / 待办理),
and pending cases their age in working days and whether they are 超期.
"""

from __future__ import annotations

import sqlite3
from datetime import date

import pandas as pd

from pipeline.rules import spec, townships, workdays
from pipeline.tools import frames

FORM_KEYS = [c.key for c in spec.form().columns]


def township_order() -> dict[str, int]:
    return townships.order()


def load(db: sqlite3.Connection) -> pd.DataFrame:
    """Every person of the store, one row each, with the form fields expanded."""
    # SQLite expands the JSON, so no Python dict is made per person. The person's own
    # columns (and the effective discovery date) win over the submitted text.
    own = [r[1] for r in db.execute("PRAGMA table_info(persons)") if r[1] != "data"]
    fields = [k for k in FORM_KEYS if k not in own]
    columns = [f'"{c}"' for c in own] + [f"json_extract(data, '$.{k}') AS \"{k}\"" for k in fields]
    return frames.shared_texts(pd.read_sql_query(f"SELECT {', '.join(columns)} FROM persons", db))


def classify(roster: pd.DataFrame, as_of: date, reminded: dict[str, str] | None = None) -> pd.DataFrame:
    """Add status_label, age_workdays, overdue, reminded_on and still_overdue (提醒后仍未办理:
    overdue after the deadline day of the first reminder), sorted for print.

    `reminded` maps a person key to the date of the first reminder issued before as_of.
    Example: classify(load(db), date(2026, 11, 28))
    """
    limit = spec.thresholds()["overdue_workdays"]
    reminded = reminded or {}
    deadlines = {day: reminder_deadline(date.fromisoformat(day)) for day in set(reminded.values())}
    out = roster.copy()
    out["status_label"] = out["status"].map(spec.STATUS_LABELS)
    pending = out["status"] == "pending"
    ages = workdays.between_many(out["discovered"].to_numpy(dtype=object), as_of)
    out["age_workdays"] = pd.arrays.IntegerArray(ages, ~pending.to_numpy(dtype=bool))
    out["overdue"] = pending & (out["age_workdays"].fillna(0) > limit).astype(bool)
    out["reminded_on"] = [reminded.get(k) if o else None for k, o in zip(out["key"], out["overdue"])]
    # The letter asks for the result 于<deadline>前, the deadline day included: unanswered from the day after.
    out["still_overdue"] = [isinstance(on, str) and deadlines[on] < as_of for on in out["reminded_on"]]
    order = township_order()
    out["_t"] = out["township"].map(order).fillna(len(order))
    out = out.sort_values(["_t", "discovered", "name", "key"], kind="stable").drop(columns="_t")
    return out.reset_index(drop=True)


def reminder_deadline(issued: date) -> date:
    """The day a 催办通知 issued on `issued` asks the result by: reminder_workdays working days on,
    so that a holiday never eats into it."""
    return workdays.add_workdays(issued, spec.thresholds()["reminder_workdays"])


def counts(classified: pd.DataFrame) -> dict[str, int]:
    """The §6 `roster` object."""
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
