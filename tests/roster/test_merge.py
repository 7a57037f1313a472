"""The merge of checked rows into the roster (pipeline/roster/merge.py, ingest.py; docs/design.md §3):
identity, later 填报日期 wins, late e-mails, corrected re-sends, decisions that stay, and the
order files are merged in. Real workbooks (pipeline.demo.synth), real checks, a real store;
the persons and versions tables are read back with sqlite3."""

from __future__ import annotations

import random
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from pipeline.demo import synth
from pipeline.intake.check import check_file
from pipeline.model import FileReport
from pipeline.roster import cases, ingest, merge, runs, store, submissions
from pipeline.run import run

NOV20, NOV27, DEC4 = date(2026, 11, 20), date(2026, 11, 27), date(2026, 12, 4)
ID_A, ID_B = synth.make_id(random.Random(1), date(1960, 3, 4)), synth.make_id(random.Random(2), date(1971, 5, 6))
HARDSHIP = "因病支出较大，生活仍较困难"
ASSISTED = "纳入城乡低保，2026年11月25日"
CHECKED = "经入户调查核实，家庭人均收入低于我区低保标准"


def person(name: str, **values) -> synth.Person:
    """A valid row of 城西街道 about an obviously made-up person, pending unless told otherwise."""
    base = {"method": "走访发现", "finder": "网格员甲", "township": "城西街道", "name": name,
            "household": "户籍人口1人，本人患病", "suspected": "城乡低保", "village": "胜利社区",
            "discovered": date(2026, 11, 2)}
    return synth.Person(**{**base, **values})


class District:
    """An inbox, an outbox and a store in tmp_path: send files, run a week, read the tables."""

    def __init__(self, root: Path):
        self.root, self.inbox, self.store = root, root / "inbox", root / "jiuzhu.sqlite3"

    def send(self, name: str, rows: list, filled: date) -> None:
        synth.write_submission(self.inbox / name, rows, filled_date=filled)

    def week(self, as_of: date, *files: tuple[str, list, date]):
        for name, rows, filled in files:
            self.send(name, rows, filled)
        return run(self.inbox, self.root / "outbox", self.store, as_of)

    def query(self, sql: str) -> list[tuple]:
        db = sqlite3.connect(self.store)
        try:
            return [tuple(r) for r in db.execute(sql)]
        finally:
            db.close()

    def persons(self, *fields: str) -> list[tuple]:
        return self.query(f"SELECT {', '.join(fields)} FROM persons ORDER BY key")

    def field(self, key: str, *names: str) -> list[tuple]:
        """Form fields of each person's merged record (the JSON in persons.data)."""
        picks = ", ".join(f"json_extract(data, '$.{n}')" for n in names)
        return self.query(f"SELECT key, {picks} FROM persons ORDER BY key")


@pytest.fixture
def district(tmp_path: Path) -> District:
    return District(tmp_path)


def merge_report(db: sqlite3.Connection, report: FileReport, as_of: date, token: str) -> merge.Roster:
    """What ingest does for one file, called step by step: record, load, apply, save."""
    with store.transaction(db):
        run_id = runs.start(db, token, as_of)
        submission_id = submissions.record(db, run_id, report, as_of)
        roster = merge.Roster.load(db)
        merge.apply_rows(db, roster, report, submission_id, as_of)
        merge.save_roster(db, roster)
    return roster


# --- identity --------------------------------------------------------------------------


def test_the_same_id_in_the_same_township_is_one_person_updated(district: District):
    district.week(NOV20, ("城西1120.xlsx", [person("张三", id_number=ID_A)], NOV20))
    district.week(NOV27, ("城西1127.xlsx", [person("张三", id_number=ID_A, investigation=CHECKED, result=ASSISTED)],
                          NOV27))
    key = f"城西街道|id:{ID_A}"
    assert district.persons("key", "status", "programme", "result_date", "first_seen", "updated", "decided_on",
                            "submission_id") == [(key, "new_assisted", "城乡低保", "2026-11-25", "2026-11-20",
                                                  "2026-11-27", "2026-11-27", 2)]
    assert district.query("SELECT person_key, submission_id, row, json_extract(data, '$.result') FROM versions "
                          "ORDER BY id") == [(key, 1, 4, None), (key, 2, 4, ASSISTED)]


