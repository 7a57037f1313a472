"""The defects found by attacking the run (issue 17), each on real files and real processes:
names that are not UTF-8 or too long, every inbox entry accounted for, the lock on what the
paths really are."""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from pipeline.demo import synth
from pipeline.errors import RunLockedError
from pipeline.publish import Lock
from pipeline.run import run

AS_OF = date(2026, 11, 28)


def _report(outbox: Path, day: date = AS_OF) -> dict:
    return json.loads((outbox / day.isoformat() / "run-report.json").read_text(encoding="utf-8"))


def _statuses(outbox: Path) -> dict[str, tuple]:
    return {f["file"]: (f["status"], [e["code"] for e in f["errors"]]) for f in _report(outbox)["files"]}


def test_a_gbk_file_name_is_read_as_gb18030_and_the_run_goes_on(tmp_path: Path):
    inbox, outbox, store = tmp_path / "inbox", tmp_path / "outbox", tmp_path / "s.sqlite3"
    inbox.mkdir()
    made = synth.make_submission(tmp_path / "made.xlsx", "城西街道", 4, seed=1, as_of=AS_OF).path
    name = "城西街道1128明细表.xlsx"
    gbk = os.path.join(os.fsencode(inbox), name.encode("gbk"))  # as a zip made on Chinese Windows unpacks
    with open(gbk, "wb") as fh:
        fh.write(made.read_bytes())
    run(inbox, outbox, store, AS_OF)
    assert _statuses(outbox) == {name: ("accepted", [])}
    assert (inbox / "archive" / AS_OF.isoformat() / name).is_file()
    run(inbox, outbox, store, AS_OF)  # and every later run
    db = sqlite3.connect(store)
    assert db.execute("SELECT file, status FROM submissions").fetchall() == [(name, "accepted")]


def test_long_names_are_shortened_keeping_the_township_and_the_date(tmp_path: Path):
    inbox, outbox, store = tmp_path / "inbox", tmp_path / "outbox", tmp_path / "s.sqlite3"
    inbox.mkdir()
    stem = "城西街道" + "社会救助主动发现明细表" * 7 + "1128"  # 252 bytes of UTF-8 with .xlsx
    synth.make_submission(inbox / f"{stem}.xlsx", "城西街道", 4, seed=1, as_of=AS_OF, errors={"required": 1})
    run(inbox, outbox, store, AS_OF)
    feedback = _report(outbox)["files"][0]["feedback"]
    name = Path(feedback).name
    assert len(name.encode("utf-8")) <= 255 and (outbox / AS_OF.isoformat() / feedback).is_file()
    assert name.startswith("城西街道") and name.endswith("1128_退回意见.xlsx") and "…" in name
    # The same name received again, other bytes: the archive's （2） must fit too.
    synth.make_submission(inbox / f"{stem}.xlsx", "城西街道", 5, seed=2, as_of=AS_OF)
    run(inbox, outbox, store, AS_OF)
    archived = sorted(p.name for p in (inbox / "archive" / AS_OF.isoformat()).iterdir())
    assert len(archived) == 2 and all(len(n.encode("utf-8")) <= 255 for n in archived)
    assert archived[0].startswith("城西街道") and "（2）" in archived[0]


def test_every_entry_of_the_inbox_is_accounted_for_and_no_link_is_followed(tmp_path: Path):
    inbox, outbox, store = tmp_path / "inbox", tmp_path / "outbox", tmp_path / "s.sqlite3"
    inbox.mkdir()
    synth.make_submission(inbox / ".城西街道1128.xlsx", "城西街道", 3, seed=1, as_of=AS_OF)  # hidden, still sent
    outside = tmp_path / "outside.xlsx"
    synth.make_submission(outside, "石会镇", 3, seed=2, as_of=AS_OF)
    (inbox / "石会镇1128.xlsx").symlink_to(outside)
    (inbox / "失效链接.xlsx").symlink_to(tmp_path / "gone.xlsx")
    (inbox / "文件夹链接").symlink_to(tmp_path, target_is_directory=True)
    os.mkfifo(inbox / "管道.xlsx")
    (inbox / "Thumbs.db").write_bytes(b"system")
    run(inbox, outbox, store, AS_OF)
    statuses = _statuses(outbox)
    assert statuses[".城西街道1128.xlsx"] == ("accepted", [])
    for link in ("石会镇1128.xlsx", "失效链接.xlsx", "文件夹链接"):
        assert statuses[link] == ("rejected", ["unsupported_type"])
        assert (inbox / "rejected" / link).is_symlink()  # the link itself, never what it points to
    assert statuses["管道.xlsx"] == ("rejected", ["unreadable"])
    assert "Thumbs.db" not in statuses and (inbox / "Thumbs.db").exists()
    assert outside.is_file()  # read from nowhere, moved nowhere


