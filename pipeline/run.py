"""The weekly run: inbox → check → merge → classify → report → outbox, as one transaction.

Order of work, chosen so that a kill at any moment leaves the store, the inbox and the
outbox as they were (or, after the last step, fully done):
1. take the lock (a second run refuses at once) and undo any half-finished earlier run;
2. check every inbox file (no side effects);
3. in one SQLite transaction: record submissions, merge rows, save visits, classify;
4. render every output into a private work folder beside the store (a killed run's folder is
   removed by the next run, so no copy of the roster is left behind in a temporary folder);
5. write a journal of the file moves, move the outputs into outbox/<as-of>/ and the
   submissions into inbox/archive/<as-of>/ (or inbox/rejected/);
6. COMMIT. Only then delete the journal. A journal found at start whose run is not in the
   store is rolled back (files moved back, outputs removed).
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pipeline import settings
from pipeline.intake import check, guard
from pipeline.roster import store
from pipeline.rules import dates, spec, townships
from pipeline.errors import InputFileError, JiuzhuError, RunLockedError
from pipeline.intake.inbox import list_submissions, unread_folders
from pipeline.model import FileReport, Report


@dataclass
class RunResult:
    """What a run did: the report written to run-report.json, and where the outputs are."""

    as_of: date
    outdir: Path
    report: dict
    files: list[FileReport]
    warnings: list[str] = field(default_factory=list)

    @property
    def stats(self) -> dict:
        return Report(self.files).stats


class Lock:
    """An exclusive lock beside the store, released by the kernel if the process dies."""

    def __init__(self, store_path: Path):
        self.path = Path(f"{store_path}.lock")

    def __enter__(self) -> Lock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fh = self.path.open("a")
        try:
            fcntl.flock(self.fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            self.fh.close()
            raise RunLockedError(
                f"另一个 jiuzhu run 正在使用台账数据库（{self.path.name}），本次没有运行。"
                "请等它结束后再运行；如果确定没有在运行，请稍后重试。") from exc
        return self

    def __exit__(self, *exc) -> None:
        fcntl.flock(self.fh, fcntl.LOCK_UN)
        self.fh.close()


def _checkpoint(stage: str) -> None:
    """A named point of the run where the crash tests stop it (JIUZHU_PAUSE_AT=stage:file):
    the run writes the file and waits there to be killed."""
    pause = os.environ.get("JIUZHU_PAUSE_AT", "")
    if pause.partition(":")[0] == stage:
        Path(pause.partition(":")[2]).write_text(stage)
        time.sleep(60)


def _journal_path(store_path: Path) -> Path:
    return Path(f"{store_path}.journal")


def _work_path(store_path: Path, token: str) -> Path:
    return Path(f"{store_path}.work-{token}")


def _sweep(store_path: Path) -> None:
    """Remove the work folders of runs that were killed (under the lock, none is in use)."""
    for stale in store_path.parent.glob(f"{glob.escape(store_path.name)}.work-*"):
        shutil.rmtree(stale, ignore_errors=True)


def _unique(path: Path) -> Path:
    """path, or path with （2）, （3）… when a file of that name is already there."""
    candidate, n = path, 2
    while candidate.exists():
        candidate = path.with_name(f"{path.stem}（{n}）{path.suffix}")
        n += 1
    return candidate


def recover(store_path: Path) -> str | None:
    """Finish or undo a run that was killed after it began moving files (see _publish)."""
    journal = _journal_path(store_path)
    if not journal.exists():
        return None
    plan = json.loads(journal.read_text(encoding="utf-8"))
    db = store.connect(store_path)
    try:
        has_runs = db.execute("SELECT 1 FROM sqlite_master WHERE name='runs'").fetchone()
        committed = has_runs and db.execute("SELECT 1 FROM runs WHERE token = ?", (plan["token"],)).fetchone()
    finally:
        db.close()
    outdir, old, staging = Path(plan["outdir"]), Path(plan["old"]), Path(plan["staging"])
    if committed:
        shutil.rmtree(old, ignore_errors=True)
        action = None
    else:
        for src, dst in reversed(plan["moves"]):
            if Path(dst).exists() and not Path(src).exists():
                os.replace(dst, src)
        for folder in plan["created"]:
            with contextlib.suppress(OSError):
                Path(folder).rmdir()
        if staging.exists():
            shutil.rmtree(staging)
        elif outdir.exists() and (old.exists() or not plan["had_outdir"]):
            shutil.rmtree(outdir)  # our outputs were already in place
        if old.exists():
            os.replace(old, outdir)
        action = "上次运行在中途被中断，已恢复到那次运行之前的状态，本次重新处理。"
    journal.unlink()
    return action


def _destination(inbox: Path, report: FileReport, as_of: date) -> Path:
    unreadable = any(e.file_level for e in report.errors) and not report.rows and report.status == "rejected"
    folder = inbox / (settings.REJECTED_DIR if unreadable else Path(settings.ARCHIVE_DIR) / as_of.isoformat())
    return _unique(folder / report.file)


def _merge_order(reports: list[FileReport]) -> list[FileReport]:
    """Earlier 填报日期 first; for the same date a corrected re-send (修改, 更正… in its name)
    after the others, then by name."""
    markers = spec.correction_markers()
    return sorted(reports, key=lambda r: (r.filled_on or "", any(m in r.path.stem for m in markers),
                                          r.path.stem, r.path.suffix))


def _record(db, run_id: int, report: FileReport, as_of: date) -> int:
    filled = report.filled_on or (str(report.filled_date) if report.filled_date else None)
    cur = db.execute(
        "INSERT INTO submissions (run_id, file, sha256, township, sender, received, filled_date, status, has_form, "
        "rows, accepted, rejected) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        (run_id, report.file, report.sha256, report.township, report.sender, as_of.isoformat(), filled,
         report.status, int(report.has_form), report.rows, report.accepted, report.rejected))
    return cur.lastrowid


def _restatus(report: FileReport) -> None:
    """Status after merge-time errors (visits to nobody) joined the file's errors."""
    if report.status in ("accepted", "empty") and report.errors:
        report.status = "partial"
    report.errors.sort(key=lambda e: (e.sheet or "", e.row or 0))