def test_the_same_id_in_two_townships_is_two_records_and_a_possible_duplicate(district: District):
    district.week(NOV27, ("城西1127.xlsx", [person("张三", id_number=ID_A)], NOV27),
                  ("石会1127.xlsx", [person("张三", id_number=ID_A, township="石会镇", village="中元村")], NOV27))
    assert district.persons("key", "township") == [(f"城西街道|id:{ID_A}", "城西街道"), (f"石会镇|id:{ID_A}", "石会镇")]
    db = store.connect(district.store)
    try:
        duplicates = merge.possible_duplicates(cases.load(db))
    finally:
        db.close()
    assert duplicates[["key", "reason", "group"]].values.tolist() == [
        [f"城西街道|id:{ID_A}", merge.SAME_ID, ID_A], [f"石会镇|id:{ID_A}", merge.SAME_ID, ID_A]]


@pytest.mark.parametrize("later, keys", [
    (person("李四"), ["城西街道|胜利社区|李四"]),
    (person("李四", village=None), ["城西街道|胜利社区|李四"]),               # a village left out: the same person
    (person("李四", id_number=ID_B), ["城西街道|胜利社区|李四"]),             # an ID given later: the same person
    (person("李四", village="新安社区"), ["城西街道|新安社区|李四", "城西街道|胜利社区|李四"]),  # namesakes
    (person("李四", township="石会镇", village=None), ["城西街道|胜利社区|李四", "石会镇||李四"]),
], ids=["same village", "no village", "ID added", "other village", "other township"])
def test_without_an_id_a_person_is_township_village_and_name(tmp_path: Path, later, keys):
    db = store.connect(tmp_path / "jiuzhu.sqlite3")
    for n, (rows, day) in enumerate([([person("李四")], NOV20), ([later], NOV27)]):
        path = synth.write_submission(tmp_path / f"城西{day:%m%d}.xlsx", rows, township="城西街道",
                                      filled_date=day).path
        merge_report(db, check_file(path, day), day, f"run{n}")
    assert [r[0] for r in db.execute("SELECT key FROM persons ORDER BY key")] == keys
    assert db.execute("SELECT count(*) FROM versions").fetchone()[0] == 2
    db.close()


def test_a_loaded_roster_finds_people_by_id_then_by_name(tmp_path: Path):
    rows = [person("张三", id_number=ID_A), person("王五"), person("王五", village="新安社区")]
    path = synth.write_submission(tmp_path / "城西1127.xlsx", rows, filled_date=NOV27).path
    db = store.connect(tmp_path / "jiuzhu.sqlite3")
    merge_report(db, check_file(path, NOV27), NOV27, "run")
    roster = merge.Roster.load(db)
    db.close()
    assert roster.filled == {1: "2026-11-27"}
    finds = [roster.find("城西街道", None, "张三", ID_A), roster.find("城西街道", "新安社区", "张三", ID_A),
             roster.find("城西街道", None, "张三", None), roster.find("城西街道", None, "张三", ID_B),
             roster.find("石会镇", None, "张三", ID_A), roster.find("城西街道", None, "王五", None),
             roster.find("城西街道", "新安社区", "王五", None)]
    assert finds == [f"城西街道|id:{ID_A}", f"城西街道|id:{ID_A}", f"城西街道|id:{ID_A}",
                     None,  # another ID number: another person of the same name
                     None,  # another township: never the same record
                     None,  # two namesakes and no village to choose: someone new
                     "城西街道|新安社区|王五"]


# --- later wins, nothing is lost -------------------------------------------------------


