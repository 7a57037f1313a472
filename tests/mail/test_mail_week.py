"""Done means (issue 15): a week of 30 townships delivered as mail goes, with `jiuzhu run
--mail`, to the same outputs as the same files dropped by hand, plus one receipt per
submission and one mail per township with its own attachments; and `jiuzhu mail watch`
answers a mail within seconds and stops cleanly on Ctrl-C."""

from __future__ import annotations

import email
import email.policy
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from pipeline.cli import main
from pipeline.demo import synth
from pipeline.reports import packets
from pipeline.rules import townships
from pipeline.run import run
from tests.mail import senders
from tests.mail.servers import PASSWORD, TOWNSHIP_ADDRESSES
from tests.test_run import AS_OF, snapshot

STYLES = (senders.qq, senders.rfc2231_gbk, senders.raw_gbk, senders.gb2312_label)


def deliver_week(servers, folder: Path) -> list[Path]:
    """Every township's file of the week, each mailed from its own address in one of the styles."""
    subs = synth.make_district(folder, rows_per_township=6, seed=7, as_of=AS_OF,
                               errors={"石会镇": {"required": 1}, "濯水镇": {"invalid_id": 1}})
    for n, sub in enumerate(subs):
        style = STYLES[n % len(STYLES)]
        data = sub.path.read_bytes()
        address = TOWNSHIP_ADDRESSES[sub.township]
        raw = (style(address, f"{sub.township}本周明细表", [(sub.path.name, data)]) if style is senders.qq
               else style(address, f"{sub.township}本周明细表", sub.path.name, data))
        servers.deliver(raw)
    return [s.path for s in subs]


def test_a_week_by_mail_gives_the_outputs_of_the_same_files_by_hand(tmp_path: Path, mailserver, configure):
    files = deliver_week(mailserver, tmp_path / "by-hand" / "inbox")
    hand = run(tmp_path / "by-hand" / "inbox", tmp_path / "by-hand" / "outbox", tmp_path / "by-hand" / "s.sqlite3", AS_OF)

    conf = configure(mailserver, tmp_path / "conf")
    mail = tmp_path / "by-mail"
    result = CliRunner().invoke(main, ["run", "--mail", "--config", str(conf), "--inbox", str(mail / "inbox"),
                                       "--outbox", str(mail / "outbox"), "--store", str(mail / "s.sqlite3"),
                                       "--as-of", AS_OF.isoformat()])
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    assert f"收取新邮件 {len(files)} 封，附件 {len(files)} 个。" in result.output
    assert sorted(p.name for p in (mail / "inbox" / "archive" / AS_OF.isoformat()).iterdir()) == \
        sorted(p.name for p in files)
    assert snapshot(mail / "outbox" / AS_OF.isoformat()) == snapshot(hand.outdir)

    with_packets = [t for t in townships.names() if packets.packet_files(hand.outdir, t)]
    assert f"发出 {len(with_packets)} 封" in result.output
    for township in townships.names():
        got = [email.message_from_bytes(r, policy=email.policy.default)
               for r in mailserver.messages(TOWNSHIP_ADDRESSES[township])]
        receipts = [m for m in got if str(m["Subject"]).startswith("回执：")]
        weekly = [m for m in got if not str(m["Subject"]).startswith("回执：")]
        assert [str(m["Subject"]) for m in receipts] == [f"回执：{township}本周明细表"]
        expected = [p.name for p in packets.packet_files(hand.outdir, township)]
        assert [[p.get_filename() for p in m.iter_attachments()] for m in weekly] == ([expected] if expected else [])


def test_watch_answers_at_once_and_stops_on_ctrl_c(tmp_path: Path, mailserver, configure):
    conf = configure(mailserver, tmp_path / "conf", extra="poll_seconds = 60")  # a miss would wait a minute
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", "mail", "watch", "--config", str(conf), "--inbox",
                             str(tmp_path / "inbox"), "--store", str(tmp_path / "s.sqlite3")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=dict(os.environ))
    try:
        time.sleep(3)  # its first pass (nothing yet), then it waits on IDLE
        data = synth.make_submission(tmp_path / "城西.xlsx", "城西街道", 3, seed=1, as_of=AS_OF).path.read_bytes()
        # The second mail comes the moment the first is answered, while the pass is ending: it
        # must not wait for the next minute.
        for township, name in (("城西街道", "城西1128.xlsx"), ("城东街道", "城东1128.xlsx")):
            sent = time.monotonic()
            mailserver.deliver(senders.qq(TOWNSHIP_ADDRESSES[township], "报表", [(name, data)]))
            while time.monotonic() - sent < 60 and not mailserver.messages(TOWNSHIP_ADDRESSES[township]):
                time.sleep(0.1)
            assert time.monotonic() - sent < 20, township
        proc.send_signal(signal.SIGINT)
        out = proc.communicate(timeout=30)[0].decode()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    assert "已停止" in out and "城西1128.xlsx" in out and "Traceback" not in out and PASSWORD not in out
    assert (tmp_path / "inbox" / "城西1128.xlsx").read_bytes() == data


def test_a_mail_that_comes_while_a_pass_ends_does_not_wait_for_the_next_minute(tmp_path: Path, mailserver, configure):
    from pipeline.mail import config
    from pipeline.mail.watch import watch

    cfg = config.load(configure(mailserver, tmp_path / "conf", extra="poll_seconds = 60"))
    data = synth.make_submission(tmp_path / "城西.xlsx", "城西街道", 3, seed=1, as_of=AS_OF).path.read_bytes()
    seen = []

    def after_pass(result) -> None:  # between a pass and its wait: the moment a new mail could be missed
        seen.append([m.sender for m in result.messages])
        if len(seen) == 1:
            mailserver.deliver(senders.qq(TOWNSHIP_ADDRESSES["城西街道"], "报表", [("城西1128.xlsx", data)]))

    start = time.monotonic()
    assert watch(cfg, tmp_path / "inbox", tmp_path / "s.sqlite3", on_pass=after_pass, passes=2) == 2
    assert time.monotonic() - start < 20
    assert seen == [[], [TOWNSHIP_ADDRESSES["城西街道"]]]
