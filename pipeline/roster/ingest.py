"""A run's files into the store, inside its transaction: each file recorded, its rows merged
in 填报日期 order (roster/merge.py), then its visits, rejected rows and 协理员名册 kept.

The merge may send more rows back (a 走访记录 row naming no one on the roster): they join
the file's problems, and its status follows.
"""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import PurePosixPath

from pipeline.model import FileReport
from pipeline.roster import merge, submissions, visits
from pipeline.roster.merge import FORM_KEYS, as_text
from pipeline.roster.store import dumps
from pipeline.rules import spec, townships
from pipeline.tools import frames

# SQLite's page cache while the files are merged, in KiB (its default is 2 MiB). A district's
# first run writes 300,000 versions and people: with the default, most pages of the versions
# index, and of the versions a new person's record is copied from (merge.save_roster), were
# written out and read back again.
MERGE_CACHE_KIB = 64 * 1024


def merge_order(reports: list[FileReport]) -> list[FileReport]:
    """Earlier 填报日期 first; for the same date a corrected re-send (修改, 更正… in its name, or
    its archive's) after the others, then by name (a form unpacked from an archive: its own)."""
    markers = spec.correction_markers()
    return sorted(reports, key=lambda r: (r.filled_on or "", any(m in r.file for m in markers),
                                          PurePosixPath(r.file).stem, PurePosixPath(r.file).suffix))


def ingest(db: sqlite3.Connection, run_id: int, reports: list[FileReport], as_of: date) -> dict[int, int]:
    """Record and merge every file of the run; the submission id of each, by id(report).
    Each report's tables are released once merged (FileReport.release)."""
    cache = db.execute("PRAGMA cache_size").fetchone()[0]
    db.execute(f"PRAGMA cache_size = -{MERGE_CACHE_KIB}")
    try:
        return _ingest(db, run_id, reports, as_of)
    finally:
        db.execute(f"PRAGMA cache_size = {cache}")


def _ingest(db: sqlite3.Connection, run_id: int, reports: list[FileReport], as_of: date) -> dict[int, int]:
    people = merge.Roster.load(db)
    ids = {}
    ordered = merge_order(reports)
    for report in ordered:
        ids[id(report)] = submissions.record(db, run_id, report, as_of)
        if report.status != "duplicate":
            merge.apply_rows(db, people, report, ids[id(report)], as_of)
        # Merged: the roster holds these rows now. Dropped file by file, not after the last file,
        # so that the checked rows and the whole roster are never in memory at once (peak RSS).
        report.tables.records = None
    merge.save_roster(db, people)
    for report in ordered:
        if report.status != "duplicate":
            unknown = visits.save_visits(db, people, report, ids[id(report)])
            if unknown:  # told after the file's line was printed: a note, shown at the end
                report.notes.append(f"走访记录中另有 {len(unknown)} 行的走访对象在名册中找不到，这些行已退回，"
                                    "见退回意见的「问题清单」。")
            report.errors.extend(unknown)
            _restatus(report)
            save_rejected(db, report, ids[id(report)])
            save_assistants(db, report, ids[id(report)])
            submissions.set_status(db, ids[id(report)], report.status)
        report.release()
    return ids


def _restatus(report: FileReport) -> None:
    """Status after merge-time errors (visits to nobody) joined the file's errors."""
    if report.status in ("accepted", "empty") and report.errors:
        report.status = "partial"
    report.errors.sort(key=lambda e: (e.sheet or "", e.row or 0))


def save_rejected(db: sqlite3.Connection, report: FileReport, submission_id: int) -> None:
    """Keep every rejected row, of the form and of 走访记录 (as the township typed it), and every
    problem of a file. A row's township, when it is not one (城西镇, blank), is the file's: the
    corrected row is then known for the one sent back (its discovery, its resolution)."""
    known = set(townships.names())
    rows = []
    if report.rejected_rows is not None and not report.rejected_rows.empty:
        raw = report.raw
        for index, row in report.rejected_rows.iterrows():
            data = {k: raw.at[index, k] for k in FORM_KEYS if raw.at[index, k]}
            township = row["township"] if row["township"] in known else report.township
            rows.append((submission_id, row["_sheet"], int(row["_row"]), township, as_text(row["name"]), dumps(data)))
    sent_back = report.visits_sent_back()
    if sent_back is not None:
        keys = spec.visits_table().keys
        for row in frames.records(sent_back):
            township = townships.canonical(row["township"] or "") or report.township
            rows.append((submission_id, row["_sheet"], int(row["_row"]), township, row["name"] or None,
                         dumps({k: row[k] for k in keys if row[k]})))
    db.executemany("INSERT INTO rejected_rows (submission_id, sheet, row, township, name, data) "
                   "VALUES (?,?,?,?,?,?)", rows)
    db.executemany(
        "INSERT INTO problems (submission_id, sheet, row, column_header, value, code, message) VALUES (?,?,?,?,?,?,?)",
        [(submission_id, e.sheet, e.row, e.column, e.value, e.code, e.message) for e in report.errors])


def save_assistants(db: sqlite3.Connection, report: FileReport, submission_id: int) -> None:
    """A township's 协理员名册 replaces its earlier one, village by village; a blank name
    records a village that has no assistant."""
    if report.assistants is None or report.assistants.empty:
        return
    rows = report.assistants.to_dict("records")
    for township, village in sorted({(r["township"], r["village"]) for r in rows}):
        db.execute("DELETE FROM assistants WHERE township = ? AND village = ?", (township, village))
    db.executemany("INSERT OR REPLACE INTO assistants (township, village, assistant, phone, submission_id) "
                   "VALUES (?,?,?,?,?)",
                   [(r["township"], r["village"], as_text(r.get("assistant")) or "", as_text(r.get("phone")),
                     submission_id) for r in rows])
