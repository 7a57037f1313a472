"""The SQLite store (pipeline/roster/store.py), the runs it records (runs.py) and the files it
has received (submissions.py), on real store files in tmp_path."""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from pipeline.demo import synth
from pipeline.errors import JiuzhuError, StoreError
from pipeline.model import FileReport
from pipeline.roster import runs, store, submissions
from pipeline.rules import townships
from pipeline.run import run

NOV13, NOV20, NOV27, DEC4 = date(2026, 11, 13), date(2026, 11, 20), date(2026, 11, 27), date(2026, 12, 4)
TABLES = ["aliases", "assistants", "corrections", "letter_numbers", "mail_files", "mail_messages", "mail_out",
          "overrides", "persons", "problems", "rejected_rows", "reminder_letters", "reminders", "runs", "submissions",
          "versions", "visits", "withdrawn"]


@pytest.fixture
def db(tmp_path: Path):
    connection = store.connect(tmp_path / "jiuzhu.sqlite3")
    yield connection
    connection.close()


def tables(db: sqlite3.Connection) -> list[str]:
    return [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]


def columns(db: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in db.execute(f"PRAGMA table_info({table})")]


# --- store -----------------------------------------------------------------------------


def test_a_new_file_has_no_schema_until_the_first_transaction(db):
    assert (store.has_schema(db), tables(db), runs.latest(db), submissions.known(db)) == (False, [], None, {})
    with store.transaction(db):
        pass
    assert store.has_schema(db) and tables(db) == TABLES
    assert db.execute("PRAGMA user_version").fetchone()[0] == store.SCHEMA_VERSION == len(store.MIGRATIONS)


def test_migrations_bring_a_version_1_store_to_the_current_schema(tmp_path: Path):
    path = tmp_path / "jiuzhu.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(store.MIGRATIONS[0])
    old.executescript(
        "INSERT INTO runs (token, as_of, report) VALUES ('t', '2026-11-20', '{}');"
        "INSERT INTO submissions (run_id, file, sha256, township, received, status, has_form, rows, accepted, "
        "rejected) VALUES (1, '城西1120.xlsx', 'abc', '城西街道', '2026-11-20', 'accepted', 1, 1, 1, 0);"
        "INSERT INTO persons (key, township, name, data, status, discovered, first_seen, updated, submission_id) "
        "VALUES ('城西街道||张三', '城西街道', '张三', '{}', 'pending', '2026-11-02', '2026-11-20', '2026-11-20', 1);"
        "PRAGMA user_version = 1;")
    old.close()
    db = store.connect(path)
    assert "decided_on" not in columns(db, "persons")
    with store.transaction(db):
        pass
    assert db.execute("PRAGMA user_version").fetchone()[0] == store.SCHEMA_VERSION
    assert columns(db, "persons")[-1] == "decided_on" and columns(db, "submissions")[-1] == "sender"
    assert [tuple(r) for r in db.execute("SELECT key, status, decided_on FROM persons")] == [
        ("城西街道||张三", "pending", None)]
    assert [tuple(r) for r in db.execute("SELECT file, sender FROM submissions")] == [("城西1120.xlsx", None)]
    db.close()


def test_a_store_from_a_newer_jiuzhu_is_refused(tmp_path: Path):
    path = tmp_path / "jiuzhu.sqlite3"
    newer = sqlite3.connect(path)
    newer.execute(f"PRAGMA user_version = {store.SCHEMA_VERSION + 1}")
    newer.close()
    with pytest.raises(StoreError) as refused:
        store.connect(path)
    assert str(refused.value) == f"台账数据库 {path} 由更新版本的 jiuzhu 创建（版本 {store.SCHEMA_VERSION + 1}），请升级 jiuzhu。"


def test_a_file_that_is_no_database_is_refused(tmp_path: Path):
    path = tmp_path / "jiuzhu.sqlite3"
    path.write_bytes("这不是数据库".encode() * 200)
    with pytest.raises(StoreError) as refused:
        store.connect(path)
    assert str(refused.value) == (f"台账数据库 {path} 文件已损坏，无法读取。请用备份恢复这个文件"
                                  "（jiuzhu backup 写的副本，或运行前自动保存的快照）。")


