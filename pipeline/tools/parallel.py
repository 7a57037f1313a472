"""Two parts of a job at once: a forked child does one while this process does the other.

The run is mostly Python, so threads would not help; a forked child starts at once with
everything already imported and loaded, and sends its result back pickled through a pipe.
The child dies with its parent, so a killed run leaves no process behind that still holds
the run's lock. Where fork is missing (Windows) or JIUZHU_WORKERS=1, both parts run here,
one after the other, with the same result.
"""

from __future__ import annotations

import os
import pickle
import signal
import struct
import traceback
from collections.abc import Callable
from typing import TypeVar

from pipeline.errors import WorkerError

A = TypeVar("A")
B = TypeVar("B")

PR_SET_PDEATHSIG = 1  # linux/prctl.h
MAX_TICKETS = 16_384  # 4 bytes each: all of them fit in a pipe's 64 KB buffer at once
RETRY = "请重新运行；如果再次出现，可设置环境变量 JIUZHU_WORKERS=1 只用一个进程运行，并把以上信息告知维护人员。"


def workers() -> int:
    """How many processes a job may use: JIUZHU_WORKERS, else the machine's cores."""
    try:
        wanted = int(os.environ.get("JIUZHU_WORKERS") or 0)
    except ValueError:
        wanted = 0
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, wanted or cores)


def both(there: Callable[[], A], here: Callable[[], B]) -> tuple[A, B]:
    """(there(), here()), with `there` run in a forked child while this process runs `here`.

    An exception in either part is raised here, as it was raised (or as WorkerError with
    the child's traceback when it cannot cross the pipe).

    Example: ledger_done, summary = both(lambda: write_ledger(...), lambda: write_summary(...))
    """
    if workers() < 2 or not hasattr(os, "fork"):
        return there(), here()
    read, write = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(read)
        _child(there, write, parent)
    os.close(write)
    try:
        mine = here()
    except BaseException:
        os.kill(pid, signal.SIGKILL)
        os.close(read)
        os.waitpid(pid, 0)
        raise
    with os.fdopen(read, "rb") as pipe:
        payload = pipe.read()
    _, status = os.waitpid(pid, 0)
    if not payload:
        raise WorkerError(f"并行处理的子进程意外退出（退出状态 {os.waitstatus_to_exitcode(status)}）。{RETRY}")
    try:
        ok, value, text = pickle.loads(payload)
    except Exception as exc:
        raise WorkerError(f"并行处理的子进程的结果无法读回（{exc}）。{RETRY}") from exc
    if not ok:
        raise value if isinstance(value, BaseException) else WorkerError(f"并行处理的子进程出错：\n{text}{RETRY}")
    return value, mine


def share(jobs: list[Callable[[], object]], here: Callable[[], B]) -> B:
    """here()'s result, with every job done once, by whichever process is free: a forked child
    takes jobs from the first while this process runs `here`, then this process joins in. The
    jobs' results are dropped, so a job must leave its work in files; like any forked work it
    must not use this process's SQLite connections. Without fork, or with one worker: here(),
    then the jobs in order, in this process.

    Example: summary = share([write_ledger, *packets], write_summary)
    """
    if workers() < 2 or not hasattr(os, "fork") or not jobs:
        mine = here()
        for job in jobs:
            job()
        return mine
    tickets = Tickets(len(jobs))

    def take() -> None:
        for n in tickets:
            jobs[n]()

    try:
        _, (mine, _) = both(take, lambda: (here(), take()))
    finally:
        tickets.close()
    return mine


def _child(there: Callable, write: int, parent: int) -> None:
    code = 1
    try:
        _die_with_parent(parent)
        result = there()
    except BaseException as exc:  # sent back to the parent, which raises it
        payload = _pickled((False, exc, traceback.format_exc()))
    else:
        code = 0
        payload = _pickled((True, result, ""))
    try:
        with os.fdopen(write, "wb") as pipe:
            pipe.write(payload)
    finally:
        os._exit(code)  # no atexit handlers, no flushing of the parent's buffers a second time


def _pickled(outcome: tuple) -> bytes:
    """The outcome as bytes. A result or exception that cannot be pickled, or an exception that
    pickles but cannot be rebuilt (tried here, before the parent tries), is sent as its traceback."""
    try:
        data = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
        if not outcome[0]:
            pickle.loads(data)
        return data
    except Exception:
        return pickle.dumps((False, None, outcome[2] or traceback.format_exc()))


def _die_with_parent(parent: int) -> None:
    """Ask Linux to kill this child when its parent dies; elsewhere a no-op."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request was made
        os._exit(1)


class Tickets:
    """The numbers 0 … n-1, each taken once by whichever process asks first.

    Made before a fork and shared by both sides: a pipe holding all the numbers, from which
    each side reads four bytes at a time (the kernel serialises the reads, so a number is
    never taken twice). A side that starts late simply takes fewer.

    Example: for n in Tickets(len(paths)): read(paths[n])  # on both sides of both()
    """

    def __init__(self, count: int):
        if count > MAX_TICKETS:
            raise ValueError(f"Tickets: at most {MAX_TICKETS}, not {count}")
        self.fd, write = os.pipe()
        if count:
            os.write(write, struct.pack(f"<{count}I", *range(count)))
        os.close(write)

    def __iter__(self):
        while len(data := os.read(self.fd, 4)) == 4:
            yield struct.unpack("<I", data)[0]

    def close(self) -> None:
        os.close(self.fd)
