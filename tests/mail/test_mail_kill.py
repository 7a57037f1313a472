"""A fetch or a send killed (SIGKILL) at each checkpoint of the way, as real subprocesses of
`python -m pipeline`: the rerun loses no attachment, saves none twice, and sends no receipt
or township mail twice (one whose fate the kill left unknown is reported, not resent)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.demo import synth
from pipeline.mail import config, fetch, send
from pipeline.reports import packets
from pipeline.run import run
from tests.mail import senders
from tests.mail.servers import PASSWORD, TOWNSHIP_ADDRESSES
from tests.test_run import AS_OF, make_week

SENDERS = ["城西街道", "石会镇"]


def killed_at(stage: str, args: list[str], tmp: Path) -> str:
    """Run `python -m pipeline args`, kill it when it reaches `stage`; its output so far."""
    marker = tmp / f"paused-{stage}"
    env = {**os.environ, "JIUZHU_PAUSE_AT": f"{stage}:{marker}"}
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    assert marker.exists(), f"never reached {stage}: {proc.communicate(timeout=10)[0].decode()}"
    proc.send_signal(signal.SIGKILL)
    out = proc.communicate(timeout=30)[0].decode()
    assert PASSWORD not in out
    return out


@pytest.mark.parametrize("stage", ["mail-downloaded", "mail-recorded", "mail-sending", "mail-sent"])
def test_a_fetch_killed_anywhere_loses_and_repeats_nothing(tmp_path: Path, mailserver, configure, stage: str):
    names = {}
    for n, township in enumerate(SENDERS, start=1):
        data = synth.make_submission(tmp_path / f"{n}.xlsx", township, 3, seed=n, as_of=AS_OF).path.read_bytes()
        names[f"{township}1128.xlsx"] = data
        mailserver.deliver(senders.qq(TOWNSHIP_ADDRESSES[township], f"{township}报表", [(f"{township}1128.xlsx", data)]))
    conf = configure(mailserver, tmp_path / "conf")
    inbox, store = tmp_path / "inbox", tmp_path / "s.sqlite3"
    killed_at(stage, ["mail", "fetch", "--config", str(conf), "--inbox", str(inbox), "--store", str(store)], tmp_path)

    again = fetch.fetch(config.load(conf), inbox, store)
    assert sorted(p.name for p in inbox.iterdir() if p.is_file()) == sorted(names)
    assert all((inbox / n).read_bytes() == d for n, d in names.items())
    assert not any((inbox / fetch.TEMP_DIR).rglob("*.part"))
    receipts = {t: len(mailserver.messages(TOWNSHIP_ADDRESSES[t])) for t in SENDERS}
    if stage == "mail-sending":  # killed with the first receipt recorded as going out, before the server had it
        assert receipts == {SENDERS[0]: 0, SENDERS[1]: 1}
    else:
        assert receipts == dict.fromkeys(SENDERS, 1)
    if stage.startswith("mail-sen"):
        assert any("无法确定是否已发出，没有重发" in note for note in again.notes)
    third = fetch.fetch(config.load(conf), inbox, store)
    assert third.messages == [] and third.receipts == [] and third.notes == []


@pytest.mark.parametrize("stage", ["mail-sending", "mail-sent"])
def test_a_send_killed_anywhere_sends_nothing_twice(tmp_path: Path, mailserver, configure, stage: str):
    inbox, outbox, store = tmp_path / "inbox", tmp_path / "outbox", tmp_path / "s.sqlite3"
    make_week(inbox)
    run(inbox, outbox, store, AS_OF)
    towns = sorted(p.name for p in (outbox / AS_OF.isoformat() / packets.PACKETS_DIR).iterdir())
    conf = configure(mailserver, tmp_path / "conf")
    killed_at(stage, ["mail", "send", "--config", str(conf), "--outbox", str(outbox), "--store", str(store),
                      "--as-of", AS_OF.isoformat()], tmp_path)
    rerun = send.send(config.load(conf), outbox, store, AS_OF)
    [first] = [t for t, o in rerun.outcomes.items() if o.status == "uncertain"]
    assert {o.status for t, o in rerun.outcomes.items() if t != first} == {"sent"}
    got = {t: len(mailserver.messages(TOWNSHIP_ADDRESSES[t])) for t in towns}
    assert got == {t: (stage == "mail-sent") if t == first else 1 for t in towns}
    confirmed = send.send(config.load(conf), outbox, store, AS_OF, resend=(first,))  # the operator checked: resend it
    assert confirmed.outcomes[first].status == "sent"
    assert len(mailserver.messages(TOWNSHIP_ADDRESSES[first])) == got[first] + 1
