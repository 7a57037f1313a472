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
from pipeline.rules import spec


def merge_order(reports: list[FileReport]) -> list[FileReport]:
    """Earlier 填报日期 first; for the same date a corrected re-send (修改, 更正… in its name, or
    its archive's) after the others, then by name (a form unpacked from an archive: its own)."""
    markers = spec.correction_markers()
    return sorted(reports, key=lambda r: (r.filled_on or "", any(m in r.file for m in markers),
                                          PurePosixPath(r.file).stem, PurePosixPath(r.file).suffix))


def ingest(db: sqlite3.Connection, run_id: int, reports: list[FileReport], as_of: date) -> dict[int, int]:
    """Record and merge every file of the run; the submission id of each, by id(report).
    Each report's tables are released once merged (FileReport.release)."""
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
            merge.save_rejected(db, report, ids[id(report)])
            merge.save_assistants(db, report, ids[id(report)])
            submissions.set_status(db, ids[id(report)], report.status)
        report.release()
    return ids


def _restatus(report: FileReport) -> None:
    """Status after merge-time errors (visits to nobody) joined the file's errors."""
    if report.status in ("accepted", "empty") and report.errors:
        report.status = "partial"
    report.errors.sort(key=lambda e: (e.sheet or "", e.row or 0))
