"""Check submitted files end to end: guard → read → locate → normalise → validate → verdict.

Each file is read and located on its own; the rows of all files are then normalised and
validated in one pandera pass per table kind, so that thirty small files cost about what
one large file costs (with two cores, one pass per process, each over half the rows). A
file-level problem gives a rejected FileReport with one Issue; a bad row never stops the
good rows; nothing here raises for a bad submission.
"""

from __future__ import annotations

import gc
import itertools
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.errors import InputFileError
from pipeline.intake import guard, read, unpacked, verdict
from pipeline.intake.blob import Blob
from pipeline.intake.inbox import shown_name
from pipeline.intake.refusals import NESTED
from pipeline.intake.tables import Located, locate
from pipeline.model import DOCUMENT_KINDS, FileReport, Issue, Report, rows_text, sheet_place
from pipeline.rules import spec
from pipeline.tools import parallel

if TYPE_CHECKING:
    pass

# pandas and pandera (normalise's frames, validate) are imported only once reading has started:
# they take about a second to load, which a forked child spends reading the files.

NO_HEADER = ("在文件前{rows}行中找不到明细表的表头（应有 发现方式、发现人、所属乡镇（街道）、对象姓名、"
             "家庭基本情况、疑似符合救助 等列）。请使用区民政局下发的模板填写，不要删除或改动表头行。")
NO_FORM_TABLE = ("文件中没有明细表：找不到带有 发现方式、发现人、所属乡镇（街道）、对象姓名、家庭基本情况、疑似符合救助 "
                 "等表头的表格。请在通知附件的表格中填写（不要删除或改动表头行），或使用区民政局下发的 Excel 模板。")
HIDDEN_PEOPLE = ("明细表中没有填写人员，但隐藏的工作表{sheets}中有 {rows} 行人员，隐藏的工作表不读取。"
                 "如要报送这些人员，请在 Excel 中取消隐藏（右键工作表标签，选“取消隐藏”），把他们填到明细表中"
                 "后重新发送；如果本周确实没有新发现对象（零报告），请删除隐藏的工作表后再发送。")
KINDS = {"form": spec.form, "visits": spec.visits_table, "assistants": spec.assistants_table}
@dataclass
class _Read:
    """A file after reading and locating, before validation."""

    report: FileReport
    tables: dict[str, list[Located]] = field(default_factory=dict)
    unit: str | None = None


def _file_issue(file: str, code: str, message: str, *, sheet=None, row=None, column=None) -> Issue:
    return Issue(code, file, sheet, row, column, "", message)


def _missing_columns(file: str, located: Located) -> Issue:
    """One file-level issue naming every required column the table's header lacks."""
    table = KINDS[located.kind]()
    headers = [table.column(key).header for key in located.missing]
    named = "".join(f"「{h}」" for h in headers)
    short = "".join(f"「{spec.short_label(h)}」" for h in headers)
    these = "这一列" if len(headers) == 1 else "这些列"
    unknown = "、".join(f"「{text}」" for text in located.unknown[:5])
    hint = (f"表头中{unknown}没有被识别：如果其中有{these}，请把表头改成模板上的写法{short}。"
            if unknown else f"请按模板补上{these}并填写，不要删除或合并表头。")
    return _file_issue(file, "missing_column", f"表头中没有{named}列（必填）。{hint}",
                       sheet=located.sheet, row=located.header_row, column="、".join(headers))


def _read(path: Path, digest: str | None = None) -> list[_Read]:
    """Guard, read and locate one file (each file of an archive: intake/archives.py); file-level
    problems end up in report.errors. `digest`: the file's sha256 when the caller has it already."""
    report = FileReport(file=shown_name(path), path=path, sha256="")
    try:
        report.sha256 = digest or guard.sha256(path)
        examined = guard.examine(path)
        report.kind = examined.kind
        if examined.kind == "zip":
            return unpacked.read_members(path, report, _read_source)
        sheets = read.read_sheets(path, examined)
    except InputFileError as exc:
        report.errors = [_file_issue(report.file, exc.code, exc.message)]
        return [_Read(report)]
    return [_located(report, sheets)]


