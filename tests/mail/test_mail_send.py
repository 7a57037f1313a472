"""jiuzhu mail send and run --mail against real servers: one mail per township with its own
packet, names readable back over IMAP, a dry run that writes the exact messages, a rerun that
sends only what failed, rate limits retried, unknown addresses reported, the 催办通知 issued."""

from __future__ import annotations

import email
import email.policy
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from pipeline.cli import main
from pipeline.mail import config, send
from pipeline.reports import packets
from pipeline.rules import townships
from pipeline.run import run
from tests.mail.servers import PASSWORD, TOWNSHIP_ADDRESSES
from tests.test_run import AS_OF, make_week


def _read(raw: bytes):
    return email.message_from_bytes(raw, policy=email.policy.default)


def test_each_township_gets_its_own_packet_once(tmp_path: Path, mailserver, configure):
    inbox, outbox, store = tmp_path / "inbox", tmp_path / "outbox", tmp_path / "s.sqlite3"
    make_week(inbox)
    result = run(inbox, outbox, store, AS_OF)
    cfg = config.load(configure(mailserver, tmp_path / "conf", smtp="starttls"))
    dry = send.send(cfg, outbox, store, AS_OF, dry_run=True)
    with_packets = [p.name for p in (result.outdir / packets.PACKETS_DIR).iterdir()]
    assert sorted(dry.written) == sorted(with_packets) and all(p.is_file() for p in dry.written.values())
    assert all(mailserver.messages(TOWNSHIP_ADDRESSES[t]) == [] for t in with_packets)  # nothing sent

    done = send.send(cfg, outbox, store, AS_OF, today=AS_OF)
    assert {t: o.status for t, o in done.outcomes.items()} == dict.fromkeys(with_packets, "sent")
    for township in with_packets:
        [raw] = mailserver.messages(TOWNSHIP_ADDRESSES[township])
        mail = _read(raw)
        expected = [p.name for p in packets.packet_files(result.outdir, township)]
        assert [p.get_filename() for p in mail.iter_attachments()] == expected
        for part, path in zip(mail.iter_attachments(), packets.packet_files(result.outdir, township)):
            assert part.get_content() == path.read_bytes()
            assert part.get_content_type() == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        assert str(mail["Subject"]) == f"黔江区民政局：2026年11月28日社会救助主动发现工作反馈（{township}）"
        dry_mail = _read(dry.written[township].read_bytes())  # the dry run wrote this very message
        assert [p.get_filename() for p in dry_mail.iter_attachments()] == expected
        assert dry_mail.get_body(("plain",)).get_content() == mail.get_body(("plain",)).get_content()
    # Sending again sends nothing; the letters mailed count as issued on the day they went out.
    again = send.send(cfg, outbox, store, AS_OF, today=AS_OF)
    assert {o.status for o in again.outcomes.values()} == {"already"}
    assert all(len(mailserver.messages(TOWNSHIP_ADDRESSES[t])) == 1 for t in with_packets)
    with sqlite3.connect(store) as db:
        issued = db.execute("SELECT DISTINCT issued_on, issued_by FROM reminder_letters").fetchall()
        reminded = db.execute("SELECT count(*) FROM reminders").fetchone()[0]
    assert issued == [("2026-11-28", "mail")] and reminded == result.report["roster"]["overdue"]


def test_refusals_are_retried_reported_and_sent_on_the_rerun(tmp_path: Path, mailserver, configure):
    inbox, outbox, store = tmp_path / "inbox", tmp_path / "outbox", tmp_path / "s.sqlite3"
    make_week(inbox)
    run(inbox, outbox, store, AS_OF)
    folders = {p.name for p in (outbox / AS_OF.isoformat() / packets.PACKETS_DIR).iterdir()}
    towns = [t for t in townships.names() if t in folders]  # the order they are sent in
    wrong = dict(TOWNSHIP_ADDRESSES, **{towns[0]: "nosuchbox@qianjiang.test"})
    cfg = config.load(configure(mailserver, tmp_path / "conf", addresses=wrong, extra="send_retries = 2"))
    mailserver.handler.refuse_next = 2  # QQ's "frequency limited" twice: the first mail is retried, then goes
    first = send.send(cfg, outbox, store, AS_OF)
    assert first.outcomes[towns[0]].status == "failed" and "nosuchbox@qianjiang.test 被拒收（550" in \
        first.outcomes[towns[0]].error
    assert all(first.outcomes[t].status == "sent" for t in towns[1:])
    assert first.outcomes[towns[1]].attempts == 3
    fixed = config.load(configure(mailserver, tmp_path / "conf2"))
    second = send.send(fixed, outbox, store, AS_OF)
    assert second.outcomes[towns[0]].status == "sent" and {second.outcomes[t].status for t in towns[1:]} == {"already"}
    assert all(len(mailserver.messages(TOWNSHIP_ADDRESSES[t])) == 1 for t in towns)


def test_send_refuses_a_date_without_packets_and_says_why(tmp_path: Path, mailserver, configure):
    conf = configure(mailserver, tmp_path / "conf")
    result = CliRunner().invoke(main, ["mail", "send", "--config", str(conf), "--outbox", str(tmp_path / "out"),
                                       "--store", str(tmp_path / "s.sqlite3"), "--as-of", "2026-11-28"])
    assert result.exit_code == 1 and "请先运行 jiuzhu run --as-of 2026-11-28" in result.output
    assert PASSWORD not in result.output
