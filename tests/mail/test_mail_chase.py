"""催报 (pipeline/mail/chase.py): by the configured weekday and hour, each township that sent
nothing that week gets one short reminder; the one that sent gets none; never twice."""

from __future__ import annotations

import email
import email.policy
from datetime import datetime
from pathlib import Path

from pipeline.demo import synth
from pipeline.mail import chase, config, fetch
from pipeline.rules import townships
from tests.mail import senders
from tests.mail.servers import TOWNSHIP_ADDRESSES
from tests.test_run import AS_OF


def test_the_moment_is_this_weeks_and_only_for_a_day(tmp_path: Path, mailserver, configure):
    cfg = config.load(configure(mailserver, tmp_path, chase="[chase]\nweekday = 5\nhour = 15\n"))
    friday = datetime(2026, 12, 4, 15, 0)
    assert chase.moment(cfg, datetime(2026, 12, 4, 14, 59)) is None       # not yet
    assert chase.moment(cfg, datetime(2026, 12, 4, 15, 30)) == friday
    assert chase.moment(cfg, datetime(2026, 12, 5, 14, 59)) == friday     # the next morning still
    assert chase.moment(cfg, datetime(2026, 12, 5, 15, 0)) is None        # a day late: no more
    assert chase.moment(cfg, datetime(2026, 12, 7, 9, 0)) is None


def test_townships_that_sent_nothing_are_chased_once(tmp_path: Path, mailserver, configure):
    now = datetime.now()
    conf = configure(mailserver, tmp_path / "conf", chase=f"[chase]\nweekday = {now.isoweekday()}\nhour = {now.hour}\n")
    data = synth.make_submission(tmp_path / "城西.xlsx", "城西街道", 3, seed=1, as_of=AS_OF).path.read_bytes()
    mailserver.deliver(senders.qq(TOWNSHIP_ADDRESSES["城西街道"], "城西报表", [("城西1128.xlsx", data)]))
    first = fetch.fetch(config.load(conf), tmp_path / "inbox", tmp_path / "s.sqlite3", now=now)
    others = [t for t in townships.names() if t != "城西街道"]
    assert sorted(o.key.split(":")[2] for o in first.chased) == sorted(others)
    assert {o.status for o in first.chased} == {"sent"}
    mail = email.message_from_bytes(mailserver.messages(TOWNSHIP_ADDRESSES[others[0]])[0], policy=email.policy.default)
    assert str(mail["Subject"]) == f"提醒：请报送本周社会救助主动发现明细表（{others[0]}）"
    assert "尚未收到你单位本周的" in mail.get_body(("plain",)).get_content()
    west = [str(email.message_from_bytes(r, policy=email.policy.default)["Subject"])
            for r in mailserver.messages(TOWNSHIP_ADDRESSES["城西街道"])]
    assert west == ["回执：城西报表"]
    again = fetch.fetch(config.load(conf), tmp_path / "inbox", tmp_path / "s.sqlite3", now=now)
    assert {o.status for o in again.chased} == {"already"}
    assert len(mailserver.messages(TOWNSHIP_ADDRESSES[others[0]])) == 1
