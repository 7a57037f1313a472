"""Visit gaps of the key population (notice 二（一）（二）): the month rule, 不见人, joiners and leavers."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from pipeline.roster import visits
from pipeline.rules import spec

THRESHOLDS = spec.thresholds()


def people(*rows) -> pd.DataFrame:
    """(key, township, village, name, status, key_since) rows as a classified roster."""
    return pd.DataFrame([{"key": k, "township": t, "village": v, "name": n, "status": s, "key_since": since}
                         for k, t, v, n, s, since in rows])


def visit_log(*rows) -> pd.DataFrame:
    """(person_key, visit_date, seen) rows."""
    return pd.DataFrame([{"person_key": k, "visit_date": d, "visitor": "网格员", "seen": int(seen), "notes": None}
                         for k, d, seen in rows], columns=["person_key", "visit_date", "visitor", "seen", "notes"])


def by_key(frame: pd.DataFrame) -> dict[str, dict]:
    return {r["key"]: r for r in frame.to_dict("records")}


def test_seen_this_month_counts_and_not_seen_does_not():
    roster = people(("a", "城西街道", "石钟社区", "甲", "pending", "2026-10-01"),
                    ("b", "城西街道", "石钟社区", "乙", "observation", "2026-10-01"),
                    ("c", "城西街道", "新安村", "丙", "pending", "2026-10-01"))
    log = visit_log(("a", "2026-11-05", True), ("b", "2026-11-20", False), ("b", "2026-10-20", True))
    rows = by_key(visits.gaps(roster, log, date(2026, 11, 28)))
    assert rows["a"]["seen_this_month"] and not rows["a"]["gap"]
    assert not rows["b"]["seen_this_month"] and rows["b"]["gap"]
    assert rows["b"]["unseen_visits"] == ["2026-11-20"] and rows["b"]["last_seen"] == "2026-10-20"
    assert rows["b"]["days_since"] == (date(2026, 11, 28) - date(2026, 10, 20)).days
    assert rows["c"]["last_seen"] is None and rows["c"]["gap"]
    assert visits.figures(visits.gaps(roster, log, date(2026, 11, 28))) == \
        {"key_population": 3, "seen_this_month": 1, "gaps": 2}


def test_visits_per_month_comes_from_the_thresholds(monkeypatch):
    """Should the bureau ask for two visits a month, one visit seen in person is still a gap."""
    monkeypatch.setattr(spec, "thresholds", lambda: {**THRESHOLDS, "visits_per_month": 2})
    roster = people(("a", "城西街道", "石钟社区", "甲", "pending", "2026-10-01"),
                    ("b", "城西街道", "石钟社区", "乙", "pending", "2026-10-01"))
    log = visit_log(("a", "2026-11-05", True), ("a", "2026-11-20", True),
                    ("b", "2026-10-30", True), ("b", "2026-11-21", True), ("b", "2026-11-25", False))
    rows = by_key(visits.gaps(roster, log, date(2026, 11, 28)))
    assert not rows["a"]["gap"] and rows["b"]["gap"] and rows["b"]["seen_this_month"]


@pytest.mark.parametrize("as_of, seen_on, covered", [
    (date(2026, 12, 1), "2026-11-30", False),   # last month's visit does not cover December
    (date(2026, 11, 30), "2026-11-01", True),
    (date(2024, 2, 29), "2024-02-01", True),    # leap year
    (date(2024, 3, 1), "2024-02-29", False),
    (date(2027, 1, 3), "2026-12-31", False),    # across the new year
])
def test_month_boundaries(as_of: date, seen_on: str, covered: bool):
    roster = people(("a", "石会镇", "中元村", "甲", "pending", "2020-01-01"))
    row = by_key(visits.gaps(roster, visit_log(("a", seen_on, True)), as_of))["a"]
    assert row["seen_this_month"] is covered and row["gap"] is (not covered)


@pytest.mark.parametrize("joined, due", [("2026-11-01", True), ("2026-11-02", False), ("2026-11-27", False),
                                         ("2026-10-31", True)])
def test_joiners_are_due_from_their_first_full_month(joined: str, due: bool):
    roster = people(("a", "石会镇", "中元村", "甲", "pending", joined))
    row = by_key(visits.gaps(roster, visit_log(), date(2026, 11, 28)))["a"]
    assert row["due_this_month"] is due and row["gap"] is due


def test_people_who_left_the_key_population_are_not_counted():
    roster = people(("a", "石会镇", "中元村", "甲", "new_assisted", None), ("b", "石会镇", "中元村", "乙", "closed", None),
                    ("c", "石会镇", "中元村", "丙", "pending", "2026-01-01"))
    rows = visits.gaps(roster, visit_log(("a", "2026-11-02", True)), date(2026, 11, 28))
    assert list(rows["key"]) == ["c"]


def test_visits_after_the_run_date_are_ignored_by_load(tmp_path):
    from pipeline.roster import store
    db = store.connect(tmp_path / "s.sqlite3")
    with store.transaction(db):
        db.execute("INSERT INTO runs (token, as_of, report) VALUES ('t', '2026-11-28', '{}')")
        db.execute("INSERT INTO submissions (run_id, file, sha256, received, status, has_form, rows, accepted, rejected) "
                   "VALUES (1, 'f', 'x', '2026-11-28', 'accepted', 1, 0, 0, 0)")
        for day in ("2026-11-27", "2026-11-28", "2026-11-29"):
            db.execute("INSERT INTO visits (submission_id, person_key, visit_date, seen) VALUES (1, 'a', ?, 1)", (day,))
    assert list(visits.load(db, date(2026, 11, 28))["visit_date"]) == ["2026-11-27", "2026-11-28"]


def test_order_is_township_village_then_longest_without_a_visit():
    roster = people(("a", "城西街道", "新安村", "甲", "pending", "2026-01-01"),
                    ("b", "城东街道", "x村", "乙", "pending", "2026-01-01"),
                    ("c", "城西街道", "新安村", "丙", "pending", "2026-01-01"),
                    ("d", "城西街道", "新安村", "丁", "pending", "2026-01-01"))
    log = visit_log(("a", "2026-11-20", True), ("c", "2026-10-01", True))
    assert list(visits.gaps(roster, log, date(2026, 11, 28))["key"]) == ["b", "d", "c", "a"]
