"""Dates as townships write them: one date from a cell, the dates inside free text, and the
reporting week a run date closes.

A cell may hold a date cell, an Excel serial number, or text in any of the spellings the
form sees (2022年11月20日, 2022.11.20, 2022/11/20, 20221120, full-width digits); free text
such as 办理结果 may hold a date among its words. Anything that looks like a date but is not
one is reported by its caller, never guessed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from numbers import Real

from pipeline.rules import spec

EARLIEST_DATE = date(2000, 1, 1)  # a 发现日期 or 走访日期 before it is a mistyped year
_EXCEL_EPOCH = date(1899, 12, 30)  # Excel's 1900 system; its 1900-02-29 bug is below serial 61
_SERIAL_MIN, _SERIAL_MAX = 20000, 80000  # 1954-10-03 .. 2119-01-09: no plain count looks like that
_YEAR_MIN, _YEAR_MAX = 1900, 2099

_CLOCK = r"(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d+)?)?"  # 25:00 is no time: the text is no date
_TIME = rf"(?:[\sT]*{_CLOCK})?"
_CELL_DATE = re.compile(r"(\d{4})\s*[年./-]\s*(\d{1,2})\s*[月./-]\s*(\d{1,2})\s*[日号]?" + _TIME)
_CELL_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_CELL_SERIAL = re.compile(r"\d{5}(?:\.\d+)?")

# Date-like stretches inside free text, most specific first so that at one position the
# full date wins over its parts. Compact dates must look like YYYYMMDD, so that amounts
# (20000元) and ID or phone numbers (guarded by the digit look-arounds) are left alone.
_TEXT_DATE = re.compile(
    r"(?<!\d)(?P<y>\d{4})\s*[年./-]\s*(?P<m>\d{1,2})\s*[月./-]\s*(?P<d>\d{1,2})(?!\d)\s*[日号]?"
    rf"(?:\s*{_CLOCK})?"
    r"|(?<!\d)(?P<cy>(?:19|20)\d{2})(?P<cm>0[1-9]|1[0-2])(?P<cd>0[1-9]|[12]\d|3[01])(?!\d)"
    r"|(?<!\d)(?P<my>\d{4})\s*年\s*(?P<mm>\d{1,2})\s*月(?!\s*\d)"
    r"|(?<![\d.])(?P<dy>(?:19|20)\d{2})[./-](?P<dm>0?[1-9]|1[0-2])(?![\d./-]|\s*[元万%])"
    r"|(?<!\d)(?P<sy>\d{2})\s*[年./-]\s*(?P<sm>\d{1,2})\s*[月./-]\s*(?P<sd>\d{1,2})(?!\d)\s*[日号]?"
    r"|(?<!\d)(?P<nm>\d{1,2})\s*月\s*(?P<nd>\d{1,2})\s*[日号]"
)


def _real_date(year: str | int, month: str | int, day: str | int) -> date | None:
    try:
        value = date(int(year), int(month), int(day))
    except ValueError:
        return None
    return value if _YEAR_MIN <= value.year <= _YEAR_MAX else None


def _from_number(number: float) -> date | None:
    if number != number:  # NaN from an empty numeric cell
        return None
    if _SERIAL_MIN <= number <= _SERIAL_MAX:
        return _EXCEL_EPOCH + timedelta(days=int(number))  # a time of day is the fraction
    if number.is_integer() and 10_000_000 <= number <= 99_999_999:
        text = str(int(number))
        return _real_date(text[:4], text[4:6], text[6:])
    return None


@lru_cache(maxsize=65536)
def _date_from_text(text: str) -> date | None:
    text = unicodedata.normalize("NFKC", text).strip()
    if m := _CELL_DATE.fullmatch(text):
        return _real_date(*m.groups())
    if m := _CELL_COMPACT.fullmatch(text):
        return _real_date(*m.groups())
    if _CELL_SERIAL.fullmatch(text):  # an Excel date cell that went through a CSV or text format
        return _from_number(float(text))
    return None


def parse_date(value) -> date | None:
    """One date from a cell value, or None when it is not a date.

    Accepts date/datetime (pandas Timestamp too); text such as 2022年11月20日, 2022年11月20号,
    2022.11.20, 2022/11/20, 2022-11-20, 2022-11-20 00:00:00, 20221120, full-width
    ２０２２．１１．２０, with spaces around; a number 20000..80000 as an Excel serial date
    (1900 system), or 20221120.

    Example: parse_date("２０２２．１１．２０") → date(2022, 11, 20); parse_date("2022.13.45") → None
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return None if value != value else value.date()  # pandas NaT is a datetime unequal to itself
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return _date_from_text(value)
    if isinstance(value, Real):  # numpy numbers register as Real
        return _from_number(float(value))
    return None


@dataclass(frozen=True)
class DateLike:
    start: int
    end: int
    text: str
    kind: str  # "date" | "invalid" | "month_only" | "short_year" | "no_year"
    value: date | None


def date_likes(text: str) -> list[DateLike]:
    """Every date-like stretch of an NFKC-folded text, in order."""
    found = []
    for m in _TEXT_DATE.finditer(text):
        g = m.groupdict()
        if g["y"]:
            value = _real_date(g["y"], g["m"], g["d"])
        elif g["cy"]:
            value = _real_date(g["cy"], g["cm"], g["cd"])
        else:
            value = None
        if g["y"] or g["cy"]:
            kind = "date" if value else "invalid"
        elif g["my"] or g["dy"]:
            kind = "month_only"
        elif g["sy"]:
            kind = "short_year"
        else:
            kind = "no_year"
        found.append(DateLike(m.start(), m.end(), m.group().strip(), kind, value))
    return found


def find_date(text: str) -> tuple[date | None, str | None]:
    """The first date inside free text: (date, matched text), (None, matched text) when the
    date-like text is not a usable date (2022.13.45, 2022年11月, 11月20日), (None, None) when
    there is none.

    Example: find_date("2022.11.20纳入临时救助") → (date(2022, 11, 20), "2022.11.20")
    """
    likes = date_likes(unicodedata.normalize("NFKC", text or ""))
    if not likes:
        return None, None
    return likes[0].value, likes[0].text


def week_start(as_of: date) -> date:
    """The first day of the reporting week that ends on the run date: missing_window_days
    (schemas/thresholds.yaml) days, the run date included."""
    return as_of - timedelta(days=spec.thresholds()["missing_window_days"] - 1)


def in_week(day: str | None, as_of: date) -> bool:
    """Whether an ISO date falls in the reporting week that ends on the run date."""
    return isinstance(day, str) and week_start(as_of).isoformat() <= day <= as_of.isoformat()
