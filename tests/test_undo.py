"""Undo and backups (issue 16.1): the snapshot before each run, `jiuzhu undo`, `jiuzhu backup`,
and the --yes asked for a run that is most likely a slip. Real files, a real store."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline import publish, undo
from pipeline.cli import main
from pipeline.demo import synth
from pipeline.errors import ConfirmationNeeded, JiuzhuError
from pipeline.roster import snapshots
from pipeline.run import run

AS_OF = date(2026, 11, 28)
WRONG = date.today() + timedelta(days=365)  # this year meant, next year typed


def week(inbox: Path, seed: int, as_of: date, townships=("城西街道", "石会镇")) -> None:
    errors = {"石会镇": {"invalid_id": 1}} if "石会镇" in townships else {}
    synth.make_district(inbox, rows_per_township=8, seed=seed, as_of=as_of, townships=list(townships), errors=errors)


def dump(store: Path) -> list[str]:
    db = sqlite3.connect(store)
    try:
        return list(db.iterdump())
    finally:
        db.close()


def files(folder: Path) -> dict[str, str]:
    """Every file under the folder (path relative to it → sha256)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def place(tmp_path: Path):
    inbox, outbox, store = tmp_path / "inbox", tmp_path / "outbox", tmp_path / "jiuzhu.sqlite3"
    week(inbox, 1, AS_OF)
    run(inbox, outbox, store, AS_OF)
    return inbox, outbox, store


def test_undo_after_a_wrong_date_restores_the_store_and_the_inbox(place):
    inbox, outbox, store = place
    week(inbox, 2, AS_OF + timedelta(days=7))
    before_store, before_inbox, before_outbox = dump(store), files(inbox), files(outbox)

    with pytest.raises(ConfirmationNeeded, match="--yes"):  # asked first, nothing done
        run(inbox, outbox, store, WRONG)
    assert dump(store) == before_store and files(inbox) == before_inbox

    run(inbox, outbox, store, WRONG, yes=True)
    assert files(inbox) != before_inbox and (outbox / WRONG.isoformat()).is_dir()
    with pytest.raises(JiuzhuError, match="不能再按更早的日期"):  # the wrong date locks the store…
        run(inbox, outbox, store, AS_OF + timedelta(days=7))

    done = undo.undo(store)  # …until it is undone
    assert dump(store) == before_store
    assert files(inbox) == before_inbox
    assert not (outbox / WRONG.isoformat()).exists()
    aside = [p for p in outbox.iterdir() if p.name.startswith(f"{WRONG.isoformat()}.{undo.SET_ASIDE}-")]
    assert len(aside) == 1 and (aside[0] / "汇总报告.html").is_file()  # set aside, not deleted
    assert {k: v for k, v in files(outbox).items() if not k.startswith(aside[0].name)} == before_outbox
    assert any("个文件已移回收件箱" in line for line in done.lines)

    result = run(inbox, outbox, store, AS_OF + timedelta(days=7))  # the week as it should have been
    assert result.stats["files"] == len([name for name in before_inbox if "/" not in name])


def test_undo_of_a_same_day_rerun_brings_back_the_earlier_outputs(place):
    inbox, outbox, store = place
    first_outputs, first_store = files(outbox / AS_OF.isoformat()), dump(store)
    synth.make_district(inbox, rows_per_township=5, seed=3, as_of=AS_OF, townships=["濯水镇"])  # a late mail
    run(inbox, outbox, store, AS_OF)
    assert files(outbox / AS_OF.isoformat()) != first_outputs

    undo.undo(store)
    assert dump(store) == first_store
    assert files(outbox / AS_OF.isoformat()) == first_outputs
    late = [p.name for p in inbox.iterdir() if p.is_file()]
    assert len(late) == 1 and late[0].startswith("濯水")  # the late file is back, to be run again


def test_undo_goes_back_one_command_at_a_time_and_says_when_there_is_none(tmp_path: Path):
    inbox, outbox, store = tmp_path / "inbox", tmp_path / "outbox", tmp_path / "s.sqlite3"
    week(inbox, 1, AS_OF)
    sent = set(files(inbox))
    run(inbox, outbox, store, AS_OF)
    after_first = dump(store)
    week(inbox, 2, AS_OF + timedelta(days=7))
    sent |= {name for name in files(inbox) if "/" not in name}
    run(inbox, outbox, store, AS_OF + timedelta(days=7))

    assert "2026-12-05" in undo.undo(store).label
    assert dump(store) == after_first
    assert "2026-11-28" in undo.undo(store).label
    assert not [line for line in dump(store) if line.startswith("INSERT")]  # as new: nothing recorded
    assert set(files(inbox)) == sent  # every file of both weeks back in the inbox, none lost
    assert all(undo.SET_ASIDE in p.name for p in outbox.iterdir())
    with pytest.raises(JiuzhuError, match="没有可以撤销的操作"):
        undo.undo(store)


