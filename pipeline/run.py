"""The weekly run: inbox → intake → roster → reports → outbox, as one transaction.

Order of work, chosen so that a kill at any moment leaves the store, the inbox and the
outbox as they were (or, after the last step, fully done):
1. take the lock (a second run refuses at once) and undo any half-finished earlier run;
2. check every inbox file (no side effects), copies of files already received aside;
3. in one SQLite transaction: record submissions, merge rows, save visits, classify, and
   draft the 催办通知 (issued only once sent: roster/letters.py);
4. render every output into a private work folder beside the store (a killed run's folder is
   removed by the next run, so no copy of the roster is left behind in a temporary folder);
5. write a journal of the file moves, move the outputs into outbox/<as-of>/ and the
   submissions into inbox/archive/<as-of>/ (or inbox/rejected/): pipeline/publish.py;
6. COMMIT. Only then delete the journal. A journal found at start whose run is not in the
   store is rolled back (files moved back, outputs removed).
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pipeline import publish, settings
from pipeline.errors import ConfirmationNeeded, InputFileError, JiuzhuError
from pipeline.intake import copies, guard
from pipeline.intake.inbox import list_submissions, unread_folders
from pipeline.model import FileReport, Report
from pipeline.roster import runs, snapshots, store, submissions
from pipeline.rules import spec


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


def recover(store_path: Path) -> str | None:
    """Finish or undo a run that was killed after it began moving files (publish.recover)."""
    return publish.recover(store_path, functools.partial(runs.committed_in, store_path))


def run(inbox: Path = settings.INBOX, outbox: Path = settings.OUTBOX, store_path: Path = settings.STORE,
        as_of: date | None = None, *, pdf: bool = False, mask: bool = True, yes: bool = False,
        by: str | None = None, on_file: Callable[[FileReport], None] | None = None,
        on_read: Callable[[Path], None] | None = None) -> RunResult:
    """Ingest every file in the inbox and write the week's outputs into outbox/<as-of>/.

    `pdf` also prints 汇总报告.pdf; `mask` hides the middle of names in 汇总报告 (张*明). A date
    far ahead of today, or a first run on an empty inbox, is refused unless `yes` (ask_first).
    The store is snapshotted first, so that `jiuzhu undo` can take the run back (`by`: who ran it).

    Example: run(Path("inbox"), Path("outbox"), Path("jiuzhu.sqlite3"), date(2026, 11, 28))
    """
    as_of = as_of or date.today()
    inbox, outbox, store_path = Path(inbox), Path(outbox), Path(store_path)
    if not inbox.is_dir():
        raise JiuzhuError(f"收件箱文件夹 {inbox} 不存在。请先建立该文件夹并放入各乡镇报来的明细表。")
    publish.preflight(inbox, outbox, store_path)
    with publish.Lock(store_path, inbox, outbox):
        warnings = [w for w in (recover(store_path), unread_folders(inbox)) if w]
        publish.sweep(store_path)
        db = store.connect(store_path)
        try:
            runs.refuse_earlier(db, as_of, "汇总")
            paths = list_submissions(inbox)
            if not yes:
                ask_first(db, inbox, paths, as_of)
            # Absolute: `jiuzhu undo` may be run from another folder than the run was.
            snap = snapshots.take(store_path, "run", f"汇总日期 {as_of} 的汇总", by, token=os.urandom(8).hex(),
                                  as_of=as_of.isoformat(), inbox=str(inbox.resolve()), outbox=str(outbox.resolve()),
                                  outdir=str((outbox / as_of.isoformat()).resolve()))
            try:
                result = _run_locked(db, paths, inbox, outbox, store_path, as_of, pdf, mask, on_file, on_read,
                                     warnings, snap)
            except BaseException:
                if not runs.committed(db, snap.record["token"]):
                    snapshots.remove(snap)
                raise
            snap.save(state="done")
            snapshots.prune(store_path, spec.thresholds()["keep_snapshots"])
            return result
        finally:
            db.close()


def _check_all(db, paths: list[Path], as_of: date, on_file, on_read) -> list[FileReport]:
    """Check the inbox; a byte-identical file already ingested is a duplicate and is not read."""
    reports = copies.check_inbox(paths, submissions.known(db), as_of, on_read=on_read)
    for report in reports:
        if on_file:
            on_file(report)
    return reports


def ask_first(db, inbox: Path, paths: list[Path], as_of: date) -> None:
    """A run that is most likely a slip is refused until confirmed (`--yes`): a date more than
    `future_days` after today (a run for a later date refuses every earlier one), or a first run
    on an empty inbox (it would record the week as one in which no township reported)."""
    ahead = (as_of - date.today()).days
    limit = spec.thresholds()["future_days"]
    if ahead > limit:
        raise ConfirmationNeeded(
            f"汇总日期 {as_of} 比今天（{date.today()}）晚 {ahead} 天，多半是日期输错了（例如年份）。"
            f"按未来的日期汇总后，之后按正常日期的汇总都会被拒绝。请检查 --as-of；确实要按这个日期汇总的，"
            f"请加 --yes 再运行（汇总前会自动保存快照，之后可以用 jiuzhu undo 撤销）。")
    if not paths and not runs.latest(db):
        raise ConfirmationNeeded(
            f"收件箱 {inbox} 中没有任何文件，而这是这个台账数据库的第一次汇总：汇总后，本周会记为所有乡镇"
            f"（街道）都没有报送。请先把各乡镇报来的文件放进 {inbox}（或用 jiuzhu mail fetch 收取），"
            "或用 --inbox 指定存放文件的文件夹；确实要在没有文件时汇总的，请加 --yes 再运行。")


def _run_locked(db, paths, inbox, outbox, store_path, as_of, pdf, mask, on_file, on_read, warnings,
                snap) -> RunResult:
    reports = _check_all(db, paths, as_of, on_file, on_read)
    shown = {id(report): len(report.notes) for report in reports}  # the merge may add more
    # Imported here, not at the top: check_files loads pandas while a child reads the inbox.
    from pipeline.reports import build
    from pipeline.roster import cases, ingest, letters

    publish.checkpoint("checked")
    token = snap.record["token"]
    held = publish.InterruptsHeld()
    try:
        with held, store.transaction(db):
            run_id = runs.start(db, token, as_of)
            ids = ingest.ingest(db, run_id, reports, as_of)
            warnings.extend(f"{report.file}：{note}" for report in sorted(reports, key=lambda r: r.file)
                            for note in report.notes[shown[id(report)]:])

            publish.checkpoint("merged")
            warning = cases.calendar_warning(as_of)
            if warning:
                warnings.append(warning)
            standing = cases.standing(db, as_of)
            letters.draft(db, standing.people, as_of)  # issued only when sent (roster/letters.py)
            outdir = outbox / as_of.isoformat()
            work = publish.work_path(store_path, token)
            work.mkdir(mode=0o700)
            try:
                owners = submissions.feedback_owners(db, as_of)
                earlier = {name: owners.get(name, (None, None)) for name in publish.feedback_in(outdir)}
                week = runs.week_files(db, as_of)
                publish.keep_earlier_feedback(outdir, work)  # this run's workbooks replace their own
                built = build.build(db, reports, standing, as_of, work, submissions.missing_townships(db, as_of),
                                    pdf=pdf, mask=mask, earlier_feedback=earlier, earlier_files=week[:2])
                warnings.extend(built.warnings)
                moves = _moves(db, inbox, reports, ids, as_of, warnings)
                files, notes = build.own_files(reports)  # the store keeps this run's own; the week is read back
                runs.finish(db, run_id, {**built.report, "files": files, "notes": notes})
                snap.save(moves=[[str(Path(a).resolve()), str(Path(b).resolve())] for a, b in moves],
                          created=[str(Path(f).resolve()) for f in publish.created(moves)])
                publish.checkpoint("rendered")
                held.arm()  # from the first move to the COMMIT, a Ctrl-C waits: the run is undone or whole
                _publish(store_path, token, work, outdir, moves, snap.outputs)
                publish.checkpoint("published")
            finally:
                shutil.rmtree(work, ignore_errors=True)
    except BaseException:
        # Not committed (a failed move, a full disk at COMMIT, Ctrl-C before the moves): what was
        # moved goes back now, not at the next run.
        if publish.journal_path(store_path).exists():
            with contextlib.suppress(Exception):
                recover(store_path)
        raise
    publish.finish(store_path, outdir, token, snap.outputs)
    if held.interrupted:
        warnings.append("收到了中断（Ctrl-C），当时汇总已在收尾，已全部完成，结果有效。")
    return RunResult(as_of, outdir, built.report, sorted(reports, key=lambda r: r.file), warnings)


def _moves(db, inbox: Path, reports: list[FileReport], ids: dict, as_of: date, warnings: list[str]) -> list:
    """Where each submission goes, recorded in the store; the forms of one archive share its path,
    and it moves once. A loose file whose bytes are no longer those that were read (replaced while
    the run went on) stays in the inbox for the next run."""
    moves, placed = [], {}
    for report in reports:
        if report.path not in placed:
            mine = [r for r in reports if r.path == report.path]
            loose = len(mine) == 1 and "/" not in report.file
            if loose and report.sha256 and _now(report.path) != report.sha256:
                warnings.append(f"{report.file}：汇总过程中这个文件被替换了。本次按替换前读到的内容汇总；"
                                "替换后的文件留在收件箱，下次运行时读取。")
                placed[report.path] = None
            else:
                placed[report.path] = publish.destination(inbox, mine, as_of)
                moves.append((str(report.path), str(placed[report.path])))
        where = placed[report.path]
        submissions.set_placed(db, ids[id(report)], None if where is None else str(where.relative_to(inbox)),
                               report.feedback)
    return moves


def _now(path: Path) -> str | None:
    """The file's sha256 as it is now; None when it cannot be read any more."""
    try:
        return guard.sha256(path)
    except InputFileError:
        return None


def _publish(store_path: Path, token: str, work: Path, outdir: Path, moves: list, keep: Path) -> None:
    try:
        publish.publish(store_path, token, work, outdir, moves, keep)
    except OSError as exc:
        raise JiuzhuError(f"移动文件时出错（{exc.strerror or exc}：{exc.filename or ''}），本次汇总没有完成，"
                          "台账数据库、收件箱和输出文件夹已恢复到运行前的样子。请检查文件夹的权限和磁盘空间后重新运行。") from exc
