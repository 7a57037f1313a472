"""Visits (走访记录): matching them to people, and the visit gaps of the key population.

The notice: the key population (pending + observation) is visited at least once in every
calendar month (每月不少于1次); a visit where the person was not seen (不见人) does not
count and is listed for a return visit (走访到户不见人不放过). A person is due in a month
when they were in the key population on its first day ("from the first full month").
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from datetime import date

import pandas as pd

from pipeline.model import FileReport, Issue
from pipeline.roster.merge import Roster
from pipeline.rules import spec, townships
from pipeline.tools import frames


def _by_number(roster: Roster) -> dict[str, list[str]]:
    """ID number → the keys that carry it, in every township (roster.by_id is keyed on the township too)."""
    found: dict[str, list[str]] = {}
    for (_, number), key in roster.by_id.items():
        found.setdefault(number, []).append(key)
    return found


def _find(roster: Roster, row: dict, numbers: Callable[[], dict[str, list[str]]]) -> str | None:
    """The person a visit names; `numbers` gives _by_number(roster), made once a file needs it."""
    township, name = row["township"], row["name"]
    number = row.get("id_number")
    if isinstance(number, str):
        if (township, number) in roster.by_id:
            return roster.by_id[(township, number)]
        # Not a scan of the whole roster per visit whose ID is not under its own township.
        across = numbers().get(number, [])
        if len(across) == 1:
            return across[0]
    village = row.get("village") if isinstance(row.get("village"), str) else None
    return roster.find(township, village, name, None) or roster.merged_into(
        township, village, name, number if isinstance(number, str) else None)


def save_visits(db: sqlite3.Connection, roster: Roster, report: FileReport, submission_id: int) -> list[Issue]:
    """Store the file's visits that name someone on the roster; the others become row errors."""
    if report.visits is None or report.visits.empty:
        return []
    header = spec.visits_table().column("name").header
    sent_back = {}  # name → (sheet, row) of the file's own form row that was sent back
    if report.rejected_rows is not None and not report.rejected_rows.empty:
        for name, sheet, number in zip(report.rejected_rows["name"], report.rejected_rows["_sheet"],
                                       report.rejected_rows["_row"]):
            sent_back.setdefault(name, (sheet, int(number)))
    issues, rows = [], []
    numbers = functools.cache(functools.partial(_by_number, roster))
    for row in frames.records(report.visits):
        key = _find(roster, row, numbers)
        if key is None:
            where = sent_back.get(row["name"])
            namesakes = [roster.persons[k] for k in roster.by_name.get((row["township"], row["name"]), [])]
            villages = "、".join(sorted({p["village"] or "未填村（社区）" for p in namesakes}))
            message = (f"「{row['name']}」在工作表「{where[0]}」第{where[1]}行，那一行有误已退回，所以这条走访记录"
                       "暂时对应不到人。请按提示改正那一行，连同这条走访记录一起重新报送。" if where else
                       f"名册中{row['township']}有{len(namesakes)}个「{row['name']}」（{villages}），这条走访记录"
                       "无法确定是哪一位。请补填身份证号码，或填写与明细表一致的村（社区）。" if len(namesakes) > 1 else
                       f"名册中没有{row['township']}的「{row['name']}」，这条走访记录无法对应到人。"
                       "请核对姓名、乡镇（街道）、村（社区）和身份证号码是否与明细表一致；"
                       "新发现的对象请先填入明细表。")
            issues.append(Issue("invalid_value", report.file, row["_sheet"], int(row["_row"]), header,
                                row["name"] or "", message))
            continue
        rows.append((submission_id, key, row["visit_date"], row.get("visitor"), int(row["seen"] == "是"),
                     row.get("notes"), row["_sheet"], int(row["_row"])))
    db.executemany("INSERT OR IGNORE INTO visits (submission_id, person_key, visit_date, visitor, seen, notes, "
                   "sheet, row) VALUES (?,?,?,?,?,?,?,?)", rows)
    return issues


