"""Two parts of a job at once in a forked child: results, failures, and a child that dies with its run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from pipeline.demo import synth
from pipeline.errors import InputFileError, WorkerError
from pipeline.intake.check import check_files
from pipeline.publish import Lock
from pipeline.run import run
from pipeline.tools import parallel
from tests.test_run import make_week, snapshot

AS_OF = date(2026, 11, 28)
needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this system")


@needs_fork
def test_both_parts_run_at_once_in_two_processes(monkeypatch):
    monkeypatch.setenv("JIUZHU_WORKERS", "2")
    there, here = parallel.both(lambda: (os.getpid(), list(range(100_000))), lambda: os.getpid())
    assert there[0] != here == os.getpid()
    assert there[1] == list(range(100_000))  # larger than a pipe's buffer


def test_one_worker_runs_both_parts_here(monkeypatch):
    monkeypatch.setenv("JIUZHU_WORKERS", "1")
    assert parallel.both(os.getpid, os.getpid) == (os.getpid(), os.getpid())


@needs_fork
def test_a_failure_in_the_child_is_raised_here(monkeypatch):
    monkeypatch.setenv("JIUZHU_WORKERS", "2")

    def broken():
        raise KeyError("第3行")

    with pytest.raises(KeyError, match="第3行"):
        parallel.both(broken, lambda: 1)


@needs_fork
def test_a_child_that_cannot_send_its_result_is_a_clear_failure(monkeypatch):
    monkeypatch.setenv("JIUZHU_WORKERS", "2")
    with pytest.raises(WorkerError, match="JIUZHU_WORKERS=1"):
        parallel.both(lambda: os._exit(3), lambda: 1)
    with pytest.raises(WorkerError, match="pickle"):
        parallel.both(lambda: (lambda: 1), lambda: 1)  # a lambda cannot be pickled


class _Stubborn(Exception):
    def __init__(self, a, b):  # pickles, but cannot be rebuilt from its args
        super().__init__(f"{a}{b}")


@needs_fork
def test_errors_cross_from_the_child_intact_or_as_their_traceback(monkeypatch):
    monkeypatch.setenv("JIUZHU_WORKERS", "2")

    def unreadable():
        raise InputFileError("unreadable", "文件内容已损坏")

    with pytest.raises(InputFileError) as caught:
        parallel.both(unreadable, lambda: 1)
    assert (caught.value.code, caught.value.message) == ("unreadable", "文件内容已损坏")

    def stubborn():
        raise _Stubborn("甲", "乙")

    with pytest.raises(WorkerError, match="_Stubborn: 甲乙"):
        parallel.both(stubborn, lambda: 1)


@needs_fork
def test_a_failure_here_ends_the_child(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("JIUZHU_WORKERS", "2")
    marker = tmp_path / "child"

    def slow():
        marker.write_text(str(os.getpid()))
        time.sleep(60)

    def failing():
        while not marker.exists():
            time.sleep(0.01)
        raise ValueError("here")

    start = time.monotonic()
    with pytest.raises(ValueError):
        parallel.both(slow, failing)
    assert time.monotonic() - start < 10
    assert not _alive(int(marker.read_text()))


@needs_fork
def test_tickets_hand_out_each_number_once_across_both_processes(monkeypatch):
    monkeypatch.setenv("JIUZHU_WORKERS", "2")
    tickets = parallel.Tickets(400)

    def take() -> list[int]:  # a millisecond a number, as reading a file takes a while: neither side can
        taken = []            # take them all before the other starts, however the two are scheduled
        for number in tickets:
            taken.append(number)
            time.sleep(0.001)
        return taken

    try:
        theirs, ours = parallel.both(take, take)
    finally:
        tickets.close()
    assert sorted(theirs + ours) == list(range(400))
    assert theirs and ours  # both sides took part


@pytest.mark.parametrize("workers, ahead", [("1", False), ("2", False), ("2", True)],
                         ids=["one", "two, shares", "two, reading ahead"])
def test_check_files_reads_and_judges_alike_with_one_or_two_workers(tmp_path: Path, monkeypatch, workers: str,
                                                                      ahead: bool):
    """Two workers share the files out when pandas is loaded, as here; in a fresh process
    (ahead) a child reads them all while pandas loads, then the validation is shared."""
    monkeypatch.setenv("JIUZHU_WORKERS", "1")
    make_week(tmp_path)
    (tmp_path / "空文件.xlsx").write_bytes(b"")
    paths = sorted(tmp_path.iterdir())
    expected = check_files(paths, AS_OF)
    monkeypatch.setenv("JIUZHU_WORKERS", workers)
    if ahead:
        monkeypatch.delitem(sys.modules, "pandera")  # as if not loaded yet: nothing else looks it up
    told: list[Path] = []
    report = check_files(paths, AS_OF, on_read=told.append)
    assert report.to_list() == expected.to_list()
    assert [f.notes for f in report.files] == [f.notes for f in expected.files]
    assert sorted(told) == paths


CHILD_OUTLIVES_RUN = """
import os, sys, time
from pathlib import Path
from pipeline.tools import parallel
from pipeline.publish import Lock