def test_the_later_filled_date_wins_whatever_the_order_of_the_files(district: District):
    # 城西A sorts first by name but was filled in later: it is merged last and its values win;
    # what it leaves blank keeps the earlier file's value.
    district.week(NOV27, ("城西A.xlsx", [person("张三", investigation=CHECKED, result=ASSISTED)], NOV27),
                  ("城西B.xlsx", [person("张三", investigation="已安排协理员入户调查", remark="协理员持续跟进")],
                   date(2026, 11, 25)))
    assert district.field("x", "investigation", "result", "remark") == [
        ("城西街道|胜利社区|张三", CHECKED, ASSISTED, "协理员持续跟进")]
    assert district.query("SELECT p.status, s.file FROM persons p JOIN submissions s ON s.id = p.submission_id") == [
        ("new_assisted", "城西A.xlsx")]
    assert district.query("SELECT s.file FROM versions v JOIN submissions s ON s.id = v.submission_id "
                          "ORDER BY v.id") == [("城西B.xlsx",), ("城西A.xlsx",)]


def test_a_file_filled_in_earlier_that_came_late_only_fills_blanks_and_is_history(district: District):
    district.week(NOV27, ("城西1127.xlsx", [person("张三", investigation=CHECKED, result=ASSISTED),
                                            person("李四")], NOV27))
    late = [person("张三", investigation="已安排协理员入户调查", result="不符合救助条件", remark="协理员持续跟进",
                   phone="13800000000", discovered=date(2026, 10, 30)),
            person("李四", investigation="经核对，子女有赡养能力", result="不符合救助条件")]
    result = district.week(DEC4, ("城西1120.xlsx", late, NOV20))
    assert district.field("x", "investigation", "result", "remark", "phone") == [
        ("城西街道|胜利社区|张三", CHECKED, ASSISTED, "协理员持续跟进", "13800000000"),
        ("城西街道|胜利社区|李四", "经核对，子女有赡养能力", "不符合救助条件", None, None)]
    # 张三 keeps his decision and gets the earlier 发现日期; 李四 had no 办理结果: the late one is his.
    assert district.persons("name", "status", "discovered", "decided_on", "submission_id", "updated") == [
        ("张三", "new_assisted", "2026-10-30", "2026-11-27", 1, "2026-12-04"),
        ("李四", "closed", "2026-11-02", "2026-11-20", 1, "2026-12-04")]
    assert district.query("SELECT submission_id, row FROM versions ORDER BY id") == [(1, 4), (1, 5), (2, 4), (2, 5)]
    assert result.warnings == [("城西1120.xlsx：本文件填报日期为 2026-11-20，其中 2 人在库中已有更晚填报的记录：这些行作为历史保存，"
                                "只补上了其中 2 人较新记录中空着的内容，没有覆盖较新的信息。")]


@pytest.mark.parametrize("name, filled, expected", [
    ("修改城西1127.xlsx", NOV27, (None, None, None, "pending", None)),  # a corrected re-send: its blanks are blank
    ("城西1204.xlsx", DEC4, (CHECKED, "不符合救助条件", "生活稳定", "closed", "2026-11-27")),  # a later file
], ids=["corrected re-send", "later week"])
def test_a_corrected_resend_supersedes_what_a_later_file_leaves_alone(district: District, name, filled, expected):
    first = person("张三", investigation=CHECKED, result="不符合救助条件", remark="生活稳定")
    district.week(NOV27, ("城西1127.xlsx", [first], NOV27))
    district.week(DEC4, (name, [person("张三", discovered=date(2026, 11, 10))], filled))
    (_, investigation, result, remark), = district.field("x", "investigation", "result", "remark")
    (status, decided_on, discovered), = district.persons("status", "decided_on", "discovered")
    assert (investigation, result, remark, status, decided_on) == expected
    # The re-send's 发现日期 stands; a later file's later date does not reset the clock.
    assert discovered == ("2026-11-10" if filled == NOV27 else "2026-11-02")


def test_in_one_run_the_corrected_resend_is_merged_after_the_file_it_corrects(district: District):
    # By name alone 修改… sorts before 城西…; the marker puts it last, so it supersedes.
    district.week(NOV27, ("城西1127.xlsx", [person("张三", investigation=CHECKED, result=ASSISTED)], NOV27),
                  ("修改城西1127.xlsx", [person("张三", investigation=CHECKED)], NOV27))
    assert district.persons("status", "result_date", "key_since", "submission_id") == [
        ("pending", None, "2026-11-02", 2)]
    assert district.query("SELECT id, file FROM submissions ORDER BY id") == [(1, "城西1127.xlsx"), (2, "修改城西1127.xlsx")]


