"""The bureau's mailbox over IMAP (stdlib imaplib, so it runs wherever Python does): log in,
find the new messages, fetch them without setting \\Seen (BODY.PEEK), and wait for new mail
(IDLE when the server offers it).

Nothing here changes the mailbox except the optional 已处理 mark (docs/design.md §8): a
keyword only when PERMANENTFLAGS allows custom keywords (\\*), a move only when MOVE is in
the CAPABILITY asked again after login (imaplib keeps the pre-login list). The mailbox is
opened read-only (EXAMINE) when nothing is to be marked. Errors become MailError sentences
that never include the password.
"""

from __future__ import annotations

import base64
import imaplib
import re
import select
import socket
import ssl
import time
from collections.abc import Callable
from datetime import date

from pipeline.errors import MailError
from pipeline.mail.config import PROCESSED_FOLDER, PROCESSED_KEYWORD, MailConfig

TIMEOUT = 60  # seconds for any one server answer
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
imaplib.Commands.setdefault("ID", ("NONAUTH", "AUTH", "SELECTED"))  # RFC 2971; 163/126 refuse SELECT without it


def utf7(name: str) -> str:
    """A mailbox name in IMAP's modified UTF-7 (RFC 3501 §5.1.3): 已处理 → &XfJZBHQG-."""
    out, buffer = [], ""

    def flush() -> None:
        nonlocal buffer
        if buffer:
            out.append("&" + base64.b64encode(buffer.encode("utf-16-be")).decode().rstrip("=").replace("/", ",") + "-")
            buffer = ""

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            buffer += ch
    flush()
    return "".join(out)


def context(cfg: MailConfig) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cfg.ca_file) if cfg.ca_file else None)


