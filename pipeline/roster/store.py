"""The district roster in one SQLite file: submissions, every row version, the current
record of each person, rejected rows with their problems, visits, reminders and runs.

The schema is created and migrated here (PRAGMA user_version). A run writes everything
inside one transaction; WAL mode keeps the main file untouched until it commits.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path

import orjson

from pipeline.errors import StoreError

SCHEMA_VERSION = 3

# Each entry migrates from version N-1 to N.
MIGRATIONS = [
    """
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        token TEXT NOT NULL UNIQUE,
        as_of TEXT NOT NULL,
        report TEXT NOT NULL
    );
    CREATE TABLE submissions (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs(id),
        file TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        township TEXT,
        received TEXT NOT NULL,
        filled_date TEXT,
        status TEXT NOT NULL,
        has_form INTEGER NOT NULL,
        rows INTEGER NOT NULL,
        accepted INTEGER NOT NULL,
        rejected INTEGER NOT NULL,
        archived TEXT,
        feedback TEXT
    );
    CREATE INDEX submissions_sha ON submissions(sha256);
    CREATE TABLE persons (
        key TEXT PRIMARY KEY,
        township TEXT NOT NULL,
        village TEXT,
        name TEXT NOT NULL,
        id_number TEXT,
        data TEXT NOT NULL,
        status TEXT NOT NULL,
        programme TEXT,
        result_date TEXT,
        referral TEXT,
        discovered TEXT NOT NULL,
        first_seen TEXT NOT NULL,
        updated TEXT NOT NULL,
        key_since TEXT,
        submission_id INTEGER NOT NULL REFERENCES submissions(id),
        sheet TEXT,
        row INTEGER
    );
    CREATE INDEX persons_id ON persons(id_number);
    CREATE INDEX persons_name ON persons(township, name);
    CREATE TABLE versions (
        id INTEGER PRIMARY KEY,
        person_key TEXT NOT NULL,
        submission_id INTEGER NOT NULL REFERENCES submissions(id),
        sheet TEXT,
        row INTEGER,
        data TEXT NOT NULL
    );
    CREATE INDEX versions_person ON versions(person_key);
    CREATE TABLE rejected_rows (
        id INTEGER PRIMARY KEY,
        submission_id INTEGER NOT NULL REFERENCES submissions(id),
        sheet TEXT,
        row INTEGER,
        township TEXT,
        name TEXT,
        data TEXT NOT NULL,
        resolved_by INTEGER REFERENCES submissions(id)
    );
    CREATE TABLE problems (
        id INTEGER PRIMARY KEY,
        submission_id INTEGER NOT NULL REFERENCES submissions(id),
        sheet TEXT,
        row INTEGER,
        column_header TEXT,
        value TEXT,
        code TEXT NOT NULL,
        message TEXT NOT NULL
    );
    CREATE INDEX problems_submission ON problems(submission_id);
    CREATE TABLE visits (
        id INTEGER PRIMARY KEY,
        submission_id INTEGER NOT NULL REFERENCES submissions(id),
        person_key TEXT NOT NULL,
        visit_date TEXT NOT NULL,
        visitor TEXT,
        seen INTEGER NOT NULL,
        notes TEXT,
        sheet TEXT,
        row INTEGER,
        UNIQUE (person_key, visit_date, visitor, seen)
    );
    CREATE INDEX visits_person ON visits(person_key);
    CREATE TABLE reminders (
        person_key TEXT NOT NULL,
        township TEXT NOT NULL,
        issued_on TEXT NOT NULL,
        PRIMARY KEY (person_key, issued_on)
    );
    CREATE TABLE assistants (
        township TEXT NOT NULL,
        village TEXT NOT NULL,
        assistant TEXT NOT NULL,
        phone TEXT,
        submission_id INTEGER NOT NULL REFERENCES submissions(id),
        PRIMARY KEY (township, village, assistant)
    );
    """,
    # When the current decision was reported (its file's 填报日期, else its run), for a decision
    # whose 办理结果 gives no date: 按期办结 and 本周纳入 count from it, not from the last re-send.
    # …and the township that sent a file whose rows are another township's (see run.missing_townships).
    """
    ALTER TABLE persons ADD COLUMN decided_on TEXT;
    ALTER TABLE submissions ADD COLUMN sender TEXT;
    """,
    # Mail (roster/mailbox.py) and the 催办通知 a run drafts, issued only when sent (roster/letters.py):
    # a message fetched is keyed on (mailbox, UIDVALIDITY, UID), its files on their sha256; every
    # mail sent (receipt, township packet, 催报) once under its key.
    """
    CREATE TABLE reminder_letters (
        as_of TEXT NOT NULL,
        township TEXT NOT NULL,
        person_key TEXT NOT NULL,
        issued_on TEXT,
        issued_by TEXT,
        PRIMARY KEY (as_of, township, person_key)
    );
    CREATE TABLE mail_messages (
        id INTEGER PRIMARY KEY,
        mailbox TEXT NOT NULL,
        uidvalidity INTEGER NOT NULL,
        uid INTEGER NOT NULL,
        message_id TEXT,
        refs TEXT,
        sender TEXT,
        reply_to TEXT,
        subject TEXT,
        fetched_at TEXT NOT NULL,
        kind TEXT NOT NULL,
        township TEXT,
        size INTEGER,
        note TEXT,
        fingerprint TEXT NOT NULL,
        UNIQUE (mailbox, uidvalidity, uid)
    );
    CREATE INDEX mail_messages_mid ON mail_messages(message_id);
    CREATE TABLE mail_files (
        id INTEGER PRIMARY KEY,
        message INTEGER NOT NULL REFERENCES mail_messages(id),
        name TEXT NOT NULL,
        original TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        temp TEXT
    );
    CREATE INDEX mail_files_message ON mail_files(message);
    CREATE TABLE mail_out (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        township TEXT,
        recipients TEXT NOT NULL,
        subject TEXT NOT NULL,
        message_id TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        updated TEXT NOT NULL
    );
    """,
]


def connect(path: Path) -> sqlite3.Connection:
    """Open the store; the schema is created or migrated by the first `transaction`.

    Example: db = connect(Path("jiuzhu.sqlite3")); db.execute("SELECT count(*) FROM persons")
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        db = sqlite3.connect(path, isolation_level=None, timeout=5)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA foreign_keys=ON")
        version = db.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"台账数据库 {path} 无法打开（{exc}）。请确认路径正确、文件没有损坏。") from exc
    if version > SCHEMA_VERSION:
        raise StoreError(f"台账数据库 {path} 由更新版本的 jiuzhu 创建（版本 {version}），请升级 jiuzhu。")
    return db


def has_schema(db: sqlite3.Connection) -> bool:
    """Whether the store's tables exist: a new file has none until its first run commits."""
    return db.execute("PRAGMA user_version").fetchone()[0] > 0


@contextmanager
def transaction(db: sqlite3.Connection):
    """One write transaction, migrating the schema first: all of it commits, or none."""
    db.execute("BEGIN IMMEDIATE")
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        for step in MIGRATIONS[version:]:
            for statement in filter(str.strip, step.split(";")):
                db.execute(statement)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def dumps(record) -> str:
    """JSON for a row's data: stable key order, Chinese kept readable, compact.

    orjson, as json.dumps would, but some six times faster: a 300,000-row merge writes every
    row once or twice.
    """
    return orjson.dumps(record, option=orjson.OPT_SORT_KEYS, default=str).decode()


def loads(text: str):
    """What dumps wrote, back as Python values."""
    return orjson.loads(text)
