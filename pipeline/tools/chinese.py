"""How a Chinese document writes a date: 2026年11月28日 (or 11月28日)."""

from __future__ import annotations

from datetime import date


def cn_date(value, *, year: bool = True) -> str:
    """2026-11-28 (a date, or ISO text) → 2026年11月28日, or 11月28日 without the year; "" for nothing."""
    if value is None or value == "" or value != value:  # None, blank, NaN
        return ""
    day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    return f"{day.year}年{day.month}月{day.day}日" if year else f"{day.month}月{day.day}日"
