"""Per-township figures: this week's work, and the scorecard for the annual assessment.

The notice (三、（三）): townships are assessed every year on finding people, handling them
in time, visiting the key population, and cases left undone after a written reminder.
"""

from __future__ import annotations

import sqlite3
from datetime import date

import pandas as pd

from pipeline.rules import dates, spec, townships, workdays


def _handled_in_time(classified: pd.DataFrame, limit: int) -> pd.Series:
    """Decided within `limit` working days of discovery: by the date in 办理结果, else by the day the
    decision was reported (decided_on: a 转介 or a 不符合 without a date, counted from its file)."""
    decided = (classified["status"] != "pending").to_numpy(dtype=bool)
    ends = classified["result_date"].where(classified["result_date"].notna(), _reported(classified))
    taken = workdays.between_many(classified["discovered"].to_numpy(dtype=object), ends.to_numpy(dtype=object))
    return pd.Series(decided & (taken <= limit), index=classified.index, dtype=bool)


def _reported(classified: pd.DataFrame) -> pd.Series:
    """The day each decision was reported; a record kept before that was stored has its last update."""
    return classified["decided_on"].where(classified["decided_on"].notna(), classified["updated"])


def township_table(db: sqlite3.Connection, classified: pd.DataFrame, gap_rows: pd.DataFrame,
                   as_of: date) -> pd.DataFrame:
    """One row per township, in the order of schemas/townships.yaml.

    Columns: found_week, total, new_assisted, observation, closed, pending, overdue,
    still_overdue, key_population, due, seen_due (of those due, seen this month: the
    numerator of visit_coverage), seen_this_month, gaps, visit_coverage, decided,
    handled_in_time, in_time_share, rows_rejected_week, rows_rejected, files_week.
    """
    limit = spec.thresholds()["overdue_workdays"]
    week_start = dates.week_start(as_of).isoformat()
    status = classified["status"]
    # One grouped sum per table: the figures are counts of true flags.
    people = _sums(classified["township"], {
        "found_week": classified["first_seen"] >= week_start, "total": True,
        **{s: status == s for s in spec.STATUS_LABELS},
        "overdue": classified["overdue"], "still_overdue": classified["still_overdue"],
        "decided": status != "pending", "handled_in_time": _handled_in_time(classified, limit)})
    visits = _sums(gap_rows["township"], {
        "key_population": True, "due": gap_rows["due_this_month"],
        "seen_due": gap_rows["due_this_month"] & gap_rows["seen_this_month"],
        "seen_this_month": gap_rows["seen_this_month"], "gaps": gap_rows["gap"]})
    # A form sent again byte for byte is still that week's report (run.missing_townships), but
    # one file of the week however often it arrives (a second e-mail, the inbox run again).
    # A file is counted for the township that sent it: its 填报单位 when its rows are another's.
    subs = pd.read_sql_query("SELECT COALESCE(sender, township) AS township, received, rejected, sha256, status "
                             "FROM submissions WHERE status != 'duplicate' OR has_form = 1", db)
    in_week = (subs["received"] >= week_start) & (subs["received"] <= as_of.isoformat())
    first_copy = in_week & ~subs[["township", "sha256"]].where(in_week).duplicated()
    rejected = subs["rejected"].fillna(0).astype("int64").where(subs["status"] != "duplicate", 0)
    sent = _sums(subs["township"], {"rows_rejected_week": rejected.where(in_week, 0), "rows_rejected": rejected,
                                    "files_week": first_copy})
    rows = []
    for t in townships.listed():
        mine, gaps, files = (table.get(t.name, {}) for table in (people, visits, sent))
        count = {**{k: 0 for k in COUNTS}, **mine, **gaps, **files}.get
        rows.append({
            "township": t.name,
            **{k: count(k) for k in ("found_week", "total", *spec.STATUS_LABELS, "overdue", "still_overdue",
                                      "key_population", "due", "seen_due", "seen_this_month", "gaps")},
            **rates(count),
            "decided": count("decided"),
            "handled_in_time": count("handled_in_time"),
            "rows_rejected_week": count("rows_rejected_week"),
            "rows_rejected": count("rows_rejected"),
            "files_week": count("files_week"),
        })
    return pd.DataFrame(rows)


def rates(count) -> dict:
    """走访覆盖率 (seen of those due ÷ due) and 按期办理率 (handled in time ÷ (decided + overdue))
    from `count`, a township's or the district's figure by name."""
    due, handled = count("due"), count("decided") + count("overdue")
    return {"visit_coverage": round(count("seen_due") / due, 4) if due else None,
            "in_time_share": round(count("handled_in_time") / handled, 4) if handled else None}


COUNTS = ("found_week", "total", *spec.STATUS_LABELS, "overdue", "still_overdue", "decided", "handled_in_time",
          "key_population", "due", "seen_due", "seen_this_month", "gaps", "rows_rejected_week", "rows_rejected",
          "files_week")


def _sums(township: pd.Series, flags: dict) -> dict[str, dict[str, int]]:
    """township → {name: sum of that column}, for columns of flags or counts (True: one per row)."""
    frame = pd.DataFrame({name: (pd.Series(1, index=township.index) if value is True else value).astype("int64")
                          for name, value in flags.items()}, index=township.index)
    sums = frame.groupby(township.to_numpy(), sort=False).sum()
    return {town: {k: int(v) for k, v in row.items()} for town, row in zip(sums.index, sums.to_dict("records"))}


def townships_json(table: pd.DataFrame) -> dict:
    """The run-report `townships` object (docs/design.md §6), keyed by township, in the district's order;
    a share with no denominator is null."""
    keys = ["found_week", "total", "new_assisted", "observation", "closed", "pending", "overdue",
            "still_overdue", "key_population", "seen_this_month", "gaps", "visit_coverage",
            "in_time_share", "rows_rejected_week", "files_week", "rows_rejected"]
    out = {}
    for row in table.to_dict("records"):
        out[row["township"]] = {k: (None if pd.isna(row[k]) else row[k]) for k in keys}
    return out
