"""Copies: a file byte for byte the same as one received before, or as another file of the
same inbox, is not read again. It counts as that township's report of the week, and as
nothing more (docs/design.md §3: re-dropping a byte-identical file is a no-op).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from pipeline.errors import InputFileError
from pipeline.intake import guard
from pipeline.intake.inbox import shown_name
from pipeline.model import FileReport
from pipeline.rules import townships


class Original(NamedTuple):
    """What is known of the file a copy repeats."""

    township: str | None
    has_form: bool
    file: str
    rows: int
    received: str | None  # None: another file of this inbox


class Sorted(NamedTuple):
    fresh: list[Path]               # to be read and checked
    copies: dict[Path, FileReport]  # status "duplicate", completed by `describe`
    digests: dict[Path, str]        # the sha256 of each fresh file that could be hashed
    first: dict[str, Path]          # sha256 → the fresh file it belongs to


def separate(paths: list[Path], known: Mapping[str, tuple]) -> Sorted:
    """Which files are copies of one received before (`known`, by sha256) or of one earlier in `paths`."""
    out = Sorted([], {}, {}, {})
    for path in paths:
        try:
            digest = guard.sha256(path)
        except InputFileError:
            out.fresh.append(path)  # checking it says why it cannot be read
            continue
        if digest in known or digest in out.first:
            out.copies[path] = FileReport(file=shown_name(path), path=path, sha256=digest, status="duplicate")
        else:
            out.first[digest], out.digests[path] = path, digest
            out.fresh.append(path)
    return out


def describe(found: Sorted, checked: Mapping[Path, FileReport], known: Mapping[str, tuple]) -> None:
    """Give each copy what its original was: its township, whether it held the form, and a note."""
    for report in found.copies.values():
        first = found.first.get(report.sha256)
        original = (Original(checked[first].township, checked[first].has_form, checked[first].file,
                             checked[first].rows, None) if first is not None
                    else Original(*known[report.sha256]))
        report.has_form = original.has_form
        report.township = township_of_copy(report.file, original)
        if report.township != original.township:  # another township's own zero report, not a copy sent again
            report.status = "empty"
        else:
            when = f"{original.received} 收到的" if original.received else "本次收件箱中的"
            report.notes.append(f"与{when}「{original.file}」完全相同，不重复计算。")


def township_of_copy(name: str, original: Original) -> str | None:
    """The township of a byte-identical copy. The same rows are the same township's; but a
    blank zero report named after its township (the template, sent as 水田乡零报告.xlsx and
    白土乡零报告.xlsx) is each township's own."""
    if original.rows == 0 and original.township and townships.named_in(Path(original.file).stem) == original.township:
        return townships.named_in(Path(name).stem) or original.township
    return original.township