def _read_source(source: Blob, report: FileReport) -> _Read:
    """One file of an archive, held in memory, read as a file of the inbox is."""
    try:
        examined = guard.examine(source)
        report.kind = examined.kind
        if examined.kind == "zip":
            raise InputFileError("unsupported_type", NESTED.format(archive=report.path.name, member=source.name))
        sheets = read.read_sheets(source, examined)
    except InputFileError as exc:
        report.errors = [_file_issue(report.file, exc.code, exc.message)]
        return _Read(report)
    return _located(report, sheets)


def _located(report: FileReport, sheets: list[read.Sheet]) -> _Read:
    """The tables found in a file's sheets, its notes, and its file-level problems."""
    done = _Read(report)
    file = report.file
    document = report.kind in DOCUMENT_KINDS
    found = [locate(sheet) for sheet in sheets]
    tables = [table for table in found if table is not None]
    located = [t for t in tables if t.visible]
    auxiliary = spec.auxiliary_sheets()
    # A document's tables beside the form (the notice's own layout) are not worth a note.
    unread = [s.name for s, t in zip(sheets, found) if t is None and s.visible and s.name not in auxiliary
              and not document
              and any(v is not None and (v.__class__ is not str or v.strip()) for row in s.rows for v in row)]
    hidden = [t for t in tables if not t.visible and t.rows]
    forms = [t for t in located if t.kind == "form"]
    if forms and not any(t.rows for t in forms) and any(t.kind == "form" for t in hidden):
        # An empty form, and people on a hidden sheet: not a zero report, or they are lost unseen.
        rows = sum(len(t.rows) for t in hidden if t.kind == "form")
        sheets_named = "、".join(f"「{t.sheet}」" for t in hidden if t.kind == "form")
        report.errors = [_file_issue(file, "no_header", HIDDEN_PEOPLE.format(sheets=sheets_named, rows=rows))]
        return done
    for table in hidden:
        report.notes.append(f"隐藏工作表「{table.sheet}」中有 {len(table.rows)} 行，未读取；"
                            "如需报送，请取消隐藏后重新发送。")
    # A sheet with some of the form's headers but no names (a 统计 sheet beside the form) lists no
    # one; a sheet of people that lacks a required column is the form, and that column is missing.
    complete = {t.kind for t in located if not t.missing}
    others = [t for t in located if t.kind in complete and "name" in t.missing]
    located = [t for t in located if t.kind not in complete or "name" not in t.missing]
    for other in others:
        lacking = "、".join(spec.short_label(KINDS[other.kind]().column(k).header) for k in other.missing)
        report.notes.append(f"{sheet_place(other.sheet)}不是完整的{verdict.KIND_LABELS[other.kind]}（没有{lacking}列），未读取；"
                            f"如果其中有要报送的内容，请填到{verdict.KIND_LABELS[other.kind]}中。")
    for table in (t for t in located if t.below_footer):
        report.notes.append(f"{sheet_place(table.sheet)}第{rows_text(table.below_footer)}行在落款行（填表人、审核人等）下方，已作为数据读取；"
                            "以后请把落款行放在表格最后。")
    if unread and located:
        report.notes.append(f"工作表{'、'.join(f'「{name}」' for name in unread)}中没有明细表的表头，未读取；"
                            "如果其中有要报送的人员，请填到明细表中。")
    if not located:
        limit = spec.thresholds()["header_scan_rows"]
        hidden = "、".join(f"「{t.sheet}」" for t in tables if not t.visible)
        message = (f"明细表在隐藏的工作表{hidden}中，隐藏的工作表不读取。请在 Excel 中取消隐藏（右键工作表标签，"
                   "选“取消隐藏”）后重新发送。" if hidden else
                   NO_FORM_TABLE if document else NO_HEADER.format(rows=limit))
        report.errors = [_file_issue(file, "no_header", message)]
        return done
    from pipeline.intake.normalise import prepare  # plain Python: a reading child needs no pandas for it

    for table in located:
        if table.missing:
            report.errors.append(_missing_columns(file, table))
        else:
            if table.unknown:  # a column not read must not go unnoticed (办理情况 for 办理结果)
                report.notes.append(
                    f"{sheet_place(table.sheet)}表头中的{'、'.join(f'「{t}」' for t in table.unknown[:5])}"
                    f"{'等' if len(table.unknown) > 5 else ''}不是模板上的列，这些列没有读取；如果其中有办理结果、"
                    "身份证号码等内容，请把表头改成模板上的写法。")
            for key, indexes in table.repeated.items():
                column = KINDS[table.kind]().column(key)
                done_how = ("各列的内容已合并读取" if key in spec.joined_when_repeated() else
                            f"只读取了第一列，其余{len(indexes)}列没有读取，请删除多余的列或把内容合并到第一列")
                report.notes.append(f"{sheet_place(table.sheet)}表头中「{spec.short_label(column.header)}」出现了"
                                    f"{len(indexes) + 1}次，{done_how}。")
            prepare(table, KINDS[table.kind]())
            done.tables.setdefault(table.kind, []).append(table)
    report.returned = any(t.returned for t in located if t.kind == "form")
    done.unit = next((t.unit for t in located if t.unit), None)
    report.filled_date = next((t.filled_date for t in located if t.filled_date), None)
    return done