@pytest.mark.parametrize("existing", [False, True], ids=["new store", "existing store"])
def test_a_rolled_back_transaction_leaves_nothing(db, existing: bool):
    if existing:
        with store.transaction(db):
            runs.start(db, "kept", NOV20)
    with pytest.raises(RuntimeError, match="killed"), store.transaction(db):
        runs.start(db, "lost", NOV27)
        raise RuntimeError("killed")
    assert store.has_schema(db) is existing
    assert runs.latest(db) == ("2026-11-20" if existing else None)
    assert not runs.committed(db, "lost") and runs.committed(db, "kept") is existing


@pytest.mark.parametrize("record, text", [
    ({"name": "张三", "township": "城西街道"}, '{"name":"张三","township":"城西街道"}'),
    ({"b": None, "a": ["低保", 3]}, '{"a":["低保",3],"b":null}'),
    ({"z": {"备注": "无", "乙": 1, "甲": 2}}, '{"z":{"乙":1,"备注":"无","甲":2}}'),  # code point order
    ({"discovered": date(2026, 11, 2), "path": Path("inbox/城西.xlsx")},
     '{"discovered":"2026-11-02","path":"inbox/城西.xlsx"}'),
])
def test_dumps_sorts_keys_keeps_chinese_and_loads_reads_it_back(record, text):
    assert store.dumps(record) == text
    assert store.loads(text) == json.loads(text)
    assert store.dumps(store.loads(text)) == text


# --- runs ------------------------------------------------------------------------------


def _runs(db, *reports: tuple[date, object]) -> None:
    """Committed runs with their stored report text (a dict, or text as found in a damaged store)."""
    with store.transaction(db):
        for n, (day, report) in enumerate(reports):
            run_id = runs.start(db, f"run{n}", day)
            if isinstance(report, dict):
                runs.finish(db, run_id, report)
            elif report is not None:
                db.execute("UPDATE runs SET report = ? WHERE id = ?", (report, run_id))


@pytest.mark.parametrize("as_of, message", [
    (NOV27, None), (DEC4, None),
    (NOV20, ("台账数据库中已有 2026-11-27 的汇总，不能再按更早的日期 2026-11-20 汇总：名册里已有之后报来的数据，结果会与当时不一致；"
             "还会覆盖当天的报表。2026-11-20 的报表仍在输出文件夹的 2026-11-20 中。新收到的文件请按 2026-11-27 或更晚的日期汇总（--as-of）。")),
    (NOV13, ("台账数据库中已有 2026-11-27 的汇总，不能再按更早的日期 2026-11-13 汇总：名册里已有之后报来的数据，结果会与当时不一致；"
             "这一天没有做过汇总。新收到的文件请按 2026-11-27 或更晚的日期汇总（--as-of）。")),
], ids=["the latest date", "later", "an earlier date that was run", "an earlier date never run"])
def test_refuse_earlier(db, as_of: date, message: str | None):
    _runs(db, (NOV20, {}), (NOV27, {}))
    assert runs.latest(db) == "2026-11-27"
    if message is None:
        runs.refuse_earlier(db, as_of, "汇总")
        return
    with pytest.raises(JiuzhuError) as refused:
        runs.refuse_earlier(db, as_of, "汇总")
    assert str(refused.value) == message


def test_refuse_earlier_lets_a_new_store_run_any_date(db):
    runs.refuse_earlier(db, NOV13, "汇总")
    assert not store.has_schema(db)


def test_stored_report_is_the_latest_completed_run_on_or_before_the_date(db):
    first, second = {"files": [], "roster": {"total": 1}}, {"files": [{"file": "城西.xlsx"}], "roster": {"total": 2}}
    _runs(db, (NOV20, first), (NOV27, second), (NOV27, None), (NOV27, "不是 JSON"), (NOV27, '["a list"]'),
          (DEC4, {"roster": {"total": 9}}))
    assert runs.stored_report(db, DEC4) == (NOV27, second)  # a report without files is not a completed run
    assert runs.stored_report(db, date(2026, 11, 26)) == (NOV20, first)
    assert runs.stored_report(db, NOV13) is None


def test_roster_figures_are_the_latest_runs_of_each_date(db):
    _runs(db, (NOV20, {"files": [], "roster": {"total": 3}}), (NOV20, {"files": [], "roster": {"total": 4}}),
          (NOV27, {"files": []}), (DEC4, {"files": [], "roster": {"total": 6}}))
    assert runs.roster_figures(db, DEC4) == {"2026-11-20": {"total": 4}, "2026-12-04": {"total": 6}}
    assert runs.roster_figures(db, NOV27) == {"2026-11-20": {"total": 4}}