def test_mail_fetched_and_sent_since_the_run_is_kept(place):
    inbox, outbox, store = place
    week(inbox, 2, AS_OF + timedelta(days=7))
    run(inbox, outbox, store, AS_OF + timedelta(days=7))
    db = sqlite3.connect(store)
    db.execute("INSERT INTO mail_out (key, kind, township, recipients, subject, message_id, status, updated) "
               "VALUES ('receipt:1', 'receipt', '城西街道', 'a@example.org', '回执', '<1@x>', 'sent', '2026-12-05')")
    db.commit()
    db.close()
    undo.undo(store)
    db = sqlite3.connect(store)
    assert db.execute("SELECT count(*) FROM mail_out").fetchone()[0] == 1  # never sent twice
    assert db.execute("SELECT max(as_of) FROM runs").fetchone()[0] == AS_OF.isoformat()
    db.close()


def test_a_run_whose_letters_went_out_is_undone_only_with_yes(place):
    inbox, outbox, store = place
    db = sqlite3.connect(store)
    db.execute("INSERT INTO reminder_letters (as_of, township, person_key, issued_on, issued_by) "
               "VALUES (?, '城西街道', 'k', '2026-11-30', 'paper')", (AS_OF.isoformat(),))
    db.commit()
    db.close()
    before = dump(store)
    with pytest.raises(JiuzhuError, match="催办通知.*--yes"):
        undo.undo(store)
    assert dump(store) == before
    undo.undo(store, yes=True)


def test_a_first_run_on_an_empty_inbox_asks_for_yes(tmp_path: Path):
    inbox, outbox, store = tmp_path / "inbox", tmp_path / "outbox", tmp_path / "s.sqlite3"
    inbox.mkdir()
    with pytest.raises(ConfirmationNeeded, match="收件箱.*没有任何文件.*--yes"):
        run(inbox, outbox, store, AS_OF)
    assert not (outbox / AS_OF.isoformat()).exists()
    assert run(inbox, outbox, store, AS_OF, yes=True).stats["files"] == 0
    run(inbox, outbox, store, AS_OF + timedelta(days=7))  # an empty week later on is an ordinary week


def test_snapshots_are_pruned_to_the_configured_number(place, monkeypatch):
    inbox, outbox, store = place
    from pipeline.rules import spec

    limits = {**spec.thresholds(), "keep_snapshots": 2}
    monkeypatch.setattr(spec, "thresholds", lambda: limits)
    for n in range(1, 4):
        week(inbox, 10 + n, AS_OF + timedelta(days=7 * n), townships=("城西街道",))
        run(inbox, outbox, store, AS_OF + timedelta(days=7 * n), yes=True)  # may be ahead of today
    kept = snapshots.records(store)
    assert [s.record["as_of"] for s in kept] == ["2026-12-12", "2026-12-19"]
    assert sorted(p.suffix for p in snapshots.folder(store).iterdir()) == [".json", ".json", ".sqlite3", ".sqlite3"]


def test_a_run_that_fails_leaves_no_step_to_undo(place, monkeypatch):
    inbox, outbox, store = place
    before, kept = dump(store), [s.meta.name for s in snapshots.records(store)]
    week(inbox, 2, AS_OF + timedelta(days=7))

    def full_disk(*_):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(publish, "publish", full_disk)
    with pytest.raises(JiuzhuError, match="本次汇总没有完成"):
        run(inbox, outbox, store, AS_OF + timedelta(days=7))
    assert dump(store) == before
    assert [s.meta.name for s in snapshots.records(store)] == kept
    assert "2026-11-28" in undo.undo(store).label  # the step before is still the one to undo


def test_backup_is_a_consistent_copy_and_refuses_what_it_should(place, tmp_path: Path):
    inbox, outbox, store = place
    copy, held = undo.backup(store, str(tmp_path / "备份") + "/")
    assert copy.parent == tmp_path / "备份" and held["runs"] == 1 and held["persons"] > 0
    assert dump(copy) == dump(store)
    assert not list(copy.parent.glob("*-wal"))  # one self-contained file
    with pytest.raises(JiuzhuError, match="已存在"):
        undo.backup(store, copy)
    with pytest.raises(JiuzhuError, match="不存在"):
        undo.backup(store, tmp_path / "没有的文件夹" / "x.sqlite3")
    with publish.Lock(store), pytest.raises(JiuzhuError, match="正在使用"):
        undo.backup(store, tmp_path / "while-running.sqlite3")