class Mailbox:
    """One logged-in IMAP session on the configured mailbox; a context manager."""

    def __init__(self, cfg: MailConfig):
        self.cfg = cfg
        self.imap: imaplib.IMAP4 | None = None
        self.uidvalidity = 0
        self.uidnext = 0  # the UID the next mail will get: changed means mail came
        self.capabilities: set[str] = set()
        self.permanent_flags = ""

    def __enter__(self) -> Mailbox:
        cfg = self.cfg
        where = f"{cfg.imap_host}:{cfg.imap_port}"
        try:
            if cfg.imap_security == "ssl":
                self.imap = imaplib.IMAP4_SSL(cfg.imap_host, cfg.imap_port, ssl_context=context(cfg), timeout=TIMEOUT)
            else:
                self.imap = imaplib.IMAP4(cfg.imap_host, cfg.imap_port, timeout=TIMEOUT)
                if cfg.imap_security == "starttls":
                    self.imap.starttls(ssl_context=context(cfg))
        except ssl.SSLError as exc:
            raise MailError(f"收信服务器 {where} 的加密连接失败（{exc.reason or exc}）：请核对 imap_security、"
                            "imap_port，测试服务器请在 ca_file 中指定其证书。") from None
        except (OSError, imaplib.IMAP4.error) as exc:
            raise MailError(f"连不上收信服务器 {where}（{exc}）：请核对 imap_host、imap_port 和网络。") from None
        password = cfg.password()
        try:
            self.imap.login(cfg.user, password.reveal())
        except imaplib.IMAP4.error:
            self.close()
            raise MailError(f"收信服务器 {where} 拒绝了账号 {cfg.user} 的登录：请核对 user 和授权码"
                            "（QQ 邮箱、腾讯企业邮须使用授权码或客户端专用密码，并在网页版中开启 IMAP）。") from None
        except OSError as exc:
            self.close()
            raise MailError(f"登录收信服务器 {where} 时连接中断（{exc.__class__.__name__}），请稍后重试。") from None
        try:
            self.capabilities = {c.decode().upper() for c in self.imap.capability()[1][0].split()}
            if "ID" in self.capabilities:
                self.imap._simple_command("ID", '("name" "jiuzhu" "version" "1")')
            readonly = cfg.processed == "none"
            typ, _ = self.imap.select(utf7(cfg.mailbox), readonly=readonly)
            if typ != "OK":
                raise MailError(f"收信服务器上没有邮箱文件夹「{cfg.mailbox}」：请核对 mailbox（通常为 INBOX）。")
            self.uidvalidity = int(self.imap.untagged_responses.get("UIDVALIDITY", [b"0"])[0])
            self.uidnext = int(self.imap.untagged_responses.get("UIDNEXT", [b"0"])[0] or 0)
            flags = self.imap.untagged_responses.get("PERMANENTFLAGS", [b""])
            self.permanent_flags = flags[0].decode(errors="replace") if flags and flags[0] else ""
        except (OSError, imaplib.IMAP4.error) as exc:
            self.close()
            raise MailError(f"读取收信服务器 {where} 的邮箱时出错（{exc}），请稍后重试。") from None
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self.imap is not None:
            try:
                self.imap.logout()
            except (OSError, imaplib.IMAP4.error):
                pass
            self.imap = None

    def search_since(self, since: date) -> list[int]:
        """UIDs of the messages that arrived on or after `since` (the server's INTERNALDATE)."""
        day = f"{since.day}-{MONTHS[since.month - 1]}-{since.year}"
        typ, data = self.imap.uid("SEARCH", None, "SINCE", day)
        if typ != "OK":
            raise MailError(f"收信服务器不接受查询（{data}）。")
        return sorted(int(u) for u in (data[0] or b"").split())

    def sizes(self, uids: list[int]) -> dict[int, int]:
        """RFC822.SIZE of each message, asked before anything is downloaded."""
        out: dict[int, int] = {}
        for start in range(0, len(uids), 200):
            chunk = ",".join(map(str, uids[start:start + 200]))
            typ, data = self.imap.uid("FETCH", chunk, "(RFC822.SIZE)")
            for item in data or []:
                line = item[0] if isinstance(item, tuple) else item
                uid, size = re.search(rb"UID (\d+)", line or b""), re.search(rb"RFC822\.SIZE (\d+)", line or b"")
                if uid and size:
                    out[int(uid[1])] = int(size[1])
        return out

    def fetch(self, uid: int, what: str = "BODY.PEEK[]") -> bytes:
        """The message (or, with BODY.PEEK[HEADER], its header) without setting \\Seen."""
        typ, data = self.imap.uid("FETCH", str(uid), f"({what})")
        for item in data or []:
            if isinstance(item, tuple) and len(item) == 2:
                return item[1]
        raise MailError(f"收信服务器没有返回第 {uid} 封邮件（可能刚被删除）。")

    def can_mark(self) -> bool:
        return "\\*" in self.permanent_flags

    def mark(self, uid: int) -> str | None:
        """The optional 已处理 step for one message; a sentence when the server does not allow it."""
        try:
            return self._mark(uid)
        except imaplib.IMAP4.error as exc:
            return f"邮件没能标为已处理（{exc}），不影响：已取过的邮件不会重复读取。"

    def _mark(self, uid: int) -> str | None:
        mode = self.cfg.processed
        if mode == "move":
            if "MOVE" not in self.capabilities:
                return f"收信服务器不支持 MOVE，邮件没有移到「{PROCESSED_FOLDER}」（已取过的邮件不会重复读取）。"
            folder = utf7(PROCESSED_FOLDER)
            if not any(folder.encode() in (line or b"") for line in self.imap.list('""', folder)[1] or []):
                self.imap.create(folder)
            typ, data = self.imap.uid("MOVE", str(uid), folder)
            return None if typ == "OK" else f"邮件没能移到「{PROCESSED_FOLDER}」（{data}）。"
        if mode == "keyword":
            if not self.can_mark():
                return "收信服务器不允许自定义标记，已取过的邮件没有加标记（不影响：不会重复读取）。"
            self.imap.uid("STORE", str(uid), "+FLAGS.SILENT", f"({PROCESSED_KEYWORD})")
        return None

    def idle(self, seconds: float, stopped: Callable[[], bool]) -> bool:
        """Wait up to `seconds` for the server to announce new mail (IDLE, RFC 2177); False at the
        end of the time or when `stopped()`. Without IDLE on the server, it just waits."""
        end = time.monotonic() + seconds
        if "IDLE" not in self.capabilities:
            while time.monotonic() < end and not stopped():
                time.sleep(min(1.0, max(0.0, end - time.monotonic())))
            return False
        imap = self.imap
        tag = imap._new_tag()
        imap.send(tag + b" IDLE\r\n")
        if not imap.readline().startswith(b"+"):
            raise MailError("收信服务器不接受 IDLE。")
        changed = False
        sock = imap.sock
        try:
            while time.monotonic() < end and not stopped() and not changed:
                pending = isinstance(sock, ssl.SSLSocket) and sock.pending()
                if pending or select.select([sock], [], [], 1.0)[0]:
                    line = imap.readline()
                    if not line:
                        raise MailError("收信服务器断开了连接。")
                    changed = bool(re.match(rb"\* \d+ (EXISTS|RECENT)", line))
        finally:
            imap.send(b"DONE\r\n")
            deadline = time.monotonic() + TIMEOUT
            while time.monotonic() < deadline:
                line = imap.readline()
                if not line or line.startswith(tag):
                    break
        return changed


def alive(box: Mailbox) -> bool:
    """Whether the session still answers (a NOOP), for watch to reconnect when not."""
    try:
        return box.imap is not None and box.imap.noop()[0] == "OK"
    except (OSError, imaplib.IMAP4.error, socket.timeout):
        return False
