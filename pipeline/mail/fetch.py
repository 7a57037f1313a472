"""`jiuzhu mail fetch`: every new message's attachments into the inbox, once, then a receipt
to each sender (mail/receipts.py) and, when due, the week's 催报 (mail/chase.py).

Once, whatever happens: a message is new when its (mailbox, UIDVALIDITY, UID) is not in the
store, and when UIDVALIDITY changed, when no message with the same Message-ID and the same
files' sha256 was fetched before. The order makes a kill at any point lose and duplicate
nothing: each file is downloaded into inbox/.jiuzhu-mail/ (hidden from a run) and fsynced;
then, holding the store's lock, the message and its files' final names are recorded in one
transaction, the files renamed into place, and their temporary names cleared. A fetch that
finds a recorded file still under its temporary name finishes the rename; temporary files no
record names (a kill before the transaction) are removed, and their message fetched again.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from pipeline import publish, settings
from pipeline.errors import MailError, RunLockedError
from pipeline.mail import chase, imap, message, receipts
from pipeline.mail.config import MailConfig
from pipeline.mail.smtp import Outcome, Sender
from pipeline.roster import mailbox, store

TEMP_DIR = ".jiuzhu-mail"
LOCK_WAIT = 600  # seconds a fetch waits for a run to finish with the inbox


@dataclass
class Fetched:
    """One message read by this fetch."""

    uid: int
    sender: str
    township: str | None
    subject: str
    kind: str                      # submission | no_attachment | too_large | bounce | autoreply | seen
    files: list[tuple[str, str]] = field(default_factory=list)  # (name in the mail, name in the inbox)
    note: str = ""
    failed: list[str] = field(default_factory=list)


@dataclass
class FetchResult:
    messages: list[Fetched] = field(default_factory=list)
    receipts: list[Outcome] = field(default_factory=list)
    chased: list[Outcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    known: int = 0  # messages of the period fetched before
    uidnext: int = 0  # the mailbox's UIDNEXT when this fetch looked (watch: has mail come since?)

    @property
    def files(self) -> int:
        return sum(len(m.files) for m in self.messages)


@contextlib.contextmanager
def inbox_lock(store_path: Path, wait: float = LOCK_WAIT):
    """The store's lock (publish.Lock), waited for while a run holds it."""
    deadline = time.monotonic() + wait
    while True:
        try:
            lock = publish.Lock(store_path).__enter__()
            break
        except RunLockedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    try:
        yield
    finally:
        lock.__exit__(None, None, None)


