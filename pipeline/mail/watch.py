"""`jiuzhu mail watch`: fetch, answer and chase again and again until stopped, so that each
receipt goes out within a minute of the mail's arrival.

Between passes it waits on IMAP IDLE when the server offers it (a new mail wakes it at once)
or for `poll_seconds`; every wait is bounded, a lost connection is retried with a growing
pause (at most five minutes), and Ctrl-C stops it cleanly between two messages: the pass
under way finishes its message, nothing is left half-saved.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from pipeline import settings
from pipeline.errors import MailError
from pipeline.mail import imap
from pipeline.mail.config import MailConfig
from pipeline.mail.fetch import FetchResult, fetch

MAX_PAUSE = 300.0


class Stop:
    """Set by Ctrl-C (SIGINT) or SIGTERM; the loop looks at it between steps."""

    def __init__(self):
        self.asked = False

    def __call__(self, *_args) -> None:
        self.asked = True

    def __bool__(self) -> bool:
        return self.asked


def watch(cfg: MailConfig, inbox: Path = settings.INBOX, store_path: Path = settings.STORE, *,
          on_pass: Callable[[FetchResult], None] | None = None, on_error: Callable[[str], None] | None = None,
          stop: Stop | None = None, passes: int | None = None) -> int:
    """Fetch until stopped (or `passes` passes, for tests and benchmarks); how many passes ran.

    Example: watch(config.load(Path("jiuzhu.toml")), Path("inbox"), Path("jiuzhu.sqlite3"))
    """
    stop = stop if stop is not None else Stop()
    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    done, pause = 0, 5.0
    try:
        while not stop and (passes is None or done < passes):
            try:
                result = fetch(cfg, inbox, store_path, now=datetime.now())
                done += 1
                pause = 5.0
                if on_pass:
                    on_pass(result)
                if stop or (passes is not None and done >= passes):
                    break
                with imap.Mailbox(cfg) as box:  # wait for the next mail: IDLE wakes at once, else a minute
                    if box.uidnext and box.uidnext != result.uidnext:
                        continue  # a mail came while the pass was answering the last ones
                    box.idle(cfg.poll_seconds, lambda: bool(stop))
            except MailError as exc:
                if on_error:
                    on_error(f"{exc}（{pause:.0f} 秒后重试）")
                end = time.monotonic() + pause
                while not stop and time.monotonic() < end:
                    time.sleep(0.2)
                pause = min(MAX_PAUSE, pause * 2)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return done