def there():
    Path(sys.argv[1]).write_text(str(os.getpid()))
    time.sleep(120)

with Lock(Path(sys.argv[2])):
    parallel.both(there, lambda: time.sleep(120))
"""


@needs_fork
@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs /proc to see the child")
def test_a_killed_parent_takes_its_busy_child_along(tmp_path: Path):
    marker, store = tmp_path / "child", tmp_path / "s.sqlite3"
    proc = subprocess.Popen([sys.executable, "-c", CHILD_OUTLIVES_RUN, str(marker), str(store)],
                            env={**os.environ, "JIUZHU_WORKERS": "2"})
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    child = int(marker.read_text())
    gone = time.monotonic() + 10
    while _alive(child) and time.monotonic() < gone:
        time.sleep(0.02)
    assert not _alive(child), "the child outlived its killed parent"
    with Lock(store):  # and the run's lock is free at once
        pass


def test_one_or_two_workers_give_identical_outputs(tmp_path: Path, monkeypatch):
    """Also a roster too large for a forked ledger writer (outputs.FORK_OUTPUTS_BELOW), made so here."""
    outputs = []
    for workers, fork_below in (("1", None), ("2", None), ("2", 0)):
        monkeypatch.setenv("JIUZHU_WORKERS", workers)
        if fork_below is not None:
            monkeypatch.setattr("pipeline.reports.build.FORK_OUTPUTS_BELOW", fork_below)
        folder = tmp_path / f"{workers}-{fork_below}"
        make_week(folder / "inbox")
        synth.make_district(folder / "inbox", rows_per_township=30, seed=5, as_of=AS_OF,
                            townships=["太极镇", "濯水镇"], errors={"濯水镇": {"invalid_value": 2}})
        result = run(folder / "inbox", folder / "outbox", folder / "store.sqlite3", AS_OF)
        outputs.append(snapshot(result.outdir))
    for other in outputs[1:]:
        assert other.keys() == outputs[0].keys()
        for key in outputs[0]:
            assert other[key] == outputs[0][key], key


def _alive(pid: int) -> bool:
    """Running, as opposed to gone or a zombie waiting to be reaped."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _children(pid: int) -> set[int]:
    try:
        return set(map(int, Path(f"/proc/{pid}/task/{pid}/children").read_text().split()))
    except OSError:
        return set()


@needs_fork
@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs /proc to see the forked child")
@pytest.mark.parametrize("nth_child", [1, 2])  # the child that checks files; the one that writes the ledger
def test_a_killed_run_takes_its_child_along_and_locks_nobody_out(tmp_path: Path, nth_child: int):
    inbox, outbox, store = tmp_path / "inbox", tmp_path / "outbox", tmp_path / "s.sqlite3"
    synth.make_district(inbox, rows_per_township=400, seed=7, as_of=AS_OF, townships=["城西街道", "石会镇", "太极镇"])
    before = snapshot(inbox)
    env = {**os.environ, "JIUZHU_WORKERS": "2"}
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", "run", "--inbox", str(inbox), "--outbox",
                             str(outbox), "--store", str(store), "--as-of", AS_OF.isoformat()], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seen: list[int] = []
    deadline = time.monotonic() + 120
    while len(seen) < nth_child and proc.poll() is None and time.monotonic() < deadline:
        seen.extend(sorted(_children(proc.pid) - set(seen)))
        time.sleep(0.002)
    assert len(seen) >= nth_child, "the run ended before forking its child"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    child = seen[nth_child - 1]
    gone = time.monotonic() + 10
    while _alive(child) and time.monotonic() < gone:
        time.sleep(0.02)
    assert not _alive(child), f"the forked child {child} outlived its killed run"

    assert snapshot(inbox) == before and not snapshot(outbox)
    rerun = run(inbox, outbox, store, AS_OF)  # not refused: no orphan holds the lock
    assert rerun.stats["files"] == 3 and rerun.stats["rejected"] == 0
