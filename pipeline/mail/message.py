"""What a fetched mail holds: who sent it, what it is (a submission, a bounce, an auto-reply)
and its attachments under the names the sender meant, whatever their client wrote.

Names as Chinese clients really send them (docs/design.md §8): RFC 2047 encoded-words (QQ
Mail's gb18030 inside quotes), RFC 2231 (`filename*=gbk''%D5…`), raw 8-bit GBK or UTF-8,
and GB2312 labels on GBK text (堃 is not in GB2312), read as GB18030 — in header values
only, never over the bodies. Forwarded mail (message/rfc822) is looked into; a .zip is
unpacked (Windows writes GBK member names without the UTF-8 flag).
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass, field
from email.header import decode_header
from email.message import Message
from email.utils import getaddresses, parseaddr
from pathlib import PurePosixPath

from pipeline import settings

_GB_LABEL = re.compile(r"(=\?)(?:gb2312|gbk|cp936|euc-cn|x-gbk|csgb2312)(\?)", re.I)
_GB_2231 = re.compile(r"(\*=)(?:gb2312|gbk|cp936|euc-cn|x-gbk)(')", re.I)
_UNSAFE = re.compile(r'[\x00-\x1f<>:"/\\|?*]')
BOUNCE_SENDERS = ("mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon")
BOUNCE_SUBJECTS = re.compile(r"退信|系统退信|投递失败|未能送达|undeliver|delivery status notification|"
                             r"mail delivery failed|returned mail|delivery failure|failure notice", re.I)
AUTO_SUBJECTS = re.compile(r"^\s*(自动回复|自动答复|auto(matic)?[ -]?reply|out of (the )?office|休假)", re.I)


@dataclass
class Attachment:
    name: str       # as the sender meant it, made safe for a file name
    original: str   # as the mail gave it (a zip member: 压缩包.zip/成员)
    data: bytes


@dataclass
class Mail:
    message_id: str | None
    references: str
    sender: str           # the address
    reply_to: str         # where a reply goes
    subject: str
    kind: str             # submission | no_attachment | bounce | autoreply
    attachments: list[Attachment] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # a bounce: the addresses it says failed
    notes: list[str] = field(default_factory=list)


def parse(raw: bytes) -> Mail:
    """A message as fetched (RFC822 bytes). Example: parse(raw).attachments[0].name"""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    sender = parseaddr(header_text(msg, "From"))[1]
    reply = getaddresses([header_text(msg, "Reply-To")])
    subject = header_text(msg, "Subject").strip()
    message_id = (header_text(msg, "Message-ID").strip() or None)
    refs = " ".join(header_text(msg, "References").split())
    kind = automatic(msg, sender, subject)
    mail = Mail(message_id, refs, sender, (reply[0][1] if reply and reply[0][1] else sender), subject, kind or "")
    if kind == "bounce":
        mail.failed = failed_addresses(raw)
        return mail
    if kind:
        return mail
    for part in msg.walk():
        name = attachment_name(part)
        if name is None:
            continue
        data = part.get_payload(decode=True) or b""
        if name.lower().endswith(".zip"):
            members = zip_members(data)
            if members is not None:
                mail.attachments.extend(Attachment(safe_name(n), f"{name}/{n}", d) for n, d in members)
                if not members:
                    mail.notes.append(f"压缩包「{name}」中没有可以读取的文件。")
                continue
            mail.notes.append(f"压缩包「{name}」无法解压（可能有密码或已损坏），已原样保存。")
        mail.attachments.append(Attachment(name, name, data))
    mail.kind = "submission" if mail.attachments else "no_attachment"
    return mail


def header_text(msg: Message, name: str) -> str:
    """A header decoded: RFC 2047 words with GB labels read as GB18030, raw 8-bit bytes as
    UTF-8 or else GB18030."""
    for key, value in msg.raw_items():
        if key.lower() == name.lower():
            return decode_words(_raw_text(value)).replace("\r", "").replace("\n", "")
    return ""


def _raw_text(value: str) -> str:
    """A raw header value as its bytes meant it (the parser keeps 8-bit bytes as surrogates)."""
    data = value.encode("ascii", "surrogateescape")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030", "replace")


def decode_words(text: str) -> str:
    """RFC 2047 encoded-words in `text` decoded, GB2312/GBK labels read as GB18030."""
    if "=?" not in text:
        return text
    text = _GB_LABEL.sub(r"\1gb18030\2", text)
    out = []
    for chunk, charset in decode_header(text):
        if isinstance(chunk, bytes):
            try:
                out.append(chunk.decode(charset or "ascii", "replace"))
            except LookupError:  # a charset Python does not know
                out.append(chunk.decode("gb18030", "replace"))
        else:
            out.append(chunk)
    return "".join(out)


def attachment_name(part: Message) -> str | None:
    """The file name of a part that is an attachment, or None (bodies, pictures in the text)."""
    if part.is_multipart() or part.get_content_maintype() == "message":
        return None
    disposition = ""
    name = None
    for key, value in part.raw_items():
        if key.lower() in ("content-disposition", "content-type"):
            fixed = _GB_2231.sub(r"\1gb18030\2", _raw_text(value))
            holder = Message()
            holder[key] = fixed
            found = holder.get_filename() if key.lower() == "content-disposition" else holder.get_param("name")
            if isinstance(found, tuple):  # an RFC 2231 value compat32 did not collapse
                found = email.utils.collapse_rfc2231_value(found)
            if key.lower() == "content-disposition":
                disposition = fixed.split(";")[0].strip().lower()
                name = found or name
            elif found and not name:
                name = found
    if name:
        name = decode_words(str(name)).strip()
    inline_picture = part.get_content_maintype() == "image" and disposition != "attachment" and (
        disposition == "inline" or part.get("Content-ID"))
    if inline_picture or not (name or disposition == "attachment"):
        return None
    return safe_name(name or "附件")


def safe_name(name: str) -> str:
    """A name Windows and Linux both accept, with no folder in it, that a run reads (not hidden).

    Example: safe_name("..\\报表/~$城西.xlsx") == "城西.xlsx"
    """
    name = re.split(r"[\\/]", name)[-1]
    name = _UNSAFE.sub("_", name).strip().rstrip(".")
    while name.startswith((".", settings.LOCK_PREFIX)):  # a run would not see a hidden or ~$ file
        name = name[len(settings.LOCK_PREFIX):] if name.startswith(settings.LOCK_PREFIX) else name[1:]
    stem = PurePosixPath(name).stem.upper()
    if stem in {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}:
        name = f"_{name}"
    return name[:120] or "附件"


def zip_members(data: bytes) -> list[tuple[str, bytes]] | None:
    """The files of a zip attachment (intake/archives.py: GBK names without the UTF-8 flag read as
    GB18030, bombs, passwords, traversal and archives inside refused), or None when it cannot be
    unpacked: then it is kept as it is, and the run says why."""
    from pipeline.errors import InputFileError
    from pipeline.intake.archives import members
    from pipeline.intake.blob import Blob

    try:
        found = members(Blob(PurePosixPath("附件.zip"), data))
    except InputFileError:
        return None
    out = []
    for member in found:
        base = re.split(r"[\\/]", member.name)[-1]
        if base and not base.startswith((".", settings.LOCK_PREFIX)):
            out.append((base, member.data))
    return out


def automatic(msg: Message, sender: str, subject: str) -> str | None:
    """'bounce' for a delivery failure, 'autoreply' for an out-of-office or read receipt (RFC 3834
    Auto-Submitted, X-Autoreply, Precedence), else None: a person wrote it."""
    ctype = msg.get_content_type()
    report = (msg.get_param("report-type") or "").lower() if ctype == "multipart/report" else ""
    local = sender.split("@")[0].lower()
    if report == "delivery-status" or local in BOUNCE_SENDERS or (not sender and BOUNCE_SUBJECTS.search(subject)):
        return "bounce"
    if BOUNCE_SUBJECTS.search(subject) and local.startswith(("mailer", "postmaster", "mail-daemon")):
        return "bounce"
    auto = header_text(msg, "Auto-Submitted").strip().lower()
    precedence = header_text(msg, "Precedence").strip().lower()
    if ((auto and auto != "no") or header_text(msg, "X-Autoreply") or header_text(msg, "X-Autorespond")
            or precedence in ("auto_reply", "bulk", "junk") or report == "disposition-notification"
            or AUTO_SUBJECTS.search(subject)):
        return "autoreply"
    return None


def failed_addresses(raw: bytes) -> list[str]:
    """The recipients a bounce says failed (flufl.bounce knows the formats found in the wild)."""
    from flufl.bounce import scan_message

    try:
        found = scan_message(email.message_from_bytes(raw))
    except Exception:  # noqa: BLE001 - a detector that trips over a strange bounce: no addresses
        return []
    return sorted(a.decode("utf-8", "replace") if isinstance(a, bytes) else str(a) for a in found)
