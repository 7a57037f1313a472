"""File names that every file system takes: at most 255 bytes in UTF-8 (ext4) and 255 UTF-16
units (NTFS), and none of the characters or names Windows refuses."""

from __future__ import annotations

import re

MAX_NAME = 255
ELLIPSIS = "…"
_WINDOWS_FORBIDDEN = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
_WINDOWS_RESERVED = re.compile(r"(?i)^(con|prn|aux|nul|com[1-9]|lpt[1-9])(\..*)?$")


def fits(name: str) -> bool:
    return len(name.encode("utf-8", "surrogateescape")) <= MAX_NAME and len(name.encode("utf-16-le")) // 2 <= MAX_NAME


def fitted(stem: str, tail: str, keep: str | None = None) -> str:
    """stem + tail, the stem shortened in its middle (…) until the whole fits, so that its
    beginning and its end (a township's name, a date) stay; `keep` is put in front when it
    would otherwise be lost.

    Example: fitted("城西街道" + "很长" * 60 + "1128", "_退回意见.xlsx")  # 城西街道很长…很长1128_退回意见.xlsx
    """
    if fits(stem + tail):
        return stem + tail
    if keep and keep not in stem[: len(stem) // 2]:
        stem = f"{keep}_{stem}"
    head, end = len(stem) // 2, len(stem) // 2
    while head > 0 and not fits(stem[:head] + ELLIPSIS + stem[len(stem) - end:] + tail):
        head, end = head - 1, max(0, end - 1)
    return stem[:head] + ELLIPSIS + stem[len(stem) - end:] + tail


def windows_safe(name: str) -> str:
    """A name Windows accepts: its forbidden characters made _, no trailing dot or space, not a device name."""
    name = _WINDOWS_FORBIDDEN.sub("_", name).rstrip(" .") or "_"
    return f"_{name}" if _WINDOWS_RESERVED.match(name) else name
