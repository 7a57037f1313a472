"""Mails as Chinese clients really write them (../shared/mail-testing.md §4), generated here
byte for byte, each carrying real workbooks: QQ Mail's gb18030 encoded-words, RFC 2231 GBK,
raw 8-bit GBK names, GB2312 labels on GBK text (堃), a forwarded mail, a Windows zip with GBK
member names, an oversized mail, a bounce and an auto-reply. Addresses are of qianjiang.test."""

from __future__ import annotations

import base64
import io
import zipfile
from email.utils import formatdate, make_msgid
from urllib.parse import quote

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BUREAU = "mzj@qianjiang.test"


def _b64(data: bytes) -> str:
    text = base64.b64encode(data).decode()
    return "\r\n".join(text[i:i + 76] for i in range(0, len(text), 76))


def _word(text: str, charset: str = "gb18030") -> str:
    return f"=?{charset}?B?{base64.b64encode(text.encode('gb18030')).decode()}?="


def _head(sender: str, subject_header: str, message_id: str, extra: str = "") -> bytes:
    return (f"From: {sender}\r\nTo: {BUREAU}\r\nSubject: {subject_header}\r\nDate: {formatdate(localtime=True)}\r\n"
            f"Message-ID: {message_id}\r\nMIME-Version: 1.0\r\n{extra}").encode()


def _multipart(head: bytes, parts: list[bytes], subtype: str = "mixed", params: str = "") -> bytes:
    boundary = "----=_jiuzhu_test_boundary"
    body = b"".join(b"--" + boundary.encode() + b"\r\n" + p + b"\r\n" for p in parts)
    return (head + f'Content-Type: multipart/{subtype}; boundary="{boundary}"{params}\r\n\r\n'.encode()
            + b"This is a multi-part message.\r\n" + body + b"--" + boundary.encode() + b"--\r\n")


def _text(body: str) -> bytes:
    return (b"Content-Type: text/plain; charset=gb18030\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + _b64(body.encode("gb18030")).encode() + b"\r\n")


def _file(type_params: bytes, disposition: bytes, data: bytes, ctype: str = XLSX) -> bytes:
    return (f"Content-Type: {ctype}".encode() + type_params + b"\r\nContent-Transfer-Encoding: base64\r\n"
            b"Content-Disposition: attachment" + disposition + b"\r\n\r\n" + _b64(data).encode() + b"\r\n")


def qq(sender: str, subject: str, files: list[tuple[str, bytes]], message_id: str | None = None) -> bytes:
    """QQ Mail: gb18030 encoded-words inside quotes in both headers, subject likewise."""
    parts = [_text("附件是本周的明细表，请查收。")]
    for name, data in files:
        word = _word(name).encode()
        parts.append(_file(b'; name="' + word + b'"', b'; filename="' + word + b'"', data))
    return _multipart(_head(sender, _word(subject), message_id or make_msgid(domain="qianjiang.test")), parts)


def rfc2231_gbk(sender: str, subject: str, name: str, data: bytes) -> bytes:
    encoded = quote(name.encode("gbk"), safe="").encode()
    part = _file(b"", b"; filename*=gbk''" + encoded, data)
    return _multipart(_head(sender, _word(subject, "gbk"), make_msgid(domain="qianjiang.test")), [_text("见附件。"), part])


def raw_gbk(sender: str, subject: str, name: str, data: bytes) -> bytes:
    """An old client: the name's GBK bytes straight in the header (against the RFCs)."""
    raw = name.encode("gbk")
    part = _file(b'; name="' + raw + b'"', b'; filename="' + raw + b'"', data)
    return _multipart(_head(sender, _word(subject), make_msgid(domain="qianjiang.test")), [_text("见附件。"), part])


def gb2312_label(sender: str, subject: str, name: str, data: bytes) -> bytes:
    """GBK text labelled GB2312 (堃 is outside GB2312): read as GB18030 or it is mojibake."""
    word = _word(name, "gb2312").encode()
    part = _file(b'; name="' + word + b'"', b'; filename="' + word + b'"', data)
    return _multipart(_head(sender, _word(subject, "gb2312"), make_msgid(domain="qianjiang.test")), [_text("见附件。"), part])


def forwarded(sender: str, subject: str, inner: bytes) -> bytes:
    part = b"Content-Type: message/rfc822\r\nContent-Disposition: inline\r\n\r\n" + inner
    return _multipart(_head(sender, _word(subject), make_msgid(domain="qianjiang.test")), [_text("转发：见下。"), part])


def gbk_zip(files: list[tuple[str, bytes]]) -> bytes:
    """A zip as Windows' 发送到 → 压缩文件 writes it: GBK names, no UTF-8 flag."""
    out = io.BytesIO()
    names = []
    with zipfile.ZipFile(out, "w") as archive:  # ASCII stand-ins of the GBK names' length, swapped below
        for n, (name, data) in enumerate(files):
            gbk = name.encode("gbk")
            names.append((f"{n}".rjust(len(gbk), "_").encode(), gbk))
            archive.writestr(zipfile.ZipInfo(names[-1][0].decode(), date_time=(2026, 11, 27, 9, 0, 0)), data)
    raw = out.getvalue()
    for stand_in, gbk in names:
        raw = raw.replace(stand_in, gbk)
    return raw


def zipped(sender: str, subject: str, zip_name: str, files: list[tuple[str, bytes]]) -> bytes:
    word = _word(zip_name).encode()
    part = _file(b'; name="' + word + b'"', b'; filename="' + word + b'"', gbk_zip(files), "application/zip")
    return _multipart(_head(sender, _word(subject), make_msgid(domain="qianjiang.test")), [_text("压缩包。"), part])


def bounce(failed: str) -> bytes:
    head = _head("Mail Delivery System <MAILER-DAEMON@qianjiang.test>", "Undelivered Mail Returned to Sender",
                 make_msgid(domain="qianjiang.test"), "Auto-Submitted: auto-replied\r\n")
    notice = b"Content-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n"
    status = (b"Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; qianjiang.test\r\n\r\n"
              b"Final-Recipient: rfc822; " + failed.encode() + b"\r\nOriginal-Recipient: rfc822;" + failed.encode()
              + b"\r\nAction: failed\r\nStatus: 5.1.1\r\n")
    return _multipart(head, [notice, status], "report", "; report-type=delivery-status")


def auto_reply(sender: str, subject: str) -> bytes:
    head = _head(sender, _word(f"自动回复：{subject}"), make_msgid(domain="qianjiang.test"),
                 "Auto-Submitted: auto-replied\r\nX-Autoreply: yes\r\n")
    return head + _text("您好，我近期休假，邮件已收到，回来后处理。")
