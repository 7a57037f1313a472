"""Copies: a file byte for byte the same as one received before, or as another file of the
same inbox, is not read again. It counts as that township's report of the week, and as
nothing more (docs/design.md §3: re-dropping a byte-identical file is a no-op). A workbook
inside a .zip is a file too: the same archive dropped again, or a workbook sent loose and
then zipped, is a copy (each is known by its own sha256, so only once it is unpacked).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
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


def check_inbox(paths: list[Path], known: Mapping[str, tuple], as_of: date, *,
                on_read: Callable[[Path], None] | None = None) -> list[FileReport]:
    """Every file of an inbox checked, in order, copies aside: one report per file, and one per
    form inside each archive (its `path` the archive). `known` maps the sha256 of each file
    received before to what roster/submissions.known says of it.

    Example: check_inbox(list_submissions(inbox), submissions.known(db), date(2026, 11, 28))
    """
    from pipeline.intake.check import check_files  # check reads; copies only sorts its results

    found = separate(paths, known)
    by_path: dict[Path, list[FileReport]] = {}
    for report in check_files(found.fresh, as_of, on_read=on_read, digests=found.digests).files:
        by_path.setdefault(report.path, []).append(report)
    reports, repeats, first = [], [], {}
    for path in paths:
        if path in found.copies:
            reports.append(found.copies[path])
            repeats.append(found.copies[path])
            continue
        for report in by_path[path]:
            # A form of an archive received before, or a file this inbox holds loose and zipped too.
            if report.sha256 and (report.sha256 in known or report.sha256 in first):
                report = FileReport(file=report.file, path=report.path, sha256=report.sha256, status="duplicate",
                                    kind=report.kind)
                repeats.append(report)
            elif report.sha256:
                first[report.sha256] = report
            reports.append(report)
    describe(repeats, first, known)
    return reports


def describe(repeats: list[FileReport], first: Mapping[str, FileReport], known: Mapping[str, tuple]) -> None:
    """Give each copy what its original was (the first report of its sha256 in this inbox, else
    `known`): its township, whether it held the form, and a note."""
    for report in repeats:
        checked = first.get(report.sha256)
        original = (Original(checked.township, checked.has_form, checked.file, checked.rows, None)
                    if checked is not None else Original(*known[report.sha256]))
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