def _validate_kind(files: list[_Read], kind: str, as_of: date) -> dict[int, tuple]:
    """(raw, clean, issues) per file index, for the tables of one kind of all files at once."""
    table = KINDS[kind]()
    pairs = [(str(n), located) for n, done in enumerate(files) for located in done.tables.get(kind, [])]
    if not pairs:
        return {}
    from pipeline.intake.normalise import normalise
    from pipeline.intake.validate import add_outcomes, validate

    raw, clean = normalise(pairs, table)
    if kind == "form":
        clean = add_outcomes(clean, as_of)
    names = [done.report.file for done in files]
    headers = {(n, t.sheet, key): text for n, t in pairs for key, text in t.headers.items()}
    issues = validate(raw, clean, table, headers=headers, as_of=as_of)
    by_file: dict[str, list[Issue]] = {}
    for issue in issues:
        by_file.setdefault(issue.file, []).append(issue)
    bad = {(i.file, i.sheet, i.row) for i in issues}
    numbers = clean["_file"].tolist()
    clean["_bad"] = [(f, s, r) in bad for f, s, r in zip(numbers, clean["_sheet"], clean["_row"])]
    raw, clean = raw.drop(columns="_file"), clean.drop(columns="_file")
    out = {}
    start = 0
    for n, rows in itertools.groupby(numbers):  # a file's rows are consecutive: slices, not look-ups
        stop = start + len(list(rows))
        # Copies (of the cells' references only): a file's frames are then its own, and what the
        # merge releases file by file is freed at once, not when the last file's view goes.
        out[int(n)] = (raw.iloc[start:stop].copy(), clean.iloc[start:stop].copy(),
                       [replace(i, file=names[int(n)]) for i in by_file.get(n, [])])
        start = stop
    return out


def check_files(paths: list[Path], as_of: date | None = None, *,
                on_read: Callable[[Path], None] | None = None,
                digests: Mapping[Path, str] | None = None) -> Report:
    """Read and validate files without touching the store; each file independently judged, each
    file of a .zip as a file of its own (so there may be more reports than paths, in their order).
    `digests` gives the sha256 of files already hashed, so they are not read twice.

    With two cores, a forked child starts reading at once while this process loads pandas
    and pandera (about a second) and then joins in; the validation is then shared out too.
    When pandas is loaded already there is nothing to overlap: the files are shared out by
    size, and each process reads and judges its own, so only the child's verdicts cross.

    Example: check_files([Path("inbox/城西街道1128.xlsx")], date(2026, 11, 28)).valid
    """
    as_of = as_of or date.today()
    digests = digests or {}
    paths = [Path(p) for p in paths]
    with _collector_paused():
        if "pandera" in sys.modules:
            there, here = _halves([_size(p) for p in paths])
            if there:
                return _check_shares(paths, there, here, as_of, digests, on_read)
            # One file, or one core: a child would only cost its fork and the pickling back.
            return Report(_validate_files([done for _, done in _read_each(paths, here, digests, on_read)], as_of))
        files = _read_all(paths, digests, on_read)
        there, here = _halves([sum(len(t.rows) for ts in done.tables.values() for t in ts) for done in files])
        if not there:
            return Report(_validate_files(files, as_of))
        theirs, ours = parallel.both(lambda: _validate_files([files[i] for i in there], as_of),
                                     lambda: _validate_files([files[i] for i in here], as_of))
        return Report(_in_order(there, theirs, here, ours))


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector paused for a check, as Mercurial's util.nogc does while it builds
    big lists. Reading makes a list per row and a string per cell: some forty collections a check,
    and about every third check one of the whole heap (pandas, pandera, the roster: 0.1 s), which
    in a forked child also writes to every old object, copying the page it sits on. A check makes
    no garbage that only the collector can free (gc.collect() after one finds none)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _check_shares(paths: list[Path], there: list[int], here: list[int], as_of: date,
                  digests: Mapping[Path, str], on_read: Callable[[Path], None] | None) -> Report:
    """Files `there` read and judged in a forked child, files `here` in this process."""
    def share(numbers: list[int], tell: Callable[[Path], None] | None) -> list[tuple[int, FileReport]]:
        files = _read_each(paths, numbers, digests, tell)  # an archive gives a report per file in it
        return list(zip([n for n, _ in files], _validate_files([done for _, done in files], as_of)))

    theirs, ours = parallel.both(lambda: share(there, None), lambda: share(here, on_read))
    if on_read:  # the child's progress is told here, once it is back
        for i in there:
            on_read(paths[i])
    return Report([report for _, report in sorted(theirs + ours, key=lambda pair: pair[0])])


