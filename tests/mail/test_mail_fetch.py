"""jiuzhu mail fetch against real Dovecot and aiosmtpd: each sender style's attachment saved
under the name its sender meant, nothing fetched twice, bounces and auto-replies recognised,
an oversized mail refused before download, and a receipt per submission read back over IMAP."""

from __future__ import annotations

import email
import email.policy
import sqlite3
from datetime import date
from pathlib import Path

from pipeline.demo import synth
from pipeline.mail import config, fetch
from tests.mail import senders
from tests.mail.servers import BUREAU, PASSWORD, TOWNSHIP_ADDRESSES

AS_OF = date(2026, 11, 28)


def workbook(tmp: Path, township: str, n: int = 4, seed: int = 1, **kw) -> bytes:
    return synth.make_submission(tmp / f"{township}.xlsx", township, n, seed=seed, as_of=AS_OF, **kw).path.read_bytes()


def week_of_styles(tmp: Path, servers) -> dict[str, bytes]:
    """Deliver one mail of each style; the files each should give, by name."""
    a = TOWNSHIP_ADDRESSES
    files = {
        "城西街道社会救助主动发现明细表1128.xlsx": workbook(tmp, "城西街道", seed=1),
        "正阳街道明细表1128.xlsx": workbook(tmp, "正阳街道", seed=2),
        "石会镇明细表1128.xlsx": workbook(tmp, "石会镇", seed=3, errors={"required": 1}),
        "王堃报送的濯水镇明细表.xlsx": workbook(tmp, "濯水镇", seed=4),
        "金溪镇1128.xlsx": workbook(tmp, "金溪镇", seed=5),
        "太极镇明细表.xlsx": workbook(tmp, "太极镇", seed=6),
        "黎水镇零报告.xlsx": synth.write_zero_report(tmp / "黎水.xlsx", "黎水镇", filled_date=AS_OF).path.read_bytes(),
    }
    n = list(files)
    servers.deliver(senders.qq(f"城西街道 <{a['城西街道']}>", "城西街道 11月28日 明细表", [(n[0], files[n[0]])]))
    servers.deliver(senders.rfc2231_gbk(a["正阳街道"], "正阳街道明细表", n[1], files[n[1]]))
    servers.deliver(senders.raw_gbk(a["石会镇"], "石会镇报表", n[2], files[n[2]]))
    servers.deliver(senders.gb2312_label(a["濯水镇"], "王堃报送", n[3], files[n[3]]))
    inner = senders.qq("someone@qianjiang.test", "金溪镇报表", [(n[4], files[n[4]])])
    servers.deliver(senders.forwarded(a["金溪镇"], "转发：金溪镇报表", inner))
    servers.deliver(senders.zipped("stranger@qianjiang.test", "太极镇、黎水镇报表", "本周报表.zip",
                                   [(f"报表/{n[5]}", files[n[5]]), (n[6], files[n[6]])]))
    servers.deliver(senders.qq(a["冯家街道"], "冯家街道 大附件", [("冯家街道1128.xlsx", b"x" * (1024 * 1024 + 10))]))
    servers.deliver(senders.bounce("nobody@elsewhere.test"), sender="")
    servers.deliver(senders.auto_reply(a["舟白街道"], "回执：舟白街道报表"))
    return files


def test_every_sender_style_lands_under_its_name_and_is_answered(tmp_path: Path, mailserver, configure):
    files = week_of_styles(tmp_path / "made", mailserver)
    cfg = config.load(configure(mailserver, tmp_path / "conf", extra="max_message_mb = 1"))
    inbox, store = tmp_path / "inbox", tmp_path / "s.sqlite3"
    result = fetch.fetch(cfg, inbox, store)

    assert sorted(p.name for p in inbox.iterdir() if p.is_file()) == sorted(files)
    for name, data in files.items():
        assert (inbox / name).read_bytes() == data
    kinds = sorted(m.kind for m in result.messages)
    assert kinds == ["autoreply", "bounce", "submission", "submission", "submission", "submission", "submission",
                     "submission", "too_large"]
    bounce = next(m for m in result.messages if m.kind == "bounce")
    assert bounce.failed == ["nobody@elsewhere.test"]
    stranger = next(m for m in result.messages if m.sender == "stranger@qianjiang.test")
    assert stranger.township is None and [saved for _, saved in stranger.files] == ["太极镇明细表.xlsx", "黎水镇零报告.xlsx"]

    # One receipt per submission and for the oversized mail; none to the bounce or the auto-reply.
    assert sorted(o.status for o in result.receipts) == ["sent"] * 7
    shihui = [email.message_from_bytes(r, policy=email.policy.default) for r in mailserver.messages(TOWNSHIP_ADDRESSES["石会镇"])]
    assert len(shihui) == 1
    receipt = shihui[0]
    assert str(receipt["Subject"]) == "回执：石会镇报表"
    assert receipt["Auto-Submitted"] == "auto-generated"
    original = next(m for m in mailserver.messages(BUREAU) if b"Subject: =?gb18030" in m and "石会镇报表".encode("gb18030")
                    in _subject_bytes(m))
    mid = email.message_from_bytes(original, policy=email.policy.default)["Message-ID"]
    assert receipt["In-Reply-To"] == mid and mid in receipt["References"]
    text = receipt.get_body(("plain",)).get_content()
    assert "石会镇明细表1128.xlsx（石会镇）：部分退回，共 4 行，合格 3 行，需修改 1 行。" in text
    assert "必填项为空" in text
    assert [p.get_filename() for p in receipt.iter_attachments()] == ["石会镇明细表1128_退回意见.xlsx"]
    west = email.message_from_bytes(mailserver.messages(TOWNSHIP_ADDRESSES["城西街道"])[0], policy=email.policy.default)
    assert "全部通过，共 4 行，合格 4 行，需修改 0 行。" in west.get_body(("plain",)).get_content()
    assert list(west.iter_attachments()) == []
    big = email.message_from_bytes(mailserver.messages(TOWNSHIP_ADDRESSES["冯家街道"])[0], policy=email.policy.default)
    assert "超过 1 MB 的上限，没有下载" in big.get_body(("plain",)).get_content()
    assert mailserver.messages(TOWNSHIP_ADDRESSES["舟白街道"]) == []

    # Fetching again downloads nothing and answers no one twice.
    again = fetch.fetch(cfg, inbox, store)
    assert again.messages == [] and again.receipts == [] and again.known == 9
    assert sorted(p.name for p in inbox.iterdir() if p.is_file()) == sorted(files)
    assert len(mailserver.messages(TOWNSHIP_ADDRESSES["石会镇"])) == 1
    # The mailbox is as it was: nothing marked \Seen, nothing moved or deleted.
    imap = mailserver.login()
    imap.select("INBOX", readonly=True)
    assert len(imap.uid("SEARCH", None, "ALL")[1][0].split()) == 9
    assert imap.uid("SEARCH", None, "SEEN")[1][0] == b""
    imap.logout()


