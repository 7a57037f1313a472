"""Working days against real Chinese holiday calendars (chinese-calendar) and the fallback."""

from __future__ import annotations

import random
import time
from datetime import date, timedelta

import chinese_calendar
import pytest

from pipeline.rules.workdays import add_workdays, between_many, calendar_known, is_workday, workdays_between

D = date


@pytest.mark.parametrize("day, expected", [
    # 2022 National Day: 10-01..07 off, Saturday 10-08 and Sunday 10-09 are make-up workdays.
    *[(D(2022, 10, n), False) for n in range(1, 8)],
    (D(2022, 10, 8), True),
    (D(2022, 10, 9), True),
    (D(2022, 10, 10), True),
    (D(2022, 10, 15), False),  # an ordinary Saturday
    (D(2022, 11, 21), True),   # an ordinary Monday
    # 2026 Spring Festival: 02-15..23 off, Saturdays 02-14 and 02-28 are worked.
    (D(2026, 2, 13), True),
    (D(2026, 2, 14), True),
    *[(D(2026, 2, n), False) for n in range(15, 24)],
    (D(2026, 2, 24), True),
    (D(2026, 2, 28), True),
    (D(2026, 1, 4), True),     # Sunday, make-up for 2026 New Year
    # 2027 is beyond the library: Monday–Friday, even on New Year's Day.
    (D(2027, 1, 1), True),
    (D(2027, 1, 2), False),
    (D(2003, 1, 1), True),
])
def test_is_workday(day, expected):
    assert is_workday(day) is expected


@pytest.mark.parametrize("day, known", [
    (D(2003, 12, 31), False), (D(2004, 1, 1), True), (D(2026, 12, 31), True), (D(2027, 1, 1), False),
])
def test_calendar_known(day, known):
    assert calendar_known(day) is known


@pytest.mark.parametrize("start, end, expected", [
    (D(2022, 9, 30), D(2022, 10, 10), 3),     # 10-08, 10-09, 10-10
    (D(2022, 9, 30), D(2022, 10, 7), 0),      # the whole holiday
    (D(2022, 10, 7), D(2022, 10, 8), 1),
    (D(2022, 11, 20), D(2022, 11, 20), 0),
    (D(2022, 11, 28), D(2022, 11, 20), 0),    # end before start
    (D(2022, 11, 18), D(2022, 11, 25), 5),    # Friday to Friday
    (D(2026, 2, 13), D(2026, 2, 27), 5),      # 02-14 make-up, then 02-24..27
    (D(2026, 12, 25), D(2027, 1, 8), 10),     # 12-28..31, then 2027 Mon–Fri fallback
    (D(2027, 3, 1), D(2027, 3, 31), 22),      # wholly in the fallback
])
def test_workdays_between(start, end, expected):
    assert workdays_between(start, end) == expected


@pytest.mark.parametrize("start, n, expected", [
    (D(2022, 9, 30), 0, D(2022, 9, 30)),
    (D(2022, 9, 30), 1, D(2022, 10, 8)),
    (D(2022, 9, 30), 3, D(2022, 10, 10)),
    (D(2022, 10, 1), 1, D(2022, 10, 8)),      # from inside the holiday
    (D(2026, 2, 13), 1, D(2026, 2, 14)),
    (D(2026, 2, 13), 2, D(2026, 2, 24)),
    (D(2026, 12, 25), 10, D(2027, 1, 8)),
    (D(2022, 11, 9), 30, D(2022, 12, 21)),    # the 超期 deadline for a case found on the notice's date
])
def test_add_workdays(start, n, expected):
    assert add_workdays(start, n) == expected
    if n:
        assert workdays_between(start, expected) == n and is_workday(expected)


def test_add_workdays_rejects_negative():
    with pytest.raises(ValueError):
        add_workdays(D(2022, 11, 20), -1)


def test_agrees_with_the_library_day_by_day():
    day = D(2004, 1, 1)
    while day <= D(2026, 12, 31):
        assert is_workday(day) == chinese_calendar.is_workday(day), day
        day += timedelta(days=1)


def test_counts_agree_with_counting_days_one_by_one():
    rng = random.Random(44)
    for _ in range(500):
        start = D(2003, 6, 1) + timedelta(days=rng.randrange(9000))
        end = start + timedelta(days=rng.randrange(-5, 90))
        slow = sum(is_workday(start + timedelta(days=i)) for i in range(1, (end - start).days + 1))
        assert workdays_between(start, end) == slow


def test_many_at_once_agree_with_one_by_one():
    # Spans inside the calendar's years, before them and after them; ends before starts count 0.
    rng = random.Random(45)
    starts = [D(1999, 1, 1) + timedelta(days=rng.randrange(12_000)) for _ in range(3000)]
    ends = [s + timedelta(days=rng.randrange(-30, 400)) for s in starts]
    counts = between_many([s.isoformat() for s in starts], [e.isoformat() for e in ends])
    assert counts.tolist() == [workdays_between(s, e) for s, e in zip(starts, ends)]
    as_of = D(2026, 11, 28)
    counts = between_many([s.isoformat() for s in starts], as_of)
    assert counts.tolist() == [workdays_between(s, as_of) for s in starts]


def test_fast_enough_for_thousands_of_people():
    # Measured about 10 ms; the bound only catches a fall back to day-by-day counting.
    rng = random.Random(1)
    spans = [(s, s + timedelta(days=rng.randrange(40, 70)))
             for s in (D(2022, 1, 1) + timedelta(days=rng.randrange(1500)) for _ in range(10_000))]
    workdays_between(*spans[0])
    began = time.perf_counter()
    for start, end in spans:
        workdays_between(start, end)
    assert time.perf_counter() - began < 0.5