def missing_townships(db, as_of: date) -> list[str]:
    """Townships that sent no form (a zero report counts) in the week ending on the run date.

    A file that could not be read, or that holds only visits or the assistants' roster, is
    not the weekly form: its township is still to be chased. A form sent again byte for
    byte (the same blank zero report every week) changes no data but is this week's report."""
    start = dates.week_start(as_of).isoformat()
    sent = {r[0] for r in db.execute(  # the township that sent it: its 填报单位 when its rows are another's
        "SELECT DISTINCT COALESCE(sender, township) FROM submissions WHERE received BETWEEN ? AND ? "
        "AND has_form = 1 AND township IS NOT NULL", (start, as_of.isoformat()))}
    return [t.name for t in townships.listed() if t.name not in sent]


def run(inbox: Path = settings.INBOX, outbox: Path = settings.OUTBOX, store_path: Path = settings.STORE,
        as_of: date | None = None, *, pdf: bool = False, mask: bool = True,
        on_file: Callable[[FileReport], None] | None = None,
        on_read: Callable[[Path], None] | None = None) -> RunResult:
    """Ingest every file in the inbox and write the week's outputs into outbox/<as-of>/.

    `pdf` also prints 汇总报告.pdf; `mask` hides the middle of names in 汇总报告 (张*明).

    Example: run(Path("inbox"), Path("outbox"), Path("jiuzhu.sqlite3"), date(2026, 11, 28))
    """
    as_of = as_of or date.today()
    inbox, outbox, store_path = Path(inbox), Path(outbox), Path(store_path)
    if not inbox.is_dir():
        raise JiuzhuError(f"收件箱文件夹 {inbox} 不存在。请先建立该文件夹并放入各乡镇报来的明细表。")
    with Lock(store_path):
        warnings = [w for w in (recover(store_path), unread_folders(inbox)) if w]
        _sweep(store_path)
        db = store.connect(store_path)
        try:
            return _run_locked(db, inbox, outbox, store_path, as_of, pdf, mask, on_file, on_read, warnings)
        finally:
            db.close()


