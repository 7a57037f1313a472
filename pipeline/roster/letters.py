"""催办通知 as the store keeps them: the letter a run drafts for each township with overdue
cases, and when it was issued (mailed, or the paper letter recorded by the operator).

A run no longer counts as issuing a reminder (the notice makes 提醒后仍未办理 rest on a letter
that went out): it drafts, for its date, the cases of each township's letter. Sending that
township's mail, or `jiuzhu reminders sent`, issues the letter: its cases get a row in
`reminders` dated on the day it went out, from which rules/overdue.py counts the deadline.

Each letter bears a 发文字号 with a yearly sequence (黔江民政催〔2026〕N号), kept in the table
letter_numbers once given: the year's letters are numbered by date, then in the district's
township order, and a township's letter within a week (missing_window_days) of the
one that got its number keeps that number. A rerun of a date, or a later run the same week,
gives a township's letter the number it had; the numbers of earlier dates never change.
"""

from __future__ import annotations

import sqlite3
from datetime import date
from typing import TYPE_CHECKING

from pipeline.roster import store
from pipeline.rules import dates, townships

if TYPE_CHECKING:  # `jiuzhu undo` and `backup` read the letters and need no pandas
    import pandas as pd


def draft(db: sqlite3.Connection, classified: pd.DataFrame, as_of: date) -> None:
    """The letters of the run's date: every overdue case under its township. A second run on
    the same date replaces the letters not yet issued; a case of a letter already issued stays."""
    day = as_of.isoformat()
    db.execute("DELETE FROM reminder_letters WHERE as_of = ? AND issued_on IS NULL", (day,))
    late = classified[classified["overdue"].astype(bool)]
    db.executemany("INSERT OR IGNORE INTO reminder_letters (as_of, township, person_key) VALUES (?,?,?)",
                   [(day, t, k) for k, t in zip(late["key"], late["township"])])
    _give_numbers(db, as_of, {r[0] for r in db.execute(
        "SELECT DISTINCT township FROM reminder_letters WHERE as_of = ?", (day,))})


def drafted(db: sqlite3.Connection, as_of: date) -> dict[str, tuple[int, int]]:
    """township → (cases in its letter of the date, of which issued already)."""
    return {r[0]: (r[1], r[2]) for r in db.execute(
        "SELECT township, count(*), count(issued_on) FROM reminder_letters WHERE as_of = ? GROUP BY township",
        (as_of.isoformat(),))}


def waiting(db: sqlite3.Connection) -> list[str]:
    """The dates (ISO) that have a letter not yet issued, newest first."""
    return [r[0] for r in db.execute(
        "SELECT DISTINCT as_of FROM reminder_letters WHERE issued_on IS NULL ORDER BY as_of DESC")]


def issue(db: sqlite3.Connection, as_of: date, township: str, issued_on: date, how: str) -> int:
    """The township's letter of `as_of` went out on `issued_on` (`how`: mail or paper): its
    cases are reminded from that day. How many cases it newly issued."""
    day, on = as_of.isoformat(), issued_on.isoformat()
    db.execute("INSERT OR IGNORE INTO reminders (person_key, township, issued_on) "
               "SELECT person_key, township, ? FROM reminder_letters "
               "WHERE as_of = ? AND township = ? AND issued_on IS NULL", (on, day, township))
    return db.execute("UPDATE reminder_letters SET issued_on = ?, issued_by = ? "
                      "WHERE as_of = ? AND township = ? AND issued_on IS NULL", (on, how, day, township)).rowcount


def issued_count(db: sqlite3.Connection, as_of: str) -> int:
    """How many cases of the letters of `as_of` (ISO) are issued; 0 on a store of an older schema."""
    try:
        return db.execute("SELECT count(issued_on) FROM reminder_letters WHERE as_of = ?", (as_of,)).fetchone()[0]
    except sqlite3.OperationalError:  # no such table: the store was made before letters were kept
        return 0


def numbers(db: sqlite3.Connection, as_of: date) -> dict[str, int]:
    """township → N of its letter of `as_of` (发文字号 …〔year〕N号), as `draft` gave them."""
    if not store.has_schema(db):
        return {}
    return {r[0]: r[1] for r in db.execute("SELECT township, number FROM letter_numbers WHERE as_of = ?",
                                           (as_of.isoformat(),))}


def _give_numbers(db: sqlite3.Connection, as_of: date, names: set[str]) -> None:
    """Numbers for the townships that have a letter of `as_of` and none yet: through the year in
    township order; a township whose latest number was first given in this date's reporting week
    (a rerun after a late file, two days on) keeps it. A number once given never moves."""
    day, year = as_of.isoformat(), as_of.year
    start = dates.week_start(as_of).isoformat()
    have = {r[0] for r in db.execute("SELECT township FROM letter_numbers WHERE as_of = ?", (day,))}
    order = townships.order()
    for township in sorted(names - have, key=lambda t: (order.get(t, len(order)), t)):
        latest = db.execute("SELECT number, min(as_of) FROM letter_numbers WHERE year = ? AND township = ? "
                            "GROUP BY number ORDER BY number DESC LIMIT 1", (year, township)).fetchone()
        number = latest[0] if latest and latest[1] >= start else db.execute(
            "SELECT coalesce(max(number), 0) + 1 FROM letter_numbers WHERE year = ?", (year,)).fetchone()[0]
        db.execute("INSERT INTO letter_numbers (as_of, township, year, number) VALUES (?,?,?,?)",
                   (day, township, year, number))
