"""Names and kinds of mail as parsed (pipeline/mail/message.py), table by table, no server."""

from __future__ import annotations

import pytest

from pipeline.mail import message
from tests.mail import senders

DATA = b"PK\x03\x04 workbook"
FROM = "clerk@qianjiang.test"


@pytest.mark.parametrize("raw, names", [
    (senders.qq(FROM, "城西街道 11月28日 明细表", [("城西街道明细表1128.xlsx", DATA)]), ["城西街道明细表1128.xlsx"]),
    (senders.rfc2231_gbk(FROM, "正阳", "正阳街道明细表1128.xlsx", DATA), ["正阳街道明细表1128.xlsx"]),
    (senders.raw_gbk(FROM, "石会", "石会镇明细表1128.xlsx", DATA), ["石会镇明细表1128.xlsx"]),
    (senders.gb2312_label(FROM, "王堃", "王堃报送的明细表.xlsx", DATA), ["王堃报送的明细表.xlsx"]),
    (senders.forwarded(FROM, "转发", senders.qq("b@qianjiang.test", "内层", [("濯水镇1128.xlsx", DATA)])),
     ["濯水镇1128.xlsx"]),
    (senders.zipped(FROM, "压缩", "本周.zip", [("黔江区/金溪镇明细表.xlsx", DATA), ("__MACOSX/._x", b""),
                                               ("~$金溪镇明细表.xlsx", b"lock")]), ["金溪镇明细表.xlsx"]),
])
def test_names_are_what_the_sender_meant(raw: bytes, names: list[str]):
    mail = message.parse(raw)
    assert mail.kind == "submission" and [a.name for a in mail.attachments] == names
    assert all(a.data == DATA for a in mail.attachments)


def test_a_gb2312_label_read_as_gb2312_would_garble_the_name():
    word = senders._word("王堃", "gb2312")
    assert message.decode_words(word) == "王堃"
    assert "堃" not in "王堃".encode("gb18030").decode("gb2312", "replace")


def test_bounces_and_auto_replies_are_not_submissions():
    bounce = message.parse(senders.bounce("gone@qianjiang.test"))
    assert (bounce.kind, bounce.failed, bounce.attachments) == ("bounce", ["gone@qianjiang.test"], [])
    auto = message.parse(senders.auto_reply(FROM, "回执：报表"))
    assert auto.kind == "autoreply"
    assert message.parse(senders.qq(FROM, "没有附件", [])).kind == "no_attachment"


@pytest.mark.parametrize("given, safe", [("..\\报表/~$城西.xlsx", "城西.xlsx"), (".hidden.xlsx", "hidden.xlsx"),
                                         ("CON.xlsx", "_CON.xlsx"), ("a:b?.xlsx", "a_b_.xlsx"), ("...", "附件")])
def test_a_name_is_safe_on_windows_and_seen_by_the_run(given: str, safe: str):
    assert message.safe_name(given) == safe


def test_an_encrypted_or_broken_zip_is_kept_as_it_is():
    assert message.zip_members(b"PK\x03\x04 not really") is None
    mail = message.parse(senders.qq(FROM, "坏包", [("坏.zip", b"PK\x03\x04 not really")]))
    assert [a.name for a in mail.attachments] == ["坏.zip"] and "无法解压" in mail.notes[0]
