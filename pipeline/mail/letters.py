"""催办通知 become issued: when a township's mail with its letter went out (mail/send.py), or
when the operator records that the paper letters went out (`jiuzhu reminders sent`).

A run only drafts the letters of its date (roster/letters.py); 提醒后仍未办理 counts from the
day a letter was issued (rules/overdue.py), so nothing here happens without a letter sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pipeline import publish
from pipeline.errors import JiuzhuError
from pipeline.roster import letters, store
from pipeline.rules import townships
from pipeline.tools.chinese import cn_date


@dataclass
class Issued:
    """What `jiuzhu reminders sent` recorded for a date."""

    as_of: date
    issued: dict[str, int] = field(default_factory=dict)  # township → cases newly reminded
    already: list[str] = field(default_factory=list)       # its letter of the date was issued before
    without: list[str] = field(default_factory=list)       # named, but no letter that day


def record_sent(store_path: Path, as_of: date, names: list[str] | tuple[str, ...] = ()) -> Issued:
    """The paper 催办通知 of the run of `as_of` went out that day, for the townships named (all
    of that date's letters when none is named): their cases count as reminded from `as_of`.

    Example: record_sent(Path("jiuzhu.sqlite3"), date(2026, 11, 28), ["城西街道"]).issued
    """
    wanted = []
    for name in names:
        canonical = townships.canonical(name)
        if canonical is None:
            raise JiuzhuError(f"「{name}」不是本区的乡镇（街道）名称，没有记录任何催办通知。请写全称或简称，如 城西街道、城西。")
        wanted.append(canonical)
    store_path = Path(store_path)
    if not store_path.is_file():
        raise JiuzhuError(f"找不到台账数据库 {store_path}。请先运行 jiuzhu run，或用 --store 指定数据库文件。")
    with publish.Lock(store_path):
        db = store.connect(store_path)
        try:
            with store.transaction(db):
                drafted = letters.drafted(db, as_of)
                if not drafted:
                    waiting = letters.waiting(db)
                    hint = (f"尚未发出的催办通知在：{'、'.join(waiting[:5])}。" if waiting else "目前没有待发出的催办通知。")
                    raise JiuzhuError(f"{cn_date(as_of)}的汇总没有催办通知（当天没有汇总，或没有超期事项），"
                                      f"没有记录任何内容。{hint}")
                done = Issued(as_of)
                for township in wanted or [t for t in townships.names() if t in drafted]:
                    if township not in drafted:
                        done.without.append(township)
                        continue
                    newly = letters.issue(db, as_of, township, as_of, "paper")
                    if newly:
                        done.issued[township] = newly
                    else:
                        done.already.append(township)
        finally:
            db.close()
    return done


def issue_mailed(db, as_of: date, township: str, sent_on: date) -> int:
    """Inside the transaction that records a township's mail as sent: its letter of `as_of`
    is issued on the day it was mailed (never before the date the letter bears)."""
    return letters.issue(db, as_of, township, max(as_of, sent_on), "mail")