def _check_all(db, paths: list[Path], as_of: date, on_file, on_read) -> list[FileReport]:
    """Check the inbox; a byte-identical file already ingested is a duplicate and is not read."""
    known: dict[str, tuple[str | None, bool, str, int, str]] = {}
    if db.execute("SELECT 1 FROM sqlite_master WHERE name='submissions'").fetchone():
        known = {r[0]: (r[1], bool(r[2]), r[3], r[4], r[5]) for r in db.execute(
            "SELECT sha256, township, has_form, file, rows, received FROM submissions WHERE status != 'duplicate' "
            "ORDER BY id DESC")}
    fresh, duplicates, first, digests = [], {}, {}, {}
    for path in paths:
        try:
            digest = guard.sha256(path)
        except InputFileError:
            fresh.append(path)  # check_files reports why it cannot be read
            continue
        if digest in known or digest in first:
            duplicates[path] = FileReport(file=path.name, path=path, sha256=digest, status="duplicate")
        else:
            first[digest], digests[path] = path, digest
            fresh.append(path)
    checked = iter(check.check_files(fresh, as_of, on_read=on_read, digests=digests).files)
    reports = [duplicates.get(path) or next(checked) for path in paths]
    by_path = {r.path: r for r in reports}
    for report in duplicates.values():  # what the first copy was: its township, whether it held the form
        original = by_path[first[report.sha256]] if report.sha256 in first else None
        township, report.has_form, file, rows, received = (
            (original.township, original.has_form, original.file, original.rows, None) if original
            else known[report.sha256])
        report.township = _duplicate_township(report.file, township, file, rows)
        if report.township != township:  # another township's own zero report, not a copy sent again
            report.status = "empty"
        else:
            when = f"{received} 收到的" if received else "本次收件箱中的"
            report.notes.append(f"与{when}「{file}」完全相同，不重复计算。")
    for report in reports:
        if on_file:
            on_file(report)
    return reports


def _duplicate_township(name: str, township: str | None, original: str, rows: int) -> str | None:
    """The township of a byte-identical copy of `original`. The same rows are the same
    township's; but a blank zero report named after its township (the template, sent as
    水田乡零报告.xlsx and 白土乡零报告.xlsx) is each township's own."""
    if rows == 0 and township and townships.named_in(Path(original).stem) == township:
        return townships.named_in(Path(name).stem) or township
    return township


def _latest_run(db) -> str | None:
    """The date of the store's latest run (ISO), or None for a new store."""
    if not db.execute("SELECT 1 FROM sqlite_master WHERE name='runs'").fetchone():
        return None
    return db.execute("SELECT max(as_of) FROM runs").fetchone()[0]


def refuse_earlier(db, as_of: date, doing: str) -> None:
    """A run or report for a date before the latest run would mix later submissions into
    that date's outputs and replace the ones the bureau has (§7: a run is repeatable)."""
    latest = _latest_run(db)
    if latest and as_of.isoformat() < latest:
        day = as_of.isoformat()
        held = db.execute("SELECT 1 FROM runs WHERE as_of = ?", (day,)).fetchone()
        kept = (f"还会覆盖当天的报表。{day} 的报表仍在输出文件夹的 {day} 中。" if held else
                "这一天没有做过汇总。")
        raise JiuzhuError(
            f"台账数据库中已有 {latest} 的汇总，不能再按更早的日期 {day} {doing}：名册里已有之后报来的"
            f"数据，结果会与当时不一致；{kept}新收到的文件请按 {latest} 或更晚的日期汇总（--as-of）。")


