"""A .zip in the inbox as the submissions inside it: each workbook (or Word form) of the
archive is read and judged as a file of its own, named 城西街道.zip/城西街道1128.xlsx, with
the archive as its path (what the run archives) and its own sha256 (a workbook sent once
loose and once zipped is the same file: intake/copies.py). Files in it that are no form
(a scanned letter, a picture) are named in a note, not refused; an archive with none is.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import TypeVar

from pipeline.errors import InputFileError
from pipeline.intake import archives, guard
from pipeline.intake.blob import Blob
from pipeline.model import FileReport

Read = TypeVar("Read")
# Opened as submissions; anything else in an archive is only named (guard refuses it loose).
FORM_SUFFIXES = frozenset(s for s in guard.READ_SUFFIXES if s != ".zip")


def read_members(path: Path, report: FileReport, read_source: Callable[[Blob, FileReport], Read]) -> list[Read]:
    """What `read_source` makes of each form in the archive at `path`, in the archive's order.
    `report` is the archive's own: refusals of the whole archive raise InputFileError for the
    caller to put on it."""
    found = archives.members(path)
    forms = [m for m in found if PurePosixPath(m.name).suffix.lower() in FORM_SUFFIXES]
    others = [m.name for m in found if m not in forms]
    if not forms:
        listed = "、".join(f"「{name}」" for name in others[:5]) + ("等" if len(others) > 5 else "")
        raise InputFileError("unsupported_type", (
            f"压缩包中没有明细表（.xlsx、.xls、.csv 或 Word 文档）{'，只有' + listed if others else '，是空的'}。"
            "请把明细表直接作为附件发送，或放进压缩包后再发送。"))
    out = []
    for number, member in enumerate(forms):
        name = f"{path.name}/{member.name}"
        blob = Blob(PurePosixPath(name), member.data)
        one = FileReport(file=name, path=report.path, sha256=guard.sha256(blob))
        if number == 0 and others:
            listed = "、".join(f"「{name}」" for name in others[:5]) + ("等" if len(others) > 5 else "")
            one.notes.append(f"压缩包「{path.name}」中的{listed}不是明细表，没有读取。")
        out.append(read_source(blob, one))
    return out
