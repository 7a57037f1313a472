"""The audit trail of the bureau's corrections, twice: a row in the store's `corrections` table
(what the summary's 人工更正 section and `jiuzhu find` show) and a line in `{store}.audit.jsonl`
beside the store, appended and never rewritten, so that the trail survives `jiuzhu undo` (which
puts the store back, rows of the corrections it undoes included) and logs the undo itself.

Each line of the file is one JSON object in UTF-8 (Chinese kept readable): at, who, kind
(correct | merge | withdraw | restore | undo), key, and what the kind has (field, old, new, why,
other_key, label).
"""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import datetime
from pathlib import Path

KIND_LABELS = {"correct": "更正", "merge": "合并", "withdraw": "撤回", "restore": "恢复计入",
               "conflict": "乡镇报送与更正不同", "resubmitted": "已撤回对象再次报送", "undo": "撤销"}


def now() -> str:
    return datetime.now().isoformat(timespec="seconds")


def record(db: sqlite3.Connection, kind: str, person_key: str, *, who: str, why: str | None = None,
           field: str | None = None, old: str | None = None, new: str | None = None,
           other_key: str | None = None, submission_id: int | None = None, at: str | None = None) -> int:
    """One audit row; its id. `after_run` is the newest run it followed: the summary of the next
    reporting week lists it (see week_rows)."""
    after = db.execute("SELECT max(id) FROM runs").fetchone()[0] or 0
    return db.execute(
        "INSERT INTO corrections (at, who, kind, person_key, other_key, field, old, new, why, after_run, submission_id) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        (at or now(), who, kind, person_key, other_key, field, old, new, why, after, submission_id)).lastrowid


def of_person(db: sqlite3.Connection, key: str) -> list[dict]:
    """Every audit row about a person (or a key merged into them), oldest first."""
    return [dict(r) for r in db.execute(
        "SELECT * FROM corrections WHERE person_key = ? OR other_key = ? ORDER BY id", (key, key))]


def week_rows(db: sqlite3.Connection, as_of: str) -> list[dict]:
    """The audit rows a summary of `as_of` lists: made since the last run of an earlier date (so a
    correction made after one week's run is in the next week's summary), with the person's name
    and township (from the record, or the audit row's key for a person merged away)."""
    if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'corrections'").fetchone() is None:
        return []
    since = db.execute("SELECT max(id) FROM runs WHERE as_of < ?", (as_of,)).fetchone()[0] or 0
    return [dict(r) for r in db.execute(
        "SELECT c.*, p.name, p.township FROM corrections c LEFT JOIN persons p ON p.key = c.person_key "
        "WHERE c.after_run >= ? AND (c.kind NOT IN ('conflict', 'resubmitted') OR c.at <= ?) ORDER BY c.id",
        (since, as_of))]


def log_path(store_path: Path) -> Path:
    return Path(f"{store_path}.audit.jsonl")


def append(store_path: Path, entry: dict) -> Path:
    """Add one line to the audit log beside the store (made when missing); its path. The line is
    flushed to disk before this returns: it is written after the store committed, and must stay."""
    path = log_path(store_path)
    line = json.dumps({"at": now(), **entry}, ensure_ascii=False, sort_keys=True, default=str)
    with path.open("a", encoding="utf-8", newline="\n") as fh:
        fh.write(line + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return path


def read_log(store_path: Path) -> list[dict]:
    """Every line of the audit log, oldest first; a line that is not JSON (a hand edit) is skipped."""
    path = log_path(store_path)
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out