def _run_locked(db, inbox, outbox, store_path, as_of, pdf, mask, on_file, on_read, warnings) -> RunResult:
    refuse_earlier(db, as_of, "汇总")
    reports = _check_all(db, list_submissions(inbox), as_of, on_file, on_read)
    shown = {id(report): len(report.notes) for report in reports}  # the merge may add more
    # Imported here, not at the top: check_files loads pandas while a child reads the inbox.
    from pipeline.reports import build as outputs
    from pipeline.roster import cases as roster, merge, visits

    _checkpoint("checked")
    token = os.urandom(8).hex()
    with store.transaction(db):
        run_id = db.execute("INSERT INTO runs (token, as_of, report) VALUES (?, ?, '{}')",
                            (token, as_of.isoformat())).lastrowid
        people = merge.Roster.load(db)
        ids = {}
        for report in _merge_order(reports):
            ids[id(report)] = _record(db, run_id, report, as_of)
            if report.status != "duplicate":
                merge.apply_rows(db, people, report, ids[id(report)], as_of)
        merge.save_roster(db, people)
        for report in _merge_order(reports):
            if report.status != "duplicate":
                unknown = visits.save_visits(db, people, report, ids[id(report)])
                if unknown:  # told after the file's line was printed: a note, shown at the end
                    report.notes.append(f"走访记录中另有 {len(unknown)} 行的走访对象在名册中找不到，这些行已退回，见退回意见的「问题清单」。")
                report.errors.extend(unknown)
                _restatus(report)
                merge.save_rejected(db, report, ids[id(report)])
                merge.save_assistants(db, report, ids[id(report)])
                db.execute("UPDATE submissions SET status = ? WHERE id = ?", (report.status, ids[id(report)]))
            report.release()
        del people  # the outputs read the store; a 300,000-person run needs the memory
        warnings.extend(f"{report.file}：{note}" for report in sorted(reports, key=lambda r: r.file)
                        for note in report.notes[shown[id(report)]:])

        _checkpoint("merged")
        warning = roster.calendar_warning(as_of)
        if warning:
            warnings.append(warning)
        work = _work_path(store_path, token)
        work.mkdir(mode=0o700)
        try:
            built = outputs.build(db, reports, as_of, work, missing_townships(db, as_of), pdf=pdf, mask=mask,
                                  earlier_feedback=_earlier_feedback(db, outbox, as_of))
            warnings.extend(built.warnings)
            _keep_earlier_feedback(outbox / as_of.isoformat(), work)
            moves = []
            for report in reports:
                dst = _destination(inbox, report, as_of)
                moves.append((str(report.path), str(dst)))
                db.execute("UPDATE submissions SET archived = ?, feedback = ? WHERE id = ?",
                           (str(dst.relative_to(inbox)), report.feedback, ids[id(report)]))
            db.execute("UPDATE runs SET report = ? WHERE id = ?", (json.dumps(built.report, ensure_ascii=False),
                                                                   run_id))
            outdir = outbox / as_of.isoformat()
            _checkpoint("rendered")
            _publish(store_path, token, work, outdir, moves)
            _checkpoint("published")
        finally:
            shutil.rmtree(work, ignore_errors=True)
    _journal_path(store_path).unlink(missing_ok=True)
    shutil.rmtree(_old(outdir, token), ignore_errors=True)
    return RunResult(as_of, outdir, built.report, sorted(reports, key=lambda r: r.file), warnings)


def _earlier_feedback(db, outbox: Path, as_of: date) -> dict[str, tuple]:
    """The feedback workbooks in the date's folder, by name: the (file, township) an earlier
    run of that date wrote each for, or (None, None) when the store does not say."""
    folder = outbox / as_of.isoformat() / settings.FEEDBACK_DIR
    if not folder.is_dir():
        return {}
    owners = {r[0]: (r[1], r[2]) for r in db.execute(
        "SELECT feedback, file, township FROM submissions WHERE feedback IS NOT NULL AND received = ? ORDER BY id",
        (as_of.isoformat(),))}
    names = (f"{settings.FEEDBACK_DIR}/{path.name}" for path in folder.iterdir() if path.is_file())
    return {name: owners.get(name, (None, None)) for name in names}


def _keep_earlier_feedback(outdir: Path, work: Path) -> None:
    """A second run for the same date replaces that date's outputs: the feedback workbooks
    of the earlier run (for files this run did not see) stay, beside this run's."""
    earlier = outdir / settings.FEEDBACK_DIR
    if not earlier.is_dir():
        return
    for path in sorted(earlier.iterdir()):
        target = work / settings.FEEDBACK_DIR / path.name
        if path.is_file() and not target.exists():
            target.parent.mkdir(exist_ok=True)
            shutil.copy2(path, target)


def _old(outdir: Path, token: str) -> Path:
    return outdir.with_name(f".{outdir.name}.old-{token}")


def _publish(store_path: Path, token: str, work: Path, outdir: Path, moves: list) -> None:
    """Move outputs and submissions into place, journaled first so that recover() can undo it."""
    outdir.parent.mkdir(parents=True, exist_ok=True)
    staging = outdir.with_name(f".{outdir.name}.new-{token}")
    old = _old(outdir, token)
    created = {p for _, dst in moves for p in (Path(dst).parent, Path(dst).parent.parent) if not p.exists()}
    _write_json(_journal_path(store_path), {
        "token": token, "outdir": str(outdir), "old": str(old), "staging": str(staging),
        "had_outdir": outdir.exists(), "moves": moves,
        "created": sorted(map(str, created), key=len, reverse=True)})
    try:
        os.rename(work, staging)
    except OSError:  # the outbox is on another disk
        shutil.copytree(work, staging)
    if outdir.exists():
        os.replace(outdir, old)
    os.replace(staging, outdir)
    for src, dst in moves:
        Path(dst).parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, dst)


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
