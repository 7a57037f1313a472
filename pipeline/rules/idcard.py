"""Resident ID numbers (GB 11643-1999): 17 digits and a check character."""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from operator import mul

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"


def check_char(first17: str) -> str:
    """The 18th character for the first 17 digits."""
    return CHECK_CHARS[sum(map(mul, map(int, first17), WEIGHTS)) % 11]


EARLIEST_BIRTH = date(1900, 1, 1)


@lru_cache(maxsize=1 << 18)
def id_problem(value: str) -> str | None:
    """Why an ID number is wrong ("float", "length", "format", "birth", "check"), or None.

    "float" is an ID that Excel stored as a number (5.0010119800101e+17): the digits are gone.
    """
    if re.fullmatch(r"\d(\.\d+)?E\+\d+", value) or re.fullmatch(r"\d{15,}\.\d*", value):
        return "float"
    if not re.fullmatch(r"\d{17}[\dX]", value):
        return "length" if len(value) != 18 else "format"
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return "birth"
    if not EARLIEST_BIRTH <= born <= date.today():  # 2027 or 1890: a mistyped digit
        return "birth"
    return None if check_char(value[:17]) == value[17] else "check"
