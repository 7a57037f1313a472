"""The district roster in one SQLite file: submissions, every row version, the current
record of each person, rejected rows with their problems, visits, reminders and runs.

The schema is created and migrated here (PRAGMA user_version). A run writes everything
inside one transaction; WAL mode keeps the main file untouched until it commits.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager, suppress
from pathlib import Path

import orjson

from pipeline.errors import StoreError

SCHEMA_VERSION = 6

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
    # Looking up a sent-back row's first problem, and the rows a corrected file resolves, was a
    # scan per row: 20,000 rows sent back took 154 s, and every later week paid for it again.
    """
    CREATE INDEX problems_row ON problems(submission_id, sheet, row);
    CREATE INDEX rejected_open ON rejected_rows(township, name) WHERE resolved_by IS NULL;
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
    # Corrections by the bureau (roster/corrections.py): every one an audit row (who, when, why,
    # old → new), and what stands: a field's value that later submissions do not overwrite, a key
    # merged into another (its later rows land there), a person withdrawn (kept, not counted).
    # A later submission that contradicts one is an audit row too (kind conflict | resubmitted).
    """
    CREATE TABLE corrections (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        who TEXT NOT NULL,
        kind TEXT NOT NULL,
        person_key TEXT NOT NULL,
        other_key TEXT,
        field TEXT,
        old TEXT,
        new TEXT,
        why TEXT,
        after_run INTEGER,
        submission_id INTEGER REFERENCES submissions(id)
    );
    CREATE INDEX corrections_person ON corrections(person_key);
    CREATE TABLE overrides (
        person_key TEXT NOT NULL,
        field TEXT NOT NULL,
        value TEXT,
        correction INTEGER NOT NULL REFERENCES corrections(id),
        PRIMARY KEY (person_key, field)
    );
    CREATE TABLE aliases (
        alias TEXT PRIMARY KEY,
        person_key TEXT NOT NULL,
        correction INTEGER NOT NULL REFERENCES corrections(id)
    );
    CREATE TABLE withdrawn (
        person_key TEXT PRIMARY KEY,
        correction INTEGER NOT NULL REFERENCES corrections(id)
    );
    """,
    # The 发文字号 of each 催办通知 (…〔year〕N号), given once when its letter is first drafted and
    # never changed after: a letter that went out keeps its number whatever later reruns draft.
    """
    CREATE TABLE letter_numbers (
        as_of TEXT NOT NULL,
        township TEXT NOT NULL,
        year INTEGER NOT NULL,
        number INTEGER NOT NULL,
        PRIMARY KEY (as_of, township)
    );
    CREATE INDEX letter_numbers_township ON letter_numbers(year, township, number);
    """,
]


TABLES = ("runs", "submissions", "persons", "versions", "rejected_rows", "problems", "visits", "reminders",
          "assistants")


def connect(path: Path) -> sqlite3.Connection:
    """Open the store; the schema is created or migrated by the first `transaction`. A file that
    is not a jiuzhu store (empty, foreign, damaged, from a newer jiuzhu) is refused with a sentence.

    Example: db = connect(Path("jiuzhu.sqlite3")); db.execute("SELECT count(*) FROM persons")
    """
    path = Path(path)
    if path.is_dir():
        raise StoreError(f"台账数据库 {path} 是一个文件夹，不是数据库文件。请用 --store 指定数据库文件（如 jiuzhu.sqlite3）。")
    if path.is_file() and path.stat().st_size == 0:
        raise StoreError(f"台账数据库 {path} 是空文件（0 字节），多半是复制或保存时出错，而不是新的名册。"
                         "请用备份恢复这个文件（jiuzhu backup 写的副本，或运行前自动保存的快照）；"
                         "确实要从头建立新名册的，请先把它删除或改名。")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, isolation_level=None, timeout=5)
        db.row_factory = sqlite3.Row
        version = db.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except (OSError, sqlite3.Error) as exc:
        raise explain(exc, path) from exc
    problem = None
    if version > SCHEMA_VERSION:
        problem = f"台账数据库 {path} 由更新版本的 jiuzhu 创建（版本 {version}），请升级 jiuzhu。"
    elif version < 0 or (version == 0 and tables):
        problem = (f"{path} 不是 jiuzhu 的台账数据库（其中有别的数据表，或版本号 {version} 不对），没有改动它。"
                   "请用 --store 指定 jiuzhu 的数据库文件（默认 jiuzhu.sqlite3）。")
    elif version > 0 and (missing := [t for t in TABLES if t not in tables]):
        problem = (f"台账数据库 {path} 缺少数据表 {'、'.join(missing)}，已损坏或被改动过，没有读取。"
                   "请用备份恢复这个文件（jiuzhu backup 写的副本，或运行前自动保存的快照）。")
    if problem:
        db.close()
        raise StoreError(problem)
    try:  # only a file known to be ours is switched to WAL (which rewrites its header)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA foreign_keys=ON")
    except sqlite3.Error as exc:
        db.close()
        raise explain(exc, path) from exc
    return db


def explain(exc: BaseException, path: Path) -> StoreError:
    """What went wrong with the store, for the operator: full disk, no write permission, damage."""
    text = str(exc).lower()
    if "disk is full" in text or getattr(exc, "errno", None) == 28:
        why = "磁盘空间已满，没有写入。请清理磁盘（或把数据库放到空间足够的磁盘）后重新运行；台账保持运行前的样子。"
    elif "readonly" in text or "read-only" in text or isinstance(exc, PermissionError) or "unable to open" in text:
        why = ("无法写入（文件或所在文件夹是只读的，或没有权限）。请检查文件和文件夹的权限后重新运行；"
               "台账保持运行前的样子。")
    elif "not a database" in text or "malformed" in text or "no such table" in text or "corrupt" in text:
        why = "文件已损坏，无法读取。请用备份恢复这个文件（jiuzhu backup 写的副本，或运行前自动保存的快照）。"
    elif "locked" in text or "busy" in text:
        why = "正被另一个程序使用。请关闭打开它的程序（如数据库查看工具）后重新运行。"
    else:
        why = f"无法使用（{exc}）。请确认路径正确、文件没有损坏。"
    return StoreError(f"台账数据库 {path} {why}")


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
        if db.in_transaction:  # SQLite rolls back by itself on a full disk: the first error is the one to tell
            with suppress(sqlite3.Error):
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
