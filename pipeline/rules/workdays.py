"""Working days in China: public holidays and make-up workdays (调休) from chinese-calendar.

The library knows only the years it has data for (2004–2026 in chinese-calendar 1.11).
Outside them a Monday–Friday week is assumed, and `calendar_known` tells a caller so that
it can warn that a deadline may move once the State Council publishes that year's holidays.

Every count goes through one cumulative table: W(d) = number of workdays from a fixed
origin up to and including d. Then workdays_between(a, b) = W(b) - W(a) is two look-ups,
whatever the span, which is what keeps the 超期 check cheap for thousands of people.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import cache

import chinese_calendar
import numpy as np

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()  # numpy's day 0


@cache
def _known_years() -> tuple[int, int]:
    # The library checks the same range before it answers (see its _validate_date); read it
    # from the data so that a newer chinese-calendar extends us without a code change.
    years = [day.year for day in chinese_calendar.holidays]
    return min(years), max(years)


def calendar_known(d: date) -> bool:
    """True when chinese-calendar has the holidays of d's year; else we assume Mon–Fri."""
    first, last = _known_years()
    return first <= d.year <= last


@cache
def _corrections() -> tuple[int, list[int]]:
    """(first ordinal, running sum of the calendar's departures from a Mon–Fri week).

    A holiday on a weekday counts -1, a make-up workday on a weekend +1: the same rule as
    chinese_calendar.is_workday, read from its published tables in one pass (asking it day
    by day costs a quarter of a second, as it re-checks its range on every call). Outside
    the table the correction stays at its last value: a plain Mon–Fri count there.
    """
    first_year, last_year = _known_years()
    start = date(first_year, 1, 1).toordinal()
    end = date(last_year, 12, 31).toordinal()
    step = [0] * (end - start + 1)
    for day in chinese_calendar.holidays:
        if day.weekday() < 5 and day not in chinese_calendar.workdays:
            step[day.toordinal() - start] -= 1
    for day in chinese_calendar.workdays:
        if day.weekday() >= 5:
            step[day.toordinal() - start] += 1
    running, total = [], 0
    for change in step:
        total += change
        running.append(total)
    return start, running


def _cumulative(ordinal: int) -> int:
    """W: workdays from the origin up to and including the day with this ordinal."""
    start, running = _corrections()
    index = ordinal - start
    if index < 0:
        correction = 0
    elif index >= len(running):
        correction = running[-1]
    else:
        correction = running[index]
    weeks, rest = divmod(ordinal, 7)  # ordinal 1 (0001-01-01) is a Monday
    return 5 * weeks + min(rest, 5) + correction


def is_workday(d: date) -> bool:
    """Whether d is a working day in China (调休 included); Mon–Fri outside the known years.

    Example: is_workday(date(2022, 10, 8)) → True (Saturday, make-up workday after 国庆).
    """
    ordinal = d.toordinal()
    return _cumulative(ordinal) - _cumulative(ordinal - 1) == 1


def workdays_between(start: date, end: date) -> int:
    """Workdays d with start < d <= end; 0 when end <= start.

    Example: workdays_between(date(2022, 9, 30), date(2022, 10, 10)) → 3 (10-08, 10-09, 10-10).
    """
    if end <= start:
        return 0
    return _cumulative(end.toordinal()) - _cumulative(start.toordinal())


def between_many(starts: Sequence[str], ends: Sequence[str] | date) -> np.ndarray:
    """workdays_between for many ISO dates at once (`ends` one date for all, or one per start),
    as an int64 array: the same cumulative table, looked up by numpy rather than per person.

    Example: between_many(["2022-09-30", "2022-10-07"], date(2022, 10, 10)) → array([3, 3])
    """
    first = _ordinals(starts)
    last = np.full(len(first), ends.toordinal()) if isinstance(ends, date) else _ordinals(ends)
    return np.where(last > first, _cumulative_many(last) - _cumulative_many(first), 0)


def _ordinals(days: Sequence[str]) -> np.ndarray:
    return np.asarray(days, dtype="datetime64[D]").astype(np.int64) + _EPOCH_ORDINAL


def _cumulative_many(ordinals: np.ndarray) -> np.ndarray:
    start = _corrections()[0]
    table = _correction_array()
    index = ordinals - start
    correction = np.where(index < 0, 0, table[np.clip(index, 0, len(table) - 1)])
    weeks, rest = np.divmod(ordinals, 7)
    return 5 * weeks + np.minimum(rest, 5) + correction


@cache
def _correction_array() -> np.ndarray:
    return np.array(_corrections()[1], dtype=np.int64)


def add_workdays(start: date, n: int) -> date:
    """The n-th workday after start (start itself when n is 0); n must not be negative.

    Example: add_workdays(date(2022, 9, 30), 1) → date(2022, 10, 8).
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    ordinal = start.toordinal()
    target = _cumulative(ordinal) + n
    # W rises by at most 1 a day, so while it is k short of the target the answer is at
    # least k days on: jumping by the shortfall never passes it, and stops exactly on it.
    while (short := target - _cumulative(ordinal)) > 0:
        ordinal += short
    return date.fromordinal(ordinal)