def _subject_bytes(raw: bytes) -> bytes:
    subject = email.message_from_bytes(raw, policy=email.policy.default)["Subject"]
    return str(subject).encode("gb18030")


def test_a_name_already_in_the_inbox_gets_a_number(tmp_path: Path, mailserver, configure):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "附件.xlsx").write_bytes(b"the operator's own")
    data = workbook(tmp_path, "城南街道")
    for township in ("城南街道", "城东街道"):
        mailserver.deliver(senders.qq(TOWNSHIP_ADDRESSES[township], "报表", [("附件.xlsx", data + township.encode())]))
    cfg = config.load(configure(mailserver, tmp_path / "conf"))
    fetch.fetch(cfg, inbox, tmp_path / "s.sqlite3", receipts_too=False)
    assert sorted(p.name for p in inbox.iterdir() if p.is_file()) == ["附件.xlsx", "附件（2）.xlsx", "附件（3）.xlsx"]
    assert (inbox / "附件.xlsx").read_bytes() == b"the operator's own"


def test_a_changed_uidvalidity_fetches_nothing_again(tmp_path: Path, mailserver, configure):
    mailserver.deliver(senders.qq(TOWNSHIP_ADDRESSES["城西街道"], "报表", [("城西1128.xlsx", workbook(tmp_path, "城西街道"))]))
    cfg = config.load(configure(mailserver, tmp_path / "conf"))
    inbox, store = tmp_path / "inbox", tmp_path / "s.sqlite3"
    assert len(fetch.fetch(cfg, inbox, store).messages) == 1
    with sqlite3.connect(store) as db:  # as when the mailbox is rebuilt: every UID is new
        db.execute("UPDATE mail_messages SET uidvalidity = uidvalidity + 1")
    again = fetch.fetch(cfg, inbox, store)
    assert [m.kind for m in again.messages] == ["seen"] and again.receipts == []
    assert [p.name for p in inbox.iterdir() if p.is_file()] == ["城西1128.xlsx"]


def test_processed_mail_gets_the_keyword_or_moves(tmp_path: Path, mailserver, configure):
    data = workbook(tmp_path, "城西街道")
    mailserver.deliver(senders.qq(TOWNSHIP_ADDRESSES["城西街道"], "报表", [("城西1128.xlsx", data)]))
    cfg = config.load(configure(mailserver, tmp_path / "a", extra='processed = "keyword"'))
    fetch.fetch(cfg, tmp_path / "inbox", tmp_path / "s.sqlite3", receipts_too=False)
    imap = mailserver.login()
    imap.select("INBOX", readonly=True)
    assert len(imap.uid("SEARCH", None, "KEYWORD", "JiuzhuDone")[1][0].split()) == 1
    assert imap.uid("SEARCH", None, "SEEN")[1][0] == b""
    imap.logout()
    cfg = config.load(configure(mailserver, tmp_path / "b", extra='processed = "move"'))
    fetch.fetch(cfg, tmp_path / "inbox2", tmp_path / "s2.sqlite3", receipts_too=False)
    assert mailserver.messages(BUREAU) == [] and len(mailserver.messages(BUREAU, "&XfJZBHQG-")) == 1


def test_the_password_shows_nowhere(tmp_path: Path, mailserver, configure):
    week_of_styles(tmp_path / "made", mailserver)
    cfg = config.load(configure(mailserver, tmp_path / "conf", extra="max_message_mb = 1"))
    result = fetch.fetch(cfg, tmp_path / "inbox", tmp_path / "s.sqlite3")
    assert PASSWORD not in repr(result) and PASSWORD not in repr(cfg) and PASSWORD not in str(cfg.password())
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.name != "授权码.txt":
            assert PASSWORD.encode() not in path.read_bytes(), path


def test_a_refused_login_is_told_in_chinese_without_the_password(tmp_path: Path, mailserver, configure):
    from click.testing import CliRunner

    from pipeline.cli import main

    conf = configure(mailserver, tmp_path / "conf")
    (tmp_path / "conf" / "授权码.txt").write_text("wrong-authcode-5d2b\n")
    for args in (["mail", "fetch", "--inbox", str(tmp_path / "inbox")],):
        result = CliRunner().invoke(main, [*args, "--config", str(conf), "--store", str(tmp_path / "s.sqlite3")])
        assert result.exit_code == 1
        assert "拒绝了账号 mzj@qianjiang.test 的登录：请核对 user 和授权码" in result.output
        assert "wrong-authcode-5d2b" not in result.output and PASSWORD not in result.output
        assert "Traceback" not in result.output
