"""Mail figures against real local servers (Dovecot + aiosmtpd on 127.0.0.1, as the tests use):

    python benchmarks/bench_mail.py [--rows 8] [--watch-mails 5]

- fetch: 30 township mails (one workbook each, QQ Mail style) into a fresh inbox and store,
  without receipts, then the same with the receipts (each file checked, 30 replies sent);
- send: after the week's run, one mail per township with its packet (jiuzhu mail send);
- watch: `jiuzhu mail watch` running as a process; mails delivered one at a time, each timed
  from delivery until its receipt is in the township's mailbox (median and worst).
The machine is shared: compare runs on the same machine.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.demo import synth  # noqa: E402
from pipeline.mail import config, fetch, send  # noqa: E402
from pipeline.run import run  # noqa: E402
from tests.mail import senders  # noqa: E402
from tests.mail.servers import TOWNSHIP_ADDRESSES, started, write_config  # noqa: E402

AS_OF = synth.AS_OF


def deliver_week(servers, folder: Path, rows: int) -> int:
    subs = synth.make_district(folder, rows_per_township=rows, seed=3, as_of=AS_OF,
                               errors={"石会镇": {"required": 1}})
    for sub in subs:
        servers.deliver(senders.qq(TOWNSHIP_ADDRESSES[sub.township], f"{sub.township}本周明细表",
                                   [(sub.path.name, sub.path.read_bytes())]))
    return len(subs)


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=8)
    parser.add_argument("--watch-mails", type=int, default=5)
    args = parser.parse_args()
    with started() as servers, tempfile.TemporaryDirectory(prefix="jz-bench-mail-") as tmp:
        tmp = Path(tmp)
        cfg = config.load(write_config(servers, tmp / "conf"))
        n = deliver_week(servers, tmp / "made", args.rows)
        took, got = timed(lambda: fetch.fetch(cfg, tmp / "a" / "inbox", tmp / "a" / "s.sqlite3", receipts_too=False))
        print(f"fetch {len(got.messages)} mails ({got.files} attachments), no receipts: {took:.2f} s")
        took, got = timed(lambda: fetch.fetch(cfg, tmp / "b" / "inbox", tmp / "b" / "s.sqlite3"))
        sent = sum(o.status == "sent" for o in got.receipts)
        print(f"fetch {len(got.messages)} mails with their receipts ({sent} sent): {took:.2f} s")
        week = run(tmp / "b" / "inbox", tmp / "b" / "outbox", tmp / "b" / "s.sqlite3", AS_OF)
        took, done = timed(lambda: send.send(cfg, tmp / "b" / "outbox", tmp / "b" / "s.sqlite3", week.as_of))
        files = sum(len(f) for f in done.files.values())
        print(f"send {sum(o.status == 'sent' for o in done.outcomes.values())} township mails ({files} attachments): "
              f"{took:.2f} s")
        servers.clear()
        latencies = watch_latency(servers, tmp, args.watch_mails)
        print(f"watch: receipt latency over {len(latencies)} mails: median {statistics.median(latencies):.2f} s, "
              f"worst {max(latencies):.2f} s")
        assert n == 30


def watch_latency(servers, tmp: Path, mails: int) -> list[float]:
    conf = write_config(servers, tmp / "watch", extra="poll_seconds = 60")
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", "mail", "watch", "--config", str(conf),
                             "--inbox", str(tmp / "w" / "inbox"), "--store", str(tmp / "w" / "s.sqlite3")],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ))
    out = []
    try:
        time.sleep(4)  # the first, empty pass; then it waits on IDLE
        towns = list(TOWNSHIP_ADDRESSES)[:mails]
        for n, township in enumerate(towns):
            data = synth.make_submission(tmp / f"w{n}.xlsx", township, 6, seed=n, as_of=AS_OF).path.read_bytes()
            start = time.monotonic()
            servers.deliver(senders.qq(TOWNSHIP_ADDRESSES[township], f"{township}报表 {datetime.now():%H%M%S}",
                                       [(f"{township}1128.xlsx", data)]))
            while time.monotonic() - start < 120 and not servers.messages(TOWNSHIP_ADDRESSES[township]):
                time.sleep(0.1)
            out.append(time.monotonic() - start)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    return out


if __name__ == "__main__":
    main()