def load(db: sqlite3.Connection, as_of: date) -> pd.DataFrame:
    """The stored visits up to the run date that gaps() looks at (person_key, visit_date, seen): a
    person's visits from the last day they were seen in person (all of them when never seen), and
    those of the run's month. The older ones change nothing there, and after a year of weeks
    they are most of the table."""
    day, first = as_of.isoformat(), month_start(as_of).isoformat()
    return frames.shared_texts(pd.read_sql_query(
        "SELECT v.person_key, v.visit_date, v.seen FROM visits v LEFT JOIN "
        "(SELECT person_key, max(visit_date) AS last FROM visits WHERE seen = 1 AND visit_date <= ? "
        "GROUP BY person_key) l ON l.person_key = v.person_key "
        "WHERE v.visit_date <= ? AND (l.last IS NULL OR v.visit_date >= l.last OR v.visit_date >= ?) "
        "ORDER BY v.visit_date, v.person_key", db, params=(day, day, first)))


def month_start(day: date) -> date:
    return day.replace(day=1)


def gaps(classified: pd.DataFrame, visits: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """One row per key person: last visit seen in person, days since, month covered, due,
    and the visits where nobody was seen since then (for a return visit).

    Sorted by township, village and days without a visit (never visited first).
    """
    first = month_start(as_of).isoformat()
    key = classified[classified["status"].isin(spec.KEY_STATUSES)].copy()
    # load() orders visits by date: the last one written per person is the latest.
    met = visits[visits["seen"] == 1]
    seen = dict(zip(met["person_key"].tolist(), met["visit_date"].tolist()))
    key["last_seen"] = pd.Series([seen.get(k) for k in key["key"]], index=key.index, dtype=object)
    since = [date.fromisoformat(s) if isinstance(s, str) else date.fromisoformat(k)
             for s, k in zip(key["last_seen"], key["key_since"].fillna(as_of.isoformat()))]
    key["days_since"] = [(as_of - d).days for d in since]
    key["seen_this_month"] = [isinstance(s, str) and s >= first for s in key["last_seen"]]
    key["due_this_month"] = [not isinstance(k, str) or k <= first for k in key["key_since"]]
    # A gap: due and seen in person fewer times this month than schemas/thresholds.yaml asks.
    per_month = spec.thresholds()["visits_per_month"]
    times = met[met["visit_date"] >= first]["person_key"].value_counts()
    key["gap"] = key["due_this_month"] & (key["key"].map(times).fillna(0) < per_month).to_numpy()
    unseen = visits[visits["seen"] == 0]
    missed: dict[str, list[str]] = {}
    for person, day in zip(unseen["person_key"].tolist(), unseen["visit_date"].tolist()):
        missed.setdefault(person, []).append(day)
    key["unseen_visits"] = [
        [d for d in missed.get(k, []) if not isinstance(s, str) or d > s]
        for k, s in zip(key["key"], key["last_seen"])]
    order = townships.order()
    key["_t"] = key["township"].map(order)
    key["_never"] = key["last_seen"].isna()
    key = key.sort_values(["_t", "village", "_never", "days_since", "name"],
                          ascending=[True, True, False, False, True], na_position="first", kind="stable")
    return key.drop(columns=["_t", "_never"]).reset_index(drop=True)


def figures(gap_rows: pd.DataFrame) -> dict[str, int]:
    """The docs/design.md §6 `visits` object."""
    return {"key_population": int(len(gap_rows)),
            "seen_this_month": int(gap_rows["seen_this_month"].sum()),
            "gaps": int(gap_rows["gap"].sum())}


def not_due_unseen(gap_rows: pd.DataFrame) -> int:
    """Joined this month, not yet due a visit, and not seen: with seen_this_month and gaps, the key population."""
    return int((~gap_rows["due_this_month"].astype(bool) & ~gap_rows["seen_this_month"].astype(bool)).sum())