def test_the_commands_speak_chinese(place, tmp_path: Path):
    inbox, outbox, store = place
    runner = CliRunner()
    refused = runner.invoke(main, ["run", "--inbox", str(inbox), "--outbox", str(outbox), "--store", str(store),
                                   "--as-of", WRONG.isoformat()])
    assert refused.exit_code == 1 and "比今天" in refused.output and "--yes" in refused.output
    listed = runner.invoke(main, ["undo", "--list", "--store", str(store)])
    assert listed.exit_code == 0 and "可撤销" in listed.output and "汇总日期 2026-11-28 的汇总" in listed.output
    done = runner.invoke(main, ["undo", "--store", str(store), "--by", "王科长"])
    assert done.exit_code == 0 and done.output.startswith("已撤销：汇总日期 2026-11-28 的汇总")
    assert "王科长" in runner.invoke(main, ["undo", "--list", "--store", str(store)]).output
    again = runner.invoke(main, ["undo", "--store", str(store)])
    assert again.exit_code == 1 and "没有可以撤销的操作" in again.output
    backed = runner.invoke(main, ["backup", str(tmp_path / "b.sqlite3"), "--store", str(store)])
    assert backed.exit_code == 0 and "已备份到" in backed.output


# --- found by attacking it (a hostile operator) --------------------------------------------


def test_undo_from_another_folder_puts_the_files_back_where_the_run_took_them(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    week(Path("inbox"), 1, AS_OF)
    sent = files(Path("inbox"))
    run(Path("inbox"), Path("outbox"), Path("s.sqlite3"), AS_OF)  # relative paths, as an operator types them
    elsewhere = tmp_path / "另一个文件夹"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    done = undo.undo(tmp_path / "s.sqlite3")
    assert files(tmp_path / "inbox") == sent and not any("已不在" in line for line in done.lines)
    assert not (tmp_path / "outbox" / AS_OF.isoformat()).exists()


def test_a_damaged_record_stops_the_undo_instead_of_going_back_further(place):
    inbox, outbox, store = place
    week(inbox, 2, AS_OF + timedelta(days=7))
    run(inbox, outbox, store, AS_OF + timedelta(days=7))
    before = dump(store)
    newest = snapshots.records(store)[-1].meta
    newest.write_text("garbage{", encoding="utf-8")
    with pytest.raises(JiuzhuError, match="快照记录 .* 已损坏"):
        undo.undo(store)
    assert dump(store) == before
    newest.write_text('{"command": "run", "state": "done", "moves": []}', encoding="utf-8")  # fields missing
    with pytest.raises(JiuzhuError, match="已损坏"):
        undo.undo(store)
    listed = CliRunner().invoke(main, ["undo", "--list", "--store", str(store)])
    assert listed.exit_code == 0 and "记录已损坏" in listed.output


def test_files_gone_from_the_archive_stop_the_undo_unless_yes(place):
    inbox, outbox, store = place
    before = dump(store)
    archived = sorted((inbox / "archive" / AS_OF.isoformat()).iterdir())
    archived[0].rename(archived[0].with_name("拿走了.xlsx"))
    with pytest.raises(JiuzhuError, match="已不在原来存放的位置.*--yes"):
        undo.undo(store)
    assert dump(store) == before
    done = undo.undo(store, yes=True)
    assert any("已不在存档文件夹中" in line for line in done.lines)


def test_undo_after_undo_never_leaves_nothing_to_undo(place, monkeypatch):
    inbox, outbox, store = place
    from pipeline.rules import spec

    limits = {**spec.thresholds(), "keep_snapshots": 2}
    monkeypatch.setattr(spec, "thresholds", lambda: limits)
    later = AS_OF + timedelta(days=7)
    week(inbox, 2, later)
    for _ in range(5):  # run, undo, run, undo…: the undone runs and the copies are not what is kept
        run(inbox, outbox, store, later)
        undo.undo(store)
    assert len(snapshots.records(store)) <= 3 * 2
    assert "2026-11-28" in undo.undo(store).label  # the first week's run can still be undone


def test_two_backups_into_one_folder_in_the_same_second_are_both_kept(place, tmp_path: Path):
    inbox, outbox, store = place
    first, _ = undo.backup(store, str(tmp_path / "bk") + "/")
    second, _ = undo.backup(store, str(tmp_path / "bk") + "/")
    assert first != second and first.is_file() and second.is_file()
    with pytest.raises(JiuzhuError, match="就是台账数据库本身"):
        undo.backup(store, store)