def test_an_empty_result_never_undoes_a_decision(district: District):
    district.week(NOV20, ("城西1120.xlsx", [person("张三", investigation=CHECKED, result="纳入城乡低保，2026年11月18日")],
                          NOV20))
    district.week(NOV27, ("城西1127.xlsx", [person("张三", investigation=CHECKED, remark="已建立台账")], NOV27))
    assert district.persons("status", "programme", "result_date", "decided_on", "key_since") == [
        ("new_assisted", "城乡低保", "2026-11-18", "2026-11-20", None)]
    assert district.field("x", "result", "remark") == [("城西街道|胜利社区|张三", "纳入城乡低保，2026年11月18日", "已建立台账")]


@pytest.mark.parametrize("earlier_remark, status", [
    (HARDSHIP, "observation"),   # the record's 备注 states the hardship that remains
    ("已告知申请流程", "observation"),  # any remark but a no-hardship one: erring towards observation
    ("生活稳定", "closed"),   # a remark saying there is no hardship
    ("无", "closed"),
    (None, "closed"),
])
def test_not_eligible_with_hardship_in_the_records_remark_is_observation(tmp_path: Path, earlier_remark, status):
    db = store.connect(tmp_path / "jiuzhu.sqlite3")
    weeks = [([person("张三", remark=earlier_remark)], NOV20),
             ([person("张三", investigation="经核对，家中有车辆一台", result="不符合救助条件")], NOV27)]
    for n, (rows, day) in enumerate(weeks):
        path = synth.write_submission(tmp_path / f"城西{day:%m%d}.xlsx", rows, filled_date=day).path
        report = check_file(path, day)
        assert report.records["status"].tolist() == ["pending" if n == 0 else "closed"]  # the row alone
        roster = merge_report(db, report, day, f"run{n}")
    assert [(p["status"], p["key_since"]) for p in roster.persons.values()] == [
        (status, "2026-11-02" if status == "observation" else None)]
    assert [tuple(r) for r in db.execute("SELECT status FROM persons")] == [(status,)]
    db.close()


def test_a_corrected_id_number_updates_the_same_person(tmp_path: Path):
    db = store.connect(tmp_path / "jiuzhu.sqlite3")
    first = synth.write_submission(tmp_path / "城西1127.xlsx", [person("张三", id_number=ID_A)], filled_date=NOV27)
    merge_report(db, check_file(first.path, NOV27), NOV27, "run1")
    again = synth.write_submission(tmp_path / "城西1127更正.xlsx", [person("张三", id_number=ID_B)], filled_date=NOV27)
    report = check_file(again.path, DEC4)
    roster = merge_report(db, report, DEC4, "run2")
    assert [(k, p["id_number"], p["submission_id"]) for k, p in roster.persons.items()] == [
        (f"城西街道|id:{ID_A}", ID_B, 2)]  # the key stays, so visits stay the person's
    assert [tuple(r) for r in db.execute("SELECT key, id_number FROM persons")] == [(f"城西街道|id:{ID_A}", ID_B)]
    assert report.notes == ["第4行 1 人的身份证号码与所改正的原文件不同，已按改正后的号码更新同一人的记录（原号码不再使用）。"]
    db.close()


def test_a_new_id_number_in_a_later_week_is_a_new_record_listed_as_a_possible_duplicate(district: District):
    district.week(NOV27, ("城西1127.xlsx", [person("张三", id_number=ID_A)], NOV27))
    district.week(DEC4, ("城西1204.xlsx", [person("张三", id_number=ID_B)], DEC4))
    db = store.connect(district.store)
    try:
        duplicates = merge.possible_duplicates(cases.load(db))
    finally:
        db.close()
    assert duplicates[["key", "reason", "group"]].values.tolist() == [
        [f"城西街道|id:{ID_A}", merge.SAME_NAME, "城西街道 张三"], [f"城西街道|id:{ID_B}", merge.SAME_NAME, "城西街道 张三"]]


