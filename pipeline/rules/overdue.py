"""超期 and 提醒后仍未办理: when a pending case is late, and when it is still undone after a
written reminder (催办通知).

The notice (三、（三）): "凡是通过书面提醒后，又无正当理由仍未办理的，为未做到应保尽保、应救尽救，
并追究相关人员责任". A case pending more than `overdue_workdays` working days from its
discovery is 超期; its first reminder asks for the result within `reminder_workdays` working
days (schemas/thresholds.yaml), the deadline day included, so from the day after it the
case is 提醒后仍未办理. Working days follow China's holidays (rules/workdays.py). A reminder
counts from the day its letter went out (mailed, or recorded by the operator: roster/letters.py),
never from the day a run drafted it: until then the list says 待发出.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import lru_cache

import numpy as np

from pipeline.rules import spec, workdays

OVERDUE_LABEL = "超期"
STILL_OVERDUE_LABEL = "提醒后仍未办理"
TO_SEND = "待发出"  # a 催办通知 drafted by a run and not yet mailed or recorded as sent


def limit() -> int:
    """Working days a case may stay pending from its discovery."""
    return spec.thresholds()["overdue_workdays"]


def ages(discovered: Sequence[str], as_of: date) -> np.ndarray:
    """Working days from each ISO discovery date to the run date."""
    return workdays.between_many(discovered, as_of)


@lru_cache(maxsize=1024)
def deadline(issued: date) -> date:
    """The day a 催办通知 issued on `issued` asks the result by: reminder_workdays working days on,
    so that a holiday never eats into it."""
    return workdays.add_workdays(issued, spec.thresholds()["reminder_workdays"])


def still_overdue(reminded_on: str | None, as_of: date) -> bool:
    """Whether an overdue case first reminded on `reminded_on` (ISO) is past that letter's deadline."""
    return isinstance(reminded_on, str) and deadline(date.fromisoformat(reminded_on)) < as_of


def reminder_state(still: bool, reminded_on: str | None) -> str:
    """提醒情况 of an overdue case, as the 催办 list words it."""
    if still:
        return f"{STILL_OVERDUE_LABEL}（{reminded_on} 已提醒）"
    if isinstance(reminded_on, str):
        return f"{reminded_on} 已提醒，期限 {deadline(date.fromisoformat(reminded_on))}"
    return TO_SEND
