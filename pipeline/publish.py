"""What makes a run safe on disk: the lock, the private work folder, and the journaled moves
that put outputs into outbox/<as-of>/ and submissions into inbox/archive/<as-of>/ (or
inbox/rejected/), undone by `recover` when a run is killed before its COMMIT.

Order of a run (pipeline/run.py): take the lock and recover; check; in one SQLite
transaction merge and classify; render into the work folder beside the store; write the
journal, move the outputs and the submissions (`publish`); COMMIT; delete the journal. A
journal found at start whose run the store does not have is rolled back.
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
from datetime import date
from pathlib import Path

from pipeline import settings
from pipeline.errors import RunLockedError
from pipeline.model import FileReport


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


def checkpoint(stage: str) -> None:
    """A named point of the run where the crash tests stop it (JIUZHU_PAUSE_AT=stage:file):
    the run writes the file and waits there to be killed."""
    pause = os.environ.get("JIUZHU_PAUSE_AT", "")
    if pause.partition(":")[0] == stage:
        Path(pause.partition(":")[2]).write_text(stage)
        time.sleep(60)


def journal_path(store_path: Path) -> Path:
    return Path(f"{store_path}.journal")


def work_path(store_path: Path, token: str) -> Path:
    """The private folder beside the store where a run renders its outputs."""
    return Path(f"{store_path}.work-{token}")


def sweep(store_path: Path) -> None:
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


def recover(store_path: Path, committed: Callable[[str], bool]) -> str | None:
    """Finish or undo a run that was killed after it began moving files (see `publish`);
    `committed(token)` tells whether the store has that run. A sentence for the operator
    when a run was undone."""
    journal = journal_path(store_path)
    if not journal.exists():
        return None
    plan = json.loads(journal.read_text(encoding="utf-8"))
    outdir, old, staging = Path(plan["outdir"]), Path(plan["old"]), Path(plan["staging"])
    if committed(plan["token"]):
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


def destination(inbox: Path, reports: list[FileReport], as_of: date) -> Path:
    """Where a submission goes once the run commits: archive/<as-of>/, or rejected/ for a file
    that could not be read at all. `reports` are the file's (an archive has one per form in it)."""
    unreadable = all(any(e.file_level for e in report.errors) and not report.rows and report.status == "rejected"
                     for report in reports)
    folder = inbox / (settings.REJECTED_DIR if unreadable else Path(settings.ARCHIVE_DIR) / as_of.isoformat())
    return _unique(folder / reports[0].path.name)


def feedback_in(outdir: Path) -> list[str]:
    """The feedback workbooks already in a date's folder, as 退回/<name>."""
    folder = outdir / settings.FEEDBACK_DIR
    if not folder.is_dir():
        return []
    return [f"{settings.FEEDBACK_DIR}/{path.name}" for path in folder.iterdir() if path.is_file()]


def keep_earlier_feedback(outdir: Path, work: Path) -> None:
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


def old_path(outdir: Path, token: str) -> Path:
    """Where a date's earlier outputs wait while a run replaces them."""
    return outdir.with_name(f".{outdir.name}.old-{token}")


def publish(store_path: Path, token: str, work: Path, outdir: Path, moves: list) -> None:
    """Move outputs and submissions into place, journaled first so that recover() can undo it."""
    outdir.parent.mkdir(parents=True, exist_ok=True)
    staging = outdir.with_name(f".{outdir.name}.new-{token}")
    old = old_path(outdir, token)
    created = {p for _, dst in moves for p in (Path(dst).parent, Path(dst).parent.parent) if not p.exists()}
    _write_json(journal_path(store_path), {
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


def finish(store_path: Path, outdir: Path, token: str) -> None:
    """After COMMIT: the journal and the date's earlier outputs are no longer needed."""
    journal_path(store_path).unlink(missing_ok=True)
    shutil.rmtree(old_path(outdir, token), ignore_errors=True)


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
