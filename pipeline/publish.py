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
import glob
import json
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from pipeline import settings
from pipeline.errors import JiuzhuError, RunLockedError
from pipeline.intake.inbox import shown_name
from pipeline.model import FileReport
from pipeline.tools import names

try:  # Linux, macOS
    import fcntl
except ImportError:  # Windows
    fcntl = None
try:
    import msvcrt
except ImportError:
    msvcrt = None


class Lock:
    """Exclusive locks on the store and on the folders a run moves files in and out of, taken on
    their resolved paths (another spelling or a symlink is the same store), released by the
    system when the process dies. fcntl on Linux and macOS, msvcrt on Windows."""

    def __init__(self, store_path: Path, *folders: Path):
        store_path = Path(store_path).resolve()
        self.targets = [(Path(f"{store_path}.lock"), f"台账数据库（{store_path.name}）")]
        seen = {store_path}
        for folder in map(lambda f: Path(f).resolve(), folders):
            if folder not in seen:
                seen.add(folder)
                self.targets.append((folder / settings.LOCK_NAME, f"文件夹 {folder}"))
        self.held: list = []
        self.path = self.targets[0][0]

    def __enter__(self) -> Lock:
        try:
            for path, what in self.targets:
                path.parent.mkdir(parents=True, exist_ok=True)
                held = _lock(path)
                if held is None:
                    raise RunLockedError(
                        f"另一个 jiuzhu run（或撤销、更正、备份）正在使用{what}，本次没有进行。"
                        "请等它结束后再试；如果确定没有在运行，请稍后重试。")
                self.held.append((path, held))
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc) -> None:
        while self.held:
            _unlock(*self.held.pop())


def _lock(path: Path):
    """What holds the lock on `path` (the store's lock file, or a folder's lock name in it);
    None when another process holds it. On Linux and macOS a folder is locked itself (its own
    descriptor), so nothing is left in the inbox; on Windows a lock file is made and removed."""
    if fcntl is not None:
        folder = path.name == settings.LOCK_NAME
        fd = os.open(path.parent if folder else path, os.O_RDONLY if folder else os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        return fd
    if msvcrt is not None:
        fh = path.open("a+b")
        try:
            fh.seek(0)
            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            fh.close()
            return None
        return fh
    try:  # neither: the lock is the file's existence, removed on the way out
        return os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return None


def _unlock(path: Path, held) -> None:
    if fcntl is not None:
        fcntl.flock(held, fcntl.LOCK_UN)
        os.close(held)
        return
    if msvcrt is not None:
        held.seek(0)
        with contextlib.suppress(OSError):
            msvcrt.locking(held.fileno(), msvcrt.LK_UNLCK, 1)
        held.close()
    else:
        os.close(held)
    if path.name == settings.LOCK_NAME or msvcrt is None:
        with contextlib.suppress(OSError):
            path.unlink()


def preflight(inbox: Path, outbox: Path, store_path: Path) -> None:
    """Refuse at once, with what to do, a run that could not move its files at the end: a
    read-only inbox, outbox or store folder, a file where a folder must go."""
    if outbox.exists() and not outbox.is_dir():
        raise JiuzhuError(f"输出文件夹 {outbox} 是一个文件，不是文件夹。请把它改名或移走，或用 --outbox 指定另一个文件夹。")
    for name in (settings.ARCHIVE_DIR, settings.REJECTED_DIR):
        if (inbox / name).exists() and not (inbox / name).is_dir():
            raise JiuzhuError(f"收件箱中有一个名为「{name}」的文件，而 jiuzhu 要用这个名字的文件夹存放处理过的文件。"
                              "请把这个文件改名后重新运行。")
    for folder, what in ((inbox, "收件箱"), (outbox if outbox.is_dir() else outbox.parent, "输出文件夹"),
                         (Path(store_path).parent, "台账数据库所在的文件夹")):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=folder):
                pass
        except OSError as exc:
            raise JiuzhuError(f"{what} {folder} 无法写入（{exc.strerror or exc}），本次没有运行。"
                              "jiuzhu 要在其中写入或移动文件：请检查文件夹的权限和磁盘空间后重新运行。") from exc


class InterruptsHeld:
    """Ctrl-C held back from the first move of a run's files to the end of its COMMIT, so that a
    run is either undone or whole; `interrupted` tells that one came in meanwhile."""

    def __init__(self):
        self.interrupted, self._previous = False, None

    def __enter__(self) -> InterruptsHeld:
        return self

    def arm(self) -> None:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._note)

    def _note(self, *_) -> None:
        self.interrupted = True

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


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


def unique(path: Path) -> Path:
    """path, or path with （2）, （3）… when a file of that name is already there."""
    candidate, n = path, 2
    while candidate.exists():
        candidate = path.with_name(names.fitted(f"{path.stem}（{n}）", path.suffix))
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
        _keep_earlier(old, plan.get("keep"))
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
    return unique(folder / shown_name(reports[0].path))


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


def created(moves: list) -> list[str]:
    """The folders that the moves will make (archive/, archive/<date>/), deepest first."""
    made = {p for _, dst in moves for p in (Path(dst).parent, Path(dst).parent.parent) if not p.exists()}
    return sorted(map(str, made), key=len, reverse=True)


def publish(store_path: Path, token: str, work: Path, outdir: Path, moves: list, keep: Path | None = None) -> None:
    """Move outputs and submissions into place, journaled first so that recover() can undo it.
    `keep`: where the date's earlier outputs go once the run has committed (its snapshot's folder)."""
    outdir.parent.mkdir(parents=True, exist_ok=True)
    staging = outdir.with_name(f".{outdir.name}.new-{token}")
    old = old_path(outdir, token)
    _write_json(journal_path(store_path), {
        "token": token, "outdir": str(outdir), "old": str(old), "staging": str(staging),
        "had_outdir": outdir.exists(), "moves": moves, "created": created(moves),
        "keep": str(keep) if keep else None})
    try:
        os.rename(work, staging)
    except OSError:  # the outbox is on another disk
        shutil.copytree(work, staging)
    shared_mode(staging)
    if outdir.exists():
        os.replace(outdir, old)
    os.replace(staging, outdir)
    for src, dst in moves:
        Path(dst).parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, dst)


def shared_mode(folder: Path) -> None:
    """Give a published date folder the mode a folder the operator makes would have. The work
    folder is private (0700) while the roster is rendered into it beside the store; once the
    outputs are in the outbox, who may read them is the outbox's business (its folder and the
    user's umask), as for any folder the bureau shares."""
    mask = os.umask(0)
    os.umask(mask)
    with contextlib.suppress(OSError):
        os.chmod(folder, 0o777 & ~mask)


def finish(store_path: Path, outdir: Path, token: str, keep: Path | None = None) -> None:
    """After COMMIT: the journal is no longer needed; the date's earlier outputs go to `keep`
    (for `jiuzhu undo`), or are removed."""
    _keep_earlier(old_path(outdir, token), keep)
    journal_path(store_path).unlink(missing_ok=True)


def _keep_earlier(old: Path, keep) -> None:
    if keep and old.exists():
        with contextlib.suppress(OSError, shutil.Error):
            shutil.move(str(old), str(keep))
    shutil.rmtree(old, ignore_errors=True)


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        json.dump(data, fh)  # ASCII: a name that is not UTF-8 (escaped bytes) survives the round trip
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
