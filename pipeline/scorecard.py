"""Per-township figures: this week's work, and the scorecard for the annual assessment.

The notice (三、（三）): townships are assessed every year on finding people, handling them
in time, visiting the key population, and cases left undone after a written reminder.
"""

from __future__ import annotations

import sqlite3
from datetime import date

import pandas as pd

from pipeline import spec, workdays


def _handled_in_time(classified: pd.DataFrame, limit: int) -> pd.Series:
    """Decided within `limit` working days of discovery (a referral without a date counts as decided in time
    only if it was decided before the case became overdue, i.e. by the run that recorded it)."""
    decided = classified["status"] != "pending"
    out = []
    for is_decided, found, result_date, updated in zip(decided, classified["discovered"],
                                                       classified["result_date"], classified["updated"]):
        if not is_decided:
            out.append(False)
            continue
        end = result_date if isinstance(result_date, str) else updated
        out.append(workdays.workdays_between(date.fromisoformat(found), date.fromisoformat(end)) <= limit)
    return pd.Series(out, index=classified.index, dtype=bool)


def township_table(db: sqlite3.Connection, classified: pd.DataFrame, gap_rows: pd.DataFrame,
                   as_of: date) -> pd.DataFrame:
    """One row per township, in the order of schemas/townships.yaml.

    Columns: found_week, total, new_assisted, observation, closed, pending, overdue,
    still_overdue, key_population, due, seen_this_month, gaps, visit_coverage, decided,
    handled_in_time, in_time_share, rows_rejected_week, rows_rejected, files_week.
    """
    limit = spec.thresholds()["overdue_workdays"]
    week_start = (as_of - pd.Timedelta(days=spec.thresholds()["missing_window_days"] - 1)).isoformat()
    frame = classified.assign(in_time=_handled_in_time(classified, limit),
                              found_week=classified["first_seen"] >= week_start)
    rows = []
    # A form sent again byte for byte is still that week's report (run.missing_townships).
    subs = pd.read_sql_query("SELECT township, received, rejected, status FROM submissions "
                             "WHERE status != 'duplicate' OR has_form = 1", db)
    by_town = [dict(tuple(f.groupby("township", sort=False))) for f in (frame, gap_rows, subs)]
    for t in spec.townships():
        mine, gaps, sent = (groups.get(t.name, empty.iloc[0:0])
                            for groups, empty in zip(by_town, (frame, gap_rows, subs)))
        this_week = sent[(sent["received"] >= week_start) & (sent["received"] <= as_of.isoformat())]
        decided = int((mine["status"] != "pending").sum())
        handled = int(mine["in_time"].sum())
        due = int(gaps["due_this_month"].sum())
        seen_due = int((gaps["due_this_month"] & gaps["seen_this_month"]).sum())
        rows.append({
            "township": t.name,
            "found_week": int(mine["found_week"].sum()),
            "total": len(mine),
            **{s: int((mine["status"] == s).sum()) for s in spec.STATUS_LABELS},
            "overdue": int(mine["overdue"].sum()),
            "still_overdue": int(mine["still_overdue"].sum()),
            "key_population": len(gaps),
            "due": due,
            "seen_this_month": int(gaps["seen_this_month"].sum()),
            "gaps": int(gaps["gap"].sum()),
            "visit_coverage": round(seen_due / due, 4) if due else None,
            "decided": decided,
            "handled_in_time": handled,
            "in_time_share": round(handled / (decided + int(mine["overdue"].sum())), 4)
            if decided + int(mine["overdue"].sum()) else None,
            "rows_rejected_week": int(this_week["rejected"].sum()),
            "rows_rejected": int(sent["rejected"].sum()),
            "files_week": len(this_week),
        })
    return pd.DataFrame(rows)


def townships_json(table: pd.DataFrame) -> dict:
    """The run-report `townships` object, keyed by township."""
    keys = ["found_week", "total", "new_assisted", "observation", "closed", "pending", "overdue",
            "still_overdue", "key_population", "seen_this_month", "gaps", "visit_coverage",
            "in_time_share", "rows_rejected_week", "rows_rejected"]
    out = {}
    for row in table.to_dict("records"):
        out[row["township"]] = {k: (None if pd.isna(row[k]) else row[k]) for k in keys}
    return out
