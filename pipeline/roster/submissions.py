"""The files received, as the store keeps them: what each was, which townships reported in
a week, and the rejected rows and problems that the summary counts and lists.
"""

from __future__ import annotations

import sqlite3
from datetime import date
from typing import TYPE_CHECKING, NamedTuple

from pipeline.model import FileReport
from pipeline.roster import store
from pipeline.rules import dates, townships

if TYPE_CHECKING:  # pandas loads while the run's first child reads the inbox (intake/check.py)
    import pandas as pd


class Known(NamedTuple):
    """What the store knows of a file received before, by its sha256."""

    township: str | None
    has_form: bool
    file: str
    rows: int
    received: str


def known(db: sqlite3.Connection) -> dict[str, Known]:
    """Every file ingested so far (copies aside), by sha256; the first one received wins."""
    if not store.has_schema(db):
        return {}
    return {r[0]: Known(r[1], bool(r[2]), r[3], r[4], r[5]) for r in db.execute(
        "SELECT sha256, township, has_form, file, rows, received FROM submissions WHERE status != 'duplicate' "
        "ORDER BY id DESC")}


def record(db: sqlite3.Connection, run_id: int, report: FileReport, as_of: date) -> int:
    """Keep a file received by this run; its id."""
    filled = report.filled_on or (str(report.filled_date) if report.filled_date else None)
    return db.execute(
        "INSERT INTO submissions (run_id, file, sha256, township, sender, received, filled_date, status, has_form, "
        "rows, accepted, rejected) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        (run_id, report.file, report.sha256, report.township, report.sender, as_of.isoformat(), filled,
         report.status, int(report.has_form), report.rows, report.accepted, report.rejected)).lastrowid


def set_status(db: sqlite3.Connection, submission_id: int, status: str) -> None:
    db.execute("UPDATE submissions SET status = ? WHERE id = ?", (status, submission_id))


def set_placed(db: sqlite3.Connection, submission_id: int, archived: str | None, feedback: str | None) -> None:
    """Where the file went (relative to the inbox; None: it stayed there) and its feedback workbook
    (relative to outbox/<date>/)."""
    db.execute("UPDATE submissions SET archived = ?, feedback = ? WHERE id = ?", (archived, feedback, submission_id))


def missing_townships(db: sqlite3.Connection, as_of: date) -> list[str]:
    """Townships that sent no form (a zero report counts) in the week ending on the run date.

    A file that could not be read, or that holds only visits or the assistants' roster, is
    not the weekly form: its township is still to be chased. A form sent again byte for
    byte (the same blank zero report every week) changes no data but is this week's report."""
    sent = {r[0] for r in db.execute(  # the township that sent it: its 填报单位 when its rows are another's
        "SELECT DISTINCT COALESCE(sender, township) FROM submissions WHERE received BETWEEN ? AND ? "
        "AND has_form = 1 AND township IS NOT NULL", (dates.week_start(as_of).isoformat(), as_of.isoformat()))}
    return [name for name in townships.names() if name not in sent]


def feedback_owners(db: sqlite3.Connection, as_of: date) -> dict[str, tuple[str, str | None]]:
    """The feedback workbooks written for files received on the date: name → (file, township)."""
    return {r[0]: (r[1], r[2]) for r in db.execute(
        "SELECT feedback, file, township FROM submissions WHERE feedback IS NOT NULL AND received = ? ORDER BY id",
        (as_of.isoformat(),))}


def for_scorecard(db: sqlite3.Connection) -> pd.DataFrame:
    """The files that count for a township's figures: township (the sender's), received,
    rejected, sha256, status. A copy counts only when it held the form (the week's report)."""
    import pandas as pd

    return pd.read_sql_query("SELECT COALESCE(sender, township) AS township, received, rejected, sha256, status "
                             "FROM submissions WHERE status != 'duplicate' OR has_form = 1", db)


def rejections(db: sqlite3.Connection, as_of: date) -> tuple[list[tuple], list[tuple]]:
    """Up to the date, copies aside: (township, status, rows rejected) of every file, and
    (township, code, count) of the problems."""
    if not store.has_schema(db):
        return [], []
    files = db.execute("SELECT township, status, rejected FROM submissions WHERE status != 'duplicate' "
                       "AND received <= ?", (as_of.isoformat(),)).fetchall()
    problems = db.execute(
        "SELECT s.township, p.code, count(*) FROM problems p JOIN submissions s ON s.id = p.submission_id "
        "WHERE s.status != 'duplicate' AND s.received <= ? GROUP BY s.township, p.code "
        "ORDER BY s.township, p.code", (as_of.isoformat(),)).fetchall()
    return files, problems


def awaiting(db: sqlite3.Connection, as_of: date) -> list[tuple]:
    """Rows sent back up to the date and not resolved since: (township, file, received, sheet,
    row, name, the code of the row's first problem)."""
    if not store.has_schema(db):
        return []
    return db.execute(
        "SELECT r.township, s.file, s.received, r.sheet, r.row, r.name, "
        "(SELECT p.code FROM problems p WHERE p.submission_id = r.submission_id AND p.sheet IS r.sheet "
        " AND p.row = r.row ORDER BY p.id LIMIT 1) "
        "FROM rejected_rows r JOIN submissions s ON s.id = r.submission_id "
        "WHERE r.resolved_by IS NULL AND s.received <= ?", (as_of.isoformat(),)).fetchall()