def test_a_row_sent_back_is_resolved_by_its_correction_and_counts_from_when_it_was_first_seen(district: District):
    district.week(NOV20, ("城西1120.xlsx", [person("张三"), person("李四", method=None, discovered=None)], NOV20))
    assert district.query("SELECT submission_id, row, name, resolved_by FROM rejected_rows") == [(1, 5, "李四", None)]
    district.week(NOV27, ("城西1127.xlsx", [person("李四", discovered=None)], NOV27))
    assert district.query("SELECT submission_id, row, name, resolved_by FROM rejected_rows") == [(1, 5, "李四", 2)]
    assert district.persons("name", "discovered", "first_seen") == [("张三", "2026-11-02", "2026-11-20"),
                                                                    ("李四", "2026-11-20", "2026-11-27")]


@pytest.mark.parametrize("how", ["by ID number", "by 家庭基本情况"])
def test_a_row_sent_back_for_a_blank_name_is_resolved_by_its_correction(district: District, how: str):
    """Issue 16: a returned row with a blank name, fixed and sent back, stayed outstanding."""
    same = {"id_number": ID_A} if how == "by ID number" else {"household": "户籍人口3人，丈夫 瘫痪在床"}
    district.week(NOV20, ("城西1120.xlsx", [person("张三"), person("", **same)], NOV20))
    assert district.query("SELECT name, resolved_by FROM rejected_rows") == [(None, None)]
    other = person("", household="户籍人口2人", id_number=ID_B)  # another blank row of the same file stays open
    district.week(NOV27, ("城西1127.xlsx", [person("李四", **same)], NOV27), ("城西1127b.xlsx", [other], NOV27))
    assert district.query("SELECT submission_id, name, resolved_by FROM rejected_rows ORDER BY id") == [
        (1, None, 2), (3, None, None)]


def test_a_corrected_row_of_another_township_in_the_senders_file_is_resolved(district: District):
    other = {"township": "石会镇", "village": "中元村"}
    district.week(NOV20, ("城西1120.xlsx", [person("张三"), person("王五"), person("李四", method=None, **other)], NOV20))
    district.week(NOV27, ("城西1127.xlsx", [person("张三"), person("王五"), person("李四", **other)], NOV27))
    assert district.persons("key") == [("城西街道|胜利社区|张三",), ("城西街道|胜利社区|王五",), ("石会镇|中元村|李四",)]
    assert district.query("SELECT submission_id, row, township, name, resolved_by FROM rejected_rows") == [
        (1, 6, "石会镇", "李四", 2)]


# --- merge order -----------------------------------------------------------------------


def _report(name: str, filled_on: str | None) -> FileReport:
    return FileReport(file=name, path=Path("inbox") / name, sha256="", filled_on=filled_on)


@pytest.mark.parametrize("files, order", [
    ([("城西B.xlsx", "2026-11-27"), ("城西A.xlsx", "2026-11-20")], ["城西A.xlsx", "城西B.xlsx"]),
    ([("城西1127修改.xlsx", "2026-11-27"), ("城西1127.xlsx", "2026-11-27")], ["城西1127.xlsx", "城西1127修改.xlsx"]),
    ([("更正城西.xlsx", "2026-11-27"), ("城西.xlsx", "2026-11-27"), ("城西.csv", "2026-11-27")],
     ["城西.csv", "城西.xlsx", "更正城西.xlsx"]),
    ([("城西修改.xlsx", "2026-11-20"), ("城西.xlsx", "2026-11-27")], ["城西修改.xlsx", "城西.xlsx"]),  # date first
    ([("城西.xlsx", "2026-11-27"), ("无日期.xlsx", None)], ["无日期.xlsx", "城西.xlsx"]),
], ids=["by date", "correction last", "then by name and suffix", "date before marker", "no date first"])
def test_merge_order(files, order):
    assert [r.file for r in ingest.merge_order([_report(*f) for f in files])] == order
