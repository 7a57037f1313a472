"""Sending over SMTP, once: each mail is recorded 'sending' in the store just before the server
gets it and 'sent' (or 'failed') right after, so a rerun sends only what did not go, and a
mail whose fate a kill left unknown is never sent twice by itself ('uncertain').

One connection for all the mails of a command, a short pause between mails, and bounded
back-off when the server refuses for a while (4xx, or QQ's and 163's 550/554 "frequency
limited"); an address that does not exist (550 5.1.1) is not tried again.
"""

from __future__ import annotations

import re
import smtplib
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pipeline import publish
from pipeline.errors import MailError
from pipeline.mail import compose
from pipeline.mail.config import MailConfig
from pipeline.mail.imap import context
from pipeline.roster import mailbox, store

TIMEOUT = 60
MAX_BACKOFF = 300.0
RATE_WORDS = re.compile(r"frequen|limit|too many|try again|later|rate|频率|频繁|稍后|过多", re.I)


@dataclass
class Outcome:
    """What became of one mail: sent, failed (why), uncertain (a kill mid-send), or already sent."""

    key: str
    status: str
    recipients: list[str]
    subject: str
    error: str = ""
    refused: list[str] = field(default_factory=list)
    attempts: int = 0


def _why(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "；".join(f"{a} 被拒收（{c} {m.decode(errors='replace') if isinstance(m, bytes) else m}）"
                        for a, (c, m) in exc.recipients.items())
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return f"发信服务器拒绝（{exc.smtp_code} {text}）"
    return f"与发信服务器的连接中断（{exc.__class__.__name__}）"


def _transient(exc: Exception) -> bool:
    """Worth trying again after a pause: a dropped connection, 4xx, or a 5xx that says 'too often'."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code // 100 == 4 or RATE_WORDS.search(str(msg)) for code, msg in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code // 100 == 4 or (exc.smtp_code in (550, 554) and bool(RATE_WORDS.search(str(exc.smtp_error))))
    return isinstance(exc, (smtplib.SMTPServerDisconnected, ConnectionError, socket.timeout, TimeoutError))


class Sender:
    """The bureau's SMTP account, connected on first use; a context manager."""

    def __init__(self, cfg: MailConfig, db, *, resend: frozenset[str] = frozenset()):
        self.cfg, self.db, self.resend = cfg, db, resend
        self.smtp: smtplib.SMTP | None = None
        self.sent_any = False

    def __enter__(self) -> Sender:
        return self

    def __exit__(self, *exc) -> None:
        self._drop()

    def _drop(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self.smtp = None

    def _connect(self) -> smtplib.SMTP:
        cfg = self.cfg
        where = f"{cfg.smtp_host}:{cfg.smtp_port}"
        try:
            if cfg.smtp_security == "ssl":
                smtp = smtplib.SMTP_SSL(cfg.smtp_host, cfg.smtp_port, timeout=TIMEOUT, context=context(cfg))
            else:
                smtp = smtplib.SMTP(cfg.smtp_host, cfg.smtp_port, timeout=TIMEOUT)
                if cfg.smtp_security == "starttls":
                    smtp.starttls(context=context(cfg))
        except ssl.SSLError as exc:
            raise MailError(f"发信服务器 {where} 的加密连接失败（{exc.reason or exc}）：请核对 smtp_security、"
                            "smtp_port，测试服务器请在 ca_file 中指定其证书。") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(f"连不上发信服务器 {where}（{exc.__class__.__name__}）：请核对 smtp_host、smtp_port 和网络。"
                            "没有发出的邮件下次运行时会再发。") from None
        password = cfg.password()
        try:
            smtp.login(cfg.user, password.reveal())
        except smtplib.SMTPAuthenticationError:
            raise MailError(f"发信服务器 {where} 拒绝了账号 {cfg.user} 的登录：请核对 user 和授权码"
                            "（并在邮箱网页版中开启 SMTP）。") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(f"登录发信服务器 {where} 时出错（{exc.__class__.__name__}），请稍后重试。") from None
        return smtp

    def deliver(self, key: str, kind: str, township: str | None, msg, to: list[str],
                on_sent: Callable[[object], None] | None = None) -> Outcome:
        """Send `msg` to `to` once under `key`; `on_sent(db)` runs in the transaction that records it."""
        subject = compose.header_text(msg["Subject"])
        state = mailbox.out_state(self.db, key)
        if state is not None and (state["status"] == "sent" or (state["status"] == "uncertain"
                                                                 and township not in self.resend)):
            return Outcome(key, state["status"] if state["status"] == "uncertain" else "already", to, subject,
                           attempts=state["attempts"])
        if self.sent_any and self.cfg.send_interval_seconds:
            time.sleep(self.cfg.send_interval_seconds)
        data = compose.wire(msg)
        attempt = 0
        while True:
            attempt += 1
            if self.smtp is None:
                self.smtp = self._connect()
            with store.transaction(self.db):
                mailbox.out_begin(self.db, key, kind, township, ", ".join(to), subject, msg["Message-ID"])
            publish.checkpoint("mail-sending")
            try:
                refused = self.smtp.sendmail(self.cfg.address, to, data)
            except (smtplib.SMTPException, OSError) as exc:
                self._drop()
                if _transient(exc) and attempt <= self.cfg.send_retries:
                    with store.transaction(self.db):
                        mailbox.out_done(self.db, key, "failed", _why(exc))
                    time.sleep(min(MAX_BACKOFF, self.cfg.retry_seconds * 2 ** (attempt - 1)))
                    continue
                why = _why(exc) + (f"，重试 {attempt - 1} 次后仍未发出" if attempt > 1 else "")
                with store.transaction(self.db):
                    mailbox.out_done(self.db, key, "failed", why)
                return Outcome(key, "failed", to, subject, why, attempts=attempt)
            publish.checkpoint("mail-sent")
            self.sent_any = True
            lost = sorted(refused)
            note = "；".join(f"{a} 被拒收" for a in lost) or None
            with store.transaction(self.db):
                mailbox.out_done(self.db, key, "sent", note)
                if on_sent:
                    on_sent(self.db)
            return Outcome(key, "sent", [a for a in to if a not in refused], subject, note or "", lost, attempt)