@pytest.mark.parametrize("other", ["spelling", "symlink"])
def test_the_lock_is_on_the_store_itself_however_it_is_written(tmp_path: Path, other: str):
    inbox, outbox = tmp_path / "inbox", tmp_path / "outbox"
    inbox.mkdir()
    (tmp_path / "data").mkdir()
    store = tmp_path / "data" / "s.sqlite3"
    if other == "spelling":
        again = tmp_path / "data" / ".." / "data" / "s.sqlite3"
    else:
        again = tmp_path / "link.sqlite3"
        store.touch()
        again.symlink_to(store)
    with Lock(store):
        with pytest.raises(RunLockedError, match="台账数据库"):
            run(inbox, outbox, again, AS_OF)


@pytest.mark.parametrize("shared", ["inbox", "outbox"])
def test_a_second_run_on_the_same_inbox_or_outbox_refuses(tmp_path: Path, shared: str):
    folders = {"inbox": tmp_path / "inbox", "outbox": tmp_path / "outbox"}
    folders["inbox"].mkdir()
    with Lock(tmp_path / "first.sqlite3", folders["inbox"], folders["outbox"]):
        mine = {**{k: tmp_path / f"mine-{k}" for k in folders}, shared: folders[shared]}
        mine["inbox"].mkdir(exist_ok=True)
        with pytest.raises(RunLockedError, match=f"文件夹 {folders[shared].resolve()}"):
            run(mine["inbox"], mine["outbox"], tmp_path / "second.sqlite3", AS_OF)
    assert not (folders["inbox"] / ".jiuzhu-lock").exists()


def _week_outputs(outbox: Path) -> dict[str, bytes]:
    folder = outbox / AS_OF.isoformat()
    return {name: (folder / name).read_bytes() for name in ("run-report.json", "汇总报告.html")}


def test_a_late_attachment_run_the_same_day_gives_the_report_of_one_run_with_all_files(tmp_path: Path):
    def inbox_of(root: Path, late: bool) -> Path:
        inbox = root / "inbox"
        synth.make_district(inbox, rows_per_township=6, seed=5, as_of=AS_OF, townships=["城西街道", "石会镇"],
                            errors={"石会镇": {"required": 1}})
        if late:
            synth.make_submission(inbox / "濯水镇1128.xlsx", "濯水镇", 4, seed=6, as_of=AS_OF)
        return inbox

    once = tmp_path / "once"
    run(inbox_of(once, late=True), once / "outbox", once / "s.sqlite3", AS_OF)
    twice = tmp_path / "twice"
    inbox = inbox_of(twice, late=False)
    run(inbox, twice / "outbox", twice / "s.sqlite3", AS_OF)
    synth.make_submission(inbox / "濯水镇1128.xlsx", "濯水镇", 4, seed=6, as_of=AS_OF)
    run(inbox, twice / "outbox", twice / "s.sqlite3", AS_OF)
    assert _week_outputs(twice / "outbox") == _week_outputs(once / "outbox")
    assert len(_report(twice / "outbox")["files"]) == 3
    # A run again with nothing new (a kill after COMMIT, then the rerun) keeps the week whole.
    run(inbox, twice / "outbox", twice / "s.sqlite3", AS_OF)
    assert _week_outputs(twice / "outbox") == _week_outputs(once / "outbox")
    # and `jiuzhu report` rebuilds exactly that page.
    from pipeline.rebuild import rebuild
    page = (twice / "outbox" / AS_OF.isoformat() / "汇总报告.html").read_bytes()
    rebuild(twice / "outbox", twice / "s.sqlite3", AS_OF)
    assert (twice / "outbox" / AS_OF.isoformat() / "汇总报告.html").read_bytes() == page
