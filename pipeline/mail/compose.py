"""Mail that jiuzhu writes (receipts, each township's mail, 催报), built so that QQ Mail,
Outlook and Foxmail show the Chinese names: RFC 2231 `filename*` with an RFC 2047 `name=`
fallback, the parts made with email.mime and flattened with compat32 (Python 3.11's
EmailMessage refolds such a Content-Type into a corrupted one: ../shared/mail-testing.md §7).

Every mail says it was written by a program (Auto-Submitted: auto-generated, RFC 3834), so
that auto-replies do not answer it, and a reply is threaded under what it answers.
"""

from __future__ import annotations

import mimetypes
from email import encoders, policy
from email.header import Header, decode_header, make_header
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from urllib.parse import quote

WIRE = policy.compat32.clone(linesep="\r\n")
TYPES = {".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         ".xls": "application/vnd.ms-excel", ".csv": "text/csv", ".zip": "application/zip",
         ".pdf": "application/pdf", ".html": "text/html"}


def attachment(name: str, data: bytes) -> MIMEBase:
    """A file part whose name every client reads: filename*=UTF-8''… and name="=?UTF-8?B?…?=". """
    suffix = name[name.rfind("."):].lower() if "." in name else ""
    ctype = TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"
    part = MIMEBase(*ctype.split("/", 1))
    part.set_payload(data)
    encoders.encode_base64(part)
    words = Header(name, "utf-8").encode(maxlinelen=76).replace("\n ", " ").replace("\r", "")
    part.replace_header("Content-Type", f'{ctype}; name="{words}"')
    part["Content-Disposition"] = f"attachment; filename=\"{words}\"; filename*=UTF-8''{quote(name, safe='')}"
    return part


def compose(sender: str, to: list[str], subject: str, body: str, files: list[tuple[str, bytes]] = (), *,
            in_reply_to: str | None = None, references: str = "") -> MIMEMultipart:
    """A plain-text mail with attachments, from the bureau, marked as written by a program.

    Example: compose(cfg.sender, ["cxjd@example.gov.cn"], "回执：明细表", "已收到。", [("a.xlsx", data)])
    """
    msg = MIMEMultipart()
    name, address = parseaddr(sender)
    msg["From"] = formataddr((name, address), charset="utf-8")
    msg["To"] = ", ".join(to)
    msg["Subject"] = Header(subject, "utf-8")
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(idstring="jiuzhu", domain=address.rpartition("@")[2] or None)
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = " ".join(filter(None, [references, in_reply_to]))
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"  # Outlook: no out-of-office answers to it
    msg["MIME-Version"] = "1.0"
    msg.attach(MIMEText(body, "plain", "utf-8"))
    for file_name, data in files:
        msg.attach(attachment(file_name, data))
    return msg


def header_text(value) -> str:
    """A header as set here (a Header of Chinese text, or plain ASCII), back as text."""
    return str(value) if isinstance(value, Header) else str(make_header(decode_header(str(value))))


def wire(msg: MIMEMultipart) -> bytes:
    """The bytes sent, and written as .eml by a dry run."""
    return msg.as_bytes(policy=WIRE)
