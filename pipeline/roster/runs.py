"""The runs recorded in the store: each committed run's date and its report (run-report.json
plus the township table and the files' notes), which `jiuzhu report` and the trend chart read.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from pathlib import Path

from pipeline.errors import JiuzhuError
from pipeline.roster import store
from pipeline.rules import dates


def start(db: sqlite3.Connection, token: str, as_of: date) -> int:
    """A run begun inside the transaction; its report is written by `finish`."""
    return db.execute("INSERT INTO runs (token, as_of, report) VALUES (?, ?, '{}')",
                      (token, as_of.isoformat())).lastrowid


def finish(db: sqlite3.Connection, run_id: int, report: dict) -> None:
    db.execute("UPDATE runs SET report = ? WHERE id = ?", (json.dumps(report, ensure_ascii=False), run_id))


def committed(db: sqlite3.Connection, token: str) -> bool:
    """Whether the run with this token reached COMMIT."""
    return store.has_schema(db) and db.execute("SELECT 1 FROM runs WHERE token = ?", (token,)).fetchone() is not None


def committed_in(store_path: Path, token: str) -> bool:
    """`committed`, opening the store for it (publish.recover and snapshots.last_done ask this of a
    run that was killed); False when there is no store yet, which is then not made."""
    if not Path(store_path).is_file():
        return False
    db = store.connect(store_path)
    try:
        return committed(db, token)
    finally:
        db.close()


def latest(db: sqlite3.Connection) -> str | None:
    """The date of the store's latest run (ISO), or None for a new store."""
    if not store.has_schema(db):
        return None
    return db.execute("SELECT max(as_of) FROM runs").fetchone()[0]


def refuse_earlier(db: sqlite3.Connection, as_of: date, doing: str) -> None:
    """A run or report for a date before the latest run would mix later submissions into
    that date's outputs and replace the ones the bureau has (docs/design.md §7: a run is repeatable)."""
    last = latest(db)
    if last and as_of.isoformat() < last:
        day = as_of.isoformat()
        held = db.execute("SELECT 1 FROM runs WHERE as_of = ?", (day,)).fetchone()
        kept = (f"还会覆盖当天的报表。{day} 的报表仍在输出文件夹的 {day} 中。" if held else
                "这一天没有做过汇总。")
        raise JiuzhuError(
            f"台账数据库中已有 {last} 的汇总，不能再按更早的日期 {day} {doing}：名册里已有之后报来的"
            f"数据，结果会与当时不一致；{kept}新收到的文件请按 {last} 或更晚的日期汇总（--as-of）。")


def _reports(db: sqlite3.Connection, as_of: date, newest_first: bool, since: str = ""):
    """(date, stored report) of every run up to the date (from `since`, ISO), in order; unreadable
    reports skipped."""
    if not store.has_schema(db):
        return
    order = "DESC" if newest_first else "ASC"
    for day, text in db.execute(f"SELECT as_of, report FROM runs WHERE as_of >= ? AND as_of <= ? "
                                f"ORDER BY as_of {order}, id {order}", (since, as_of.isoformat())):
        try:
            stored = json.loads(text or "{}")
        except ValueError:
            continue
        if isinstance(stored, dict):
            yield day, stored


def stored_report(db: sqlite3.Connection, as_of: date) -> tuple[date, dict] | None:
    """The latest completed run on or before the date, with its stored report."""
    for day, stored in _reports(db, as_of, newest_first=True):
        if "files" in stored:
            return date.fromisoformat(day), stored
    return None


def week_files(db: sqlite3.Connection, as_of: date) -> tuple[list[dict], dict[str, list[str]], date | None]:
    """The files every run of the reporting week ending on the date received, in the order they
    came, with their notes, and the date of the week's latest run (None when it had none).

    A feedback workbook of a run on another day of the week is named from this date's folder
    (../2026-11-27/退回/…), so that the week's list links to it."""
    files: list[dict] = []
    notes: dict[str, list[str]] = {}
    latest = None
    # Only the week's runs are read: every report of a year's history is parsed for nothing else.
    for day, stored in _reports(db, as_of, newest_first=False, since=dates.week_start(as_of).isoformat()):
        if not isinstance(stored.get("files"), list):
            continue
        latest = date.fromisoformat(day)
        for entry in stored["files"]:
            if entry.get("feedback") and day != as_of.isoformat():
                entry = {**entry, "feedback": f"../{day}/{entry['feedback']}"}
            files.append(entry)
        for file, said in (stored.get("notes") or {}).items():
            notes.setdefault(file, []).extend(said)
    return files, notes, latest


def roster_figures(db: sqlite3.Connection, as_of: date) -> dict[str, dict]:
    """The `roster` object of the latest run on each date up to this one, by ISO date."""
    latest_of: dict[str, dict] = {}
    for day, stored in _reports(db, as_of, newest_first=False):
        if isinstance(stored.get("roster"), dict):
            latest_of[day] = stored["roster"]
    return latest_of


def held(db: sqlite3.Connection) -> dict:
    """What a store holds, in brief: people on the roster, runs, the latest run's date."""
    if not store.has_schema(db):
        return {"persons": 0, "runs": 0, "latest": None}
    persons = db.execute("SELECT count(*) FROM persons").fetchone()[0]
    count, last = db.execute("SELECT count(*), max(as_of) FROM runs").fetchone()
    return {"persons": persons, "runs": count, "latest": last}
