"""`jiuzhu run --mail`: the Monday in one command — fetch the mailbox into the inbox (with its
receipts), run the week, send each township its packet — and one account of all three."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from pipeline.mail import config, fetch, send
from pipeline.run import RunResult, run


@dataclass
class Monday:
    fetched: fetch.FetchResult
    run: RunResult
    sent: send.SendResult


def run_with_mail(config_path: Path, inbox: Path, outbox: Path, store_path: Path, as_of: date | None = None, *,
                  pdf: bool = False, mask: bool = True, yes: bool = False, by: str | None = None, on_fetched: Callable | None = None,
                  on_file: Callable | None = None, on_read: Callable | None = None) -> Monday:
    """Fetch, run, send. Example: run_with_mail(Path("jiuzhu.toml"), Path("inbox"), Path("outbox"), Path("jiuzhu.sqlite3"))"""
    cfg = config.load(config_path)
    cfg.password()  # a missing password stops it here, before anything is fetched or run
    fetched = fetch.fetch(cfg, inbox, store_path, now=datetime.now())
    if on_fetched:
        on_fetched(fetched)
    week = run(inbox, outbox, store_path, as_of, pdf=pdf, mask=mask, yes=yes, by=by, on_file=on_file, on_read=on_read)
    sent = send.send(cfg, outbox, store_path, week.as_of)
    return Monday(fetched, week, sent)