# --- submissions -----------------------------------------------------------------------


def test_known_is_every_file_but_copies_and_the_first_received_wins(db):
    def report(file: str, sha: str, status: str, township: str | None) -> FileReport:
        return FileReport(file=file, path=Path(file), sha256=sha, status=status, township=township, has_form=True,
                          rows=2, accepted=2)

    with store.transaction(db):
        run_id = runs.start(db, "run", NOV27)
        for r in [report("城西.xlsx", "aaa", "accepted", "城西街道"), report("城西副本.xlsx", "aaa", "accepted", "城西街道"),
                  report("城西再发.xlsx", "aaa", "duplicate", "城西街道"), report("石会.xlsx", "bbb", "duplicate", "石会镇")]:
            submissions.record(db, run_id, r, NOV27)
    assert submissions.known(db) == {"aaa": submissions.Known("城西街道", True, "城西.xlsx", 2, "2026-11-27")}


def _week(tmp_path: Path, as_of: date) -> None:
    run(tmp_path / "inbox", tmp_path / "outbox", tmp_path / "jiuzhu.sqlite3", as_of)


def test_missing_townships_counts_who_sent_the_form_this_week(tmp_path: Path):
    inbox = tmp_path / "inbox"
    synth.write_zero_report(inbox / "太极镇零报告.xlsx", "太极镇", filled_date=NOV20)
    synth.make_submission(inbox / "城西1120.xlsx", "城西街道", 3, as_of=NOV20)
    (inbox / "黔江区水田乡1120.xlsx").write_bytes(b"")  # unreadable: 水田乡 is still to be chased
    # 舟白街道 sends the people it found of 冯家街道: 舟白's report of the week, 冯家's rows.
    people = synth.make_people("冯家街道", 2, as_of=NOV20)
    synth.write_submission(inbox / "舟白1120.xlsx", people, township="舟白街道", filled_date=NOV20)
    _week(tmp_path, NOV20)
    synth.write_zero_report(inbox / "太极镇零报告.xlsx", "太极镇", filled_date=NOV20)  # the same bytes, a week later
    synth.make_submission(inbox / "石会1127.xlsx", "石会镇", 2, as_of=NOV27)
    _week(tmp_path, NOV27)

    db = store.connect(tmp_path / "jiuzhu.sqlite3")
    try:
        sent = {day: sorted(set(townships.names()) - set(submissions.missing_townships(db, day)))
                for day in (NOV20, date(2026, 11, 26), NOV27, DEC4)}
        rows = [tuple(r) for r in db.execute(
            "SELECT file, township, sender, status, has_form, received FROM submissions ORDER BY id")]
        known = submissions.known(db)
    finally:
        db.close()
    assert sent == {NOV20: ["城西街道", "太极镇", "舟白街道"],
                    date(2026, 11, 26): ["城西街道", "太极镇", "舟白街道"],  # 20–26 Nov: the week's first day counts
                    NOV27: ["太极镇", "石会镇"],  # 21–27 Nov: the zero report sent again counts
                    DEC4: []}  # 28 Nov – 4 Dec: nothing received
    assert rows == [("城西1120.xlsx", "城西街道", None, "accepted", 1, "2026-11-20"),
                    ("太极镇零报告.xlsx", "太极镇", None, "empty", 1, "2026-11-20"),
                    ("舟白1120.xlsx", "冯家街道", "舟白街道", "accepted", 1, "2026-11-20"),
                    ("黔江区水田乡1120.xlsx", "水田乡", None, "rejected", 0, "2026-11-20"),
                    ("太极镇零报告.xlsx", "太极镇", None, "duplicate", 1, "2026-11-27"),
                    ("石会1127.xlsx", "石会镇", None, "accepted", 1, "2026-11-27")]
    assert sorted((k.file, k.township, k.has_form, k.rows, k.received) for k in known.values()) == [
        ("城西1120.xlsx", "城西街道", True, 3, "2026-11-20"), ("太极镇零报告.xlsx", "太极镇", True, 0, "2026-11-20"),
        ("石会1127.xlsx", "石会镇", True, 2, "2026-11-27"), ("舟白1120.xlsx", "冯家街道", True, 2, "2026-11-20"),
        ("黔江区水田乡1120.xlsx", "水田乡", False, 0, "2026-11-20")]