def _fsync(path: Path, data: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _sync_folder(folder: Path) -> None:
    if os.name == "posix":  # a rename is durable once its folder is synced (not possible on Windows)
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def free_name(inbox: Path, name: str, taken: set[str]) -> str:
    """`name`, or name（2）, （3）… when the inbox or this fetch already has a file of that name."""
    stem, suffix = (name.rsplit(".", 1)[0], "." + name.rsplit(".", 1)[1]) if "." in name else (name, "")
    candidate, n = name, 2
    while candidate in taken or (inbox / candidate).exists():
        candidate = f"{stem}（{n}）{suffix}"
        n += 1
    taken.add(candidate)
    return candidate


def reconcile(db, inbox: Path) -> list[str]:
    """After a kill: finish the renames the store recorded, remove temporary files it does not
    know (their message is fetched again). Under the lock."""
    notes = []
    known = set()
    taken: set[str] = set()
    for file_id, name, temp in mailbox.unplaced(db):
        known.add(temp)
        source = inbox / temp
        with store.transaction(db):
            if source.exists():
                final = name if not (inbox / name).exists() else free_name(inbox, name, taken)
                os.replace(source, inbox / final)
                notes.append(f"上次取信时被中断：附件「{final}」已放入收件箱。")
                mailbox.placed(db, file_id, final)
            else:
                mailbox.placed(db, file_id, name)
    temp_root = inbox / TEMP_DIR
    if temp_root.is_dir():
        for path in sorted(temp_root.rglob("*"), reverse=True):
            rel = path.relative_to(inbox).as_posix()
            if path.is_file() and rel not in known:
                path.unlink()
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()
    return notes


def fingerprint(raw: bytes, message_id: str | None, digests: list[str]) -> str:
    """Message-ID (or, without one, the header block) and the files' sha256: a message fetched
    again after UIDVALIDITY changed has the same."""
    identity = message_id or hashlib.sha256(raw.split(b"\r\n\r\n", 1)[0]).hexdigest()
    return hashlib.sha256("\n".join([identity, *sorted(digests)]).encode()).hexdigest()


def _download(box: imap.Mailbox, cfg: MailConfig, uid: int, size: int, temp: Path):
    """(parsed mail, raw or header bytes, [(attachment, temp path, sha256)], fingerprint) of one message."""
    limit = cfg.max_message_mb * 1024 * 1024
    if size > limit:
        head = box.fetch(uid, "BODY.PEEK[HEADER]")
        mail = message.parse(head)
        if mail.kind in ("submission", "no_attachment"):
            mail.kind = "too_large"
            mail.notes.append(f"邮件有 {size / 1048576:.1f} MB，超过 {cfg.max_message_mb} MB 的上限，没有下载。")
        return mail, head, [], fingerprint(head, mail.message_id, [f"size:{size}"])
    raw = box.fetch(uid)
    mail = message.parse(raw)
    saved = []
    temp.mkdir(parents=True, exist_ok=True)
    for n, item in enumerate(mail.attachments):
        path = temp / f"{n}.part"
        _fsync(path, item.data)
        saved.append((item, path, hashlib.sha256(item.data).hexdigest()))
    return mail, raw, saved, fingerprint(raw, mail.message_id, [s for _, _, s in saved])


def _place(db, cfg: MailConfig, inbox: Path, uidvalidity: int, uid: int, size: int, downloaded) -> Fetched | None:
    """Record one downloaded message and move its files into the inbox (under the lock); None
    when another fetch got it first."""
    mail, _, saved, print_ = downloaded
    if uid in mailbox.known_uids(db, cfg.mailbox, uidvalidity):
        return None
    township = cfg.township_of(mail.sender)
    seen = mailbox.same_message(db, print_)
    kind = "seen" if seen else mail.kind
    note = "；".join(mail.notes) or ("与之前取过的邮件相同（邮箱编号已变），没有重复保存。" if seen else "")
    if mail.failed:
        note = "退信：发往 " + "、".join(mail.failed) + " 的邮件没有送达。"
    fetched = Fetched(uid, mail.sender, township, mail.subject, kind, note=note, failed=mail.failed)
    taken: set[str] = set()
    with store.transaction(db):
        row = mailbox.record_message(db, cfg.mailbox, uidvalidity, uid, message_id=mail.message_id,
                                     refs=mail.references, sender=mail.sender, reply_to=mail.reply_to,
                                     subject=mail.subject, kind=kind, township=township, size=size, note=note,
                                     fingerprint=print_)
        files = []
        if not seen:
            for item, path, digest in saved:
                name = free_name(inbox, item.name, taken)
                files.append((mailbox.record_file(db, row, name, item.original, digest,
                                                  path.relative_to(inbox).as_posix()), path, name))
                fetched.files.append((item.original, name))
    publish.checkpoint("mail-recorded")
    for _, path, name in files:
        os.replace(path, inbox / name)
    if files:
        _sync_folder(inbox)
    with store.transaction(db):
        for file_id, _, name in files:
            mailbox.placed(db, file_id, name)
    return fetched


def fetch(cfg: MailConfig, inbox: Path = settings.INBOX, store_path: Path = settings.STORE, *,
          now: datetime | None = None, receipts_too: bool = True) -> FetchResult:
    """Fetch every new message into the inbox, answer each with a receipt, send the 催报 when due.

    Example: fetch(config.load(Path("jiuzhu.toml")), Path("inbox"), Path("jiuzhu.sqlite3")).files
    """
    now = now or datetime.now()
    inbox, store_path = Path(inbox), Path(store_path)
    inbox.mkdir(parents=True, exist_ok=True)
    result = FetchResult()
    db = mailbox.patient(store.connect(store_path))
    try:
        with store.transaction(db):  # the schema, and mail a killed command left half-sent
            interrupted = mailbox.out_interrupted(db)
        result.notes += [f"上次发送「{r['subject']}」（{r['recipients']}）时被中断，无法确定是否已发出，没有重发；"
                         "请到邮箱的「已发送」中或打电话核对。" for r in interrupted]
        with inbox_lock(store_path):
            result.notes += reconcile(db, inbox)
        _fetch_new(cfg, db, inbox, store_path, now, result)
        if receipts_too:
            with Sender(cfg, db) as sender:
                result.receipts = receipts.send_receipts(cfg, db, inbox, sender, now)
                result.chased = chase.send_due(cfg, db, sender, now)
    finally:
        db.close()
    return result


def _fetch_new(cfg: MailConfig, db, inbox: Path, store_path: Path, now: datetime, result: FetchResult) -> None:
    with imap.Mailbox(cfg) as box:
        result.uidnext = box.uidnext
        uids = box.search_since((now - timedelta(days=cfg.since_days)).date())
        known = mailbox.known_uids(db, cfg.mailbox, box.uidvalidity)
        new = [u for u in uids if u not in known]
        result.known = len(uids) - len(new)
        sizes = box.sizes(new)
        for uid in new:
            temp = inbox / TEMP_DIR / f"{box.uidvalidity}-{uid}-{os.urandom(4).hex()}"
            try:
                downloaded = _download(box, cfg, uid, sizes.get(uid, 0), temp)
            except MailError as exc:  # one message the server will not give: the others go on
                result.notes.append(f"第 {uid} 封邮件没有取到：{exc}")
                continue
            except OSError as exc:
                shutil.rmtree(temp, ignore_errors=True)
                raise MailError(f"取信时与服务器的连接中断（{exc.__class__.__name__}），已取到的邮件已保存，"
                                "其余下次再取。") from None
            publish.checkpoint("mail-downloaded")
            with inbox_lock(store_path):
                fetched = _place(db, cfg, inbox, box.uidvalidity, uid, sizes.get(uid, 0), downloaded)
            shutil.rmtree(temp, ignore_errors=True)
            if fetched is None:
                continue
            result.messages.append(fetched)
            said = box.mark(uid) if cfg.processed != "none" else None
            if said and said not in result.notes:
                result.notes.append(said)
