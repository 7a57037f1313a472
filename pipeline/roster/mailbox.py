"""Mail as the store keeps it: each message fetched (keyed on mailbox, UIDVALIDITY and UID,
with a fingerprint of its Message-ID and its files' sha256 for when UIDVALIDITY changes), the
files it brought into the inbox, and every mail sent (receipt, township packet, 催报) once
under its key, from 'sending' to 'sent', 'failed' or, after a kill mid-send, 'uncertain'.

The mail commands wait for a running `jiuzhu run` to commit (a long busy timeout) rather
than fail on a locked store.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

BUSY_MS = 600_000  # a district run holds its transaction for up to a minute or two
RECEIPT_KINDS = ("submission", "too_large", "no_attachment")


def patient(db: sqlite3.Connection) -> sqlite3.Connection:
    db.execute(f"PRAGMA busy_timeout = {BUSY_MS}")
    return db


def now() -> str:
    return datetime.now().isoformat(timespec="seconds")


# --- messages fetched ------------------------------------------------------------------


def known_uids(db: sqlite3.Connection, mailbox: str, uidvalidity: int) -> set[int]:
    return {r[0] for r in db.execute("SELECT uid FROM mail_messages WHERE mailbox = ? AND uidvalidity = ?",
                                     (mailbox, uidvalidity))}


def same_message(db: sqlite3.Connection, fingerprint: str) -> int | None:
    """A message fetched before under another UIDVALIDITY: the same Message-ID and files."""
    row = db.execute("SELECT id FROM mail_messages WHERE fingerprint = ? AND kind != 'seen' ORDER BY id LIMIT 1",
                     (fingerprint,)).fetchone()
    return row[0] if row else None


def record_message(db: sqlite3.Connection, mailbox: str, uidvalidity: int, uid: int, *, message_id, refs, sender,
                   reply_to, subject, kind, township, size, note, fingerprint) -> int:
    return db.execute(
        "INSERT INTO mail_messages (mailbox, uidvalidity, uid, message_id, refs, sender, reply_to, subject, fetched_at, "
        "kind, township, size, note, fingerprint) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (mailbox, uidvalidity, uid, message_id, refs, sender, reply_to, subject, now(), kind, township, size, note,
         fingerprint)).lastrowid


def record_file(db: sqlite3.Connection, message: int, name: str, original: str, sha256: str, temp: str) -> int:
    return db.execute("INSERT INTO mail_files (message, name, original, sha256, temp) VALUES (?,?,?,?,?)",
                      (message, name, original, sha256, temp)).lastrowid


def placed(db: sqlite3.Connection, file_id: int, name: str) -> None:
    """The file is in the inbox under `name`: no temporary copy is waiting any more."""
    db.execute("UPDATE mail_files SET temp = NULL, name = ? WHERE id = ?", (name, file_id))


def unplaced(db: sqlite3.Connection) -> list[tuple[int, str, str]]:
    """(id, name, temp) of files recorded but not yet renamed into the inbox (a kill in between)."""
    return db.execute("SELECT id, name, temp FROM mail_files WHERE temp IS NOT NULL ORDER BY id").fetchall()


def message_files(db: sqlite3.Connection, message: int) -> list[tuple[str, str, str]]:
    """(name in the inbox, name in the mail, sha256) of a message's files."""
    return db.execute("SELECT name, original, sha256 FROM mail_files WHERE message = ? ORDER BY id",
                      (message,)).fetchall()


def set_township(db: sqlite3.Connection, message: int, township: str) -> None:
    db.execute("UPDATE mail_messages SET township = ? WHERE id = ? AND township IS NULL", (township, message))


def archived(db: sqlite3.Connection, sha256: str) -> str | None:
    """Where a run put a file (relative to the inbox), by its sha256."""
    if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'submissions'").fetchone():
        return None
    row = db.execute("SELECT archived FROM submissions WHERE sha256 = ? AND archived IS NOT NULL ORDER BY id DESC",
                     (sha256,)).fetchone()
    return row[0] if row else None


def receipts_due(db: sqlite3.Connection, since: str, attempts: int) -> list[sqlite3.Row]:
    """Messages fetched since `since` that need a receipt and have none sent, uncertain or
    being sent; a failed one is tried again up to `attempts` times."""
    return db.execute(
        "SELECT m.* FROM mail_messages m LEFT JOIN mail_out o ON o.key = 'receipt:' || m.id "
        f"WHERE m.kind IN ({','.join('?' * len(RECEIPT_KINDS))}) AND m.fetched_at >= ? "
        "AND (o.id IS NULL OR (o.status = 'failed' AND o.attempts < ?)) ORDER BY m.id",
        (*RECEIPT_KINDS, since, attempts)).fetchall()


def mailed_townships(db: sqlite3.Connection, since: str, until: str) -> set[str]:
    """Townships that mailed something between the two times (ISO), by address or by their files."""
    return {r[0] for r in db.execute(
        "SELECT DISTINCT township FROM mail_messages WHERE township IS NOT NULL AND kind IN ('submission', 'seen') "
        "AND fetched_at >= ? AND fetched_at <= ?", (since, until))}


# --- mail sent -------------------------------------------------------------------------


def out_state(db: sqlite3.Connection, key: str) -> sqlite3.Row | None:
    return db.execute("SELECT * FROM mail_out WHERE key = ?", (key,)).fetchone()


def out_begin(db: sqlite3.Connection, key: str, kind: str, township: str | None, recipients: str, subject: str,
              message_id: str) -> None:
    """About to hand the mail to the server: from here a kill leaves it 'uncertain'."""
    db.execute(
        "INSERT INTO mail_out (key, kind, township, recipients, subject, message_id, status, attempts, updated) "
        "VALUES (?,?,?,?,?,?,'sending',1,?) ON CONFLICT(key) DO UPDATE SET status = 'sending', "
        "attempts = attempts + 1, recipients = excluded.recipients, message_id = excluded.message_id, "
        "updated = excluded.updated", (key, kind, township, recipients, subject, message_id, now()))


def out_done(db: sqlite3.Connection, key: str, status: str, error: str | None = None) -> None:
    db.execute("UPDATE mail_out SET status = ?, error = ?, updated = ? WHERE key = ?", (status, error, now(), key))


def out_interrupted(db: sqlite3.Connection) -> list[sqlite3.Row]:
    """Mail left 'sending' by a killed command: the server may or may not have taken it, so it is
    'uncertain' and never sent again by itself (jiuzhu mail send --resend does)."""
    rows = db.execute("SELECT * FROM mail_out WHERE status = 'sending'").fetchall()
    db.execute("UPDATE mail_out SET status = 'uncertain' WHERE status = 'sending'")
    return rows


def outs(db: sqlite3.Connection, prefix: str) -> list[sqlite3.Row]:
    """Every mail sent under keys that start with `prefix`."""
    return db.execute("SELECT * FROM mail_out WHERE key LIKE ? ORDER BY id", (prefix.replace("%", "") + "%",)).fetchall()