def _in_order(there: list[int], theirs: list, here: list[int], ours: list) -> list:
    """Both processes' results, by file number."""
    by_number = dict(zip(there, theirs)) | dict(zip(here, ours))
    return [by_number[n] for n in range(len(by_number))]


def _read_each(paths: list[Path], numbers, digests: Mapping[Path, str],
               tell: Callable[[Path], None] | None) -> list[tuple[int, _Read]]:
    """(number, file read and located) for the files numbered `numbers`, told as each is read;
    an archive's number comes once for each file in it."""
    done = []
    for n in numbers:
        done.extend((n, one) for one in _read(paths[n], digests.get(paths[n])))
        if tell:
            tell(paths[n])
    return done


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:  # _read says why it cannot be read
        return 0


def _read_all(paths: list[Path], digests: Mapping[Path, str],
              on_read: Callable[[Path], None] | None) -> list[_Read]:
    """Every file read and located, in order; the validation's imports are done meanwhile."""
    def load_validation() -> None:
        import pipeline.intake.normalise  # noqa: F401
        import pipeline.intake.validate  # noqa: F401

    if parallel.workers() < 2 or not paths or len(paths) > parallel.MAX_TICKETS:
        load_validation()
        return [done for _, done in _read_each(paths, range(len(paths)), digests, on_read)]
    tickets = parallel.Tickets(len(paths))

    def here() -> list[tuple[int, _Read]]:
        load_validation()  # meanwhile the child reads; then this process takes files too
        return _read_each(paths, tickets, digests, on_read)

    try:  # the child's progress is told here, once it is back
        theirs, ours = parallel.both(lambda: _read_each(paths, tickets, digests, None), here)
    finally:
        tickets.close()
    if on_read:
        for n, _ in theirs:
            on_read(paths[n])
    return [done for _, done in sorted(theirs + ours, key=lambda pair: pair[0])]


def _halves(sizes: list[int]) -> tuple[list[int], list[int]]:
    """Indexes for the child and for this process, about half the total size (rows, bytes)
    each; ([], all) when there is nothing to share or only one core."""
    if len(sizes) < 2 or parallel.workers() < 2:
        return [], list(range(len(sizes)))
    groups: tuple[list[int], list[int]] = ([], [])
    loads = [0, 0]
    for i in sorted(range(len(sizes)), key=lambda i: (-sizes[i], i)):  # largest first, to the lighter side
        side = loads.index(min(loads))
        groups[side].append(i)
        loads[side] += sizes[i]
    return sorted(groups[0]), sorted(groups[1])


def _validate_files(files: list[_Read], as_of: date) -> list[FileReport]:
    validated = {kind: _validate_kind(files, kind, as_of) for kind in KINDS}
    return [verdict.finish(done.report, done.unit, set(done.tables), {kind: validated[kind].get(n) for kind in KINDS}, as_of) for n, done in enumerate(files)]


def check_file(path: Path, as_of: date | None = None) -> FileReport:
    """Read and validate one file (the first file of an archive: see check_files).

    Example: check_file(Path("inbox/城西街道1128.xlsx"), date(2026, 11, 28)).status
    """
    return check_files([path], as_of).files[0]
