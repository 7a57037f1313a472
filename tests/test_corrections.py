"""jiuzhu find, correct, merge and withdraw (issue 16.3): on real workbooks, a real store and real
runs; each change has its audit row and log line, survives the next week's run, and is undone."""

from __future__ import annotations

import json
import random
import re
import sqlite3
from datetime import date, timedelta
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from pipeline import corrections
from pipeline.cli import main
from pipeline.demo import synth
from pipeline.errors import CorrectionError
from pipeline.rebuild import rebuild
from pipeline.roster import audit, cases, store
from pipeline.run import run as run_week
from pipeline.undo import undo

AS_OF = date(2026, 11, 28)
NEXT = AS_OF + timedelta(days=7)
TOWN = "城西街道"
NAMES = ["王秀英", "李建国", "张桂兰", "刘德华", "陈小明", "赵丽娟"]
RESULT = "纳入城乡低保，2026年11月20日"


def _ids() -> list[str]:
    rng = random.Random(16)
    return [synth.make_id(rng, date(1950 + i, 3, 1 + i)) for i in range(len(NAMES))]


IDS = _ids()


def person(i: int, **changes) -> dict:
    row = {"seq": i + 1, "method": "走访发现", "finder": "李明", "township": TOWN, "name": NAMES[i],
           "household": "独居老人，无固定收入", "suspected": "城乡低保", "investigation": "已入户核实",
           "result": None, "remark": None, "id_number": IDS[i], "village": "胜利村",
           "discovered": date(2026, 11, 2), "phone": None}
    row.update(changes)
    return row


def week(inbox: Path, rows: list[dict], as_of: date, name: str = "城西街道.xlsx", visits: list[dict] | None = None) -> Path:
    inbox.mkdir(parents=True, exist_ok=True)
    return synth.write_submission(inbox / name, rows, township=TOWN, filled_date=as_of, visits=visits).path


@pytest.fixture
def place(tmp_path: Path):
    inbox, outbox, db = tmp_path / "inbox", tmp_path / "outbox", tmp_path / "jiuzhu.sqlite3"
    week(inbox, [person(i) for i in range(len(NAMES))], AS_OF)
    run(inbox, outbox, db, AS_OF)
    return inbox, outbox, db


def run(inbox: Path, outbox: Path, db: Path, as_of: date):
    """A week's run; `yes`, since the weeks of these tests may lie days after the clock's today."""
    return run_week(inbox, outbox, db, as_of, yes=True)


def key_of(i: int) -> str:
    return f"{TOWN}|id:{IDS[i]}"


def record(db: Path, key: str) -> dict:
    con = store.connect(db)
    try:
        return dict(con.execute("SELECT * FROM persons WHERE key = ?", (key,)).fetchone())
    finally:
        con.close()


def rows_of(db: Path, sql: str, *args) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def summary(outbox: Path, as_of: date) -> str:
    return (outbox / as_of.isoformat() / "汇总报告.html").read_text(encoding="utf-8")


def ledger_ids(outbox: Path, as_of: date) -> str:
    book = openpyxl.load_workbook(next((outbox / as_of.isoformat()).glob("全区汇总台账*.xlsx")), read_only=True)
    return " ".join(str(c) for row in book.worksheets[0].iter_rows(values_only=True) for c in row if c)


def test_find_by_part_of_a_name_or_an_id_shows_the_history(place):
    _, _, db = place
    found, total = corrections.find(db, "桂兰")
    assert total == 1 and found[0].person["key"] == key_of(2)
    text = "\n".join(corrections.describe(found[0]))
    assert re.search(r"城西街道\.xlsx（工作表「Sheet1」第\d+行，填报日期 2026-11-28）", text)
    assert "待办理" in text and key_of(2) in text
    found, total = corrections.find(db, IDS[4][6:14])
    assert [f.person["name"] for f in found] == [NAMES[4]]
    assert corrections.find(db, "没有这个人") == ([], 0)
    with pytest.raises(CorrectionError, match="太短.*jiuzhu find"):  # one character names no one person
        corrections.correct(db, NAMES[0][0], "办理结果", "纳入城乡低保", why="试")


def test_a_correction_has_its_audit_row_and_log_line_and_survives_a_different_resubmission(place):
    inbox, outbox, db = place
    done = corrections.correct(db, IDS[0], "办理结果", RESULT, why="乡镇来电更正", by="民政局张科长")
    assert done.entry["old"] is None and done.entry["new"] == RESULT
    assert record(db, key_of(0))["status"] == "new_assisted"
    assert rows_of(db, "SELECT kind, who, field, old, new, why FROM corrections") == [
        ("correct", "民政局张科长", "result", None, RESULT, "乡镇来电更正")]
    [line] = audit.read_log(db)
    assert (line["kind"], line["who"], line["field"], line["new"], line["why"]) == (
        "correct", "民政局张科长", "result", RESULT, "乡镇来电更正")

    assert "民政局张科长" in summary(rebuild(outbox, db, AS_OF)[0].parents[1], AS_OF)  # jiuzhu report shows it

    # the next week the township sends the person again, still pending but with another 办理结果
    week(inbox, [person(0, result="不符合救助条件"), person(1)], NEXT, "城西街道1205.xlsx")
    result = run(inbox, outbox, db, NEXT)
    kept = record(db, key_of(0))
    assert kept["status"] == "new_assisted" and json.loads(kept["data"])["result"] == RESULT
    said = [w for w in result.warnings if "保留更正" in w]
    assert said and "不符合救助条件" in said[0] and RESULT in said[0]
    page = summary(outbox, NEXT)
    assert "人工更正" in page and "乡镇报来的办理结果「不符合救助条件」与人工更正的「" + RESULT + "」不同，保留更正" in page
    assert "乡镇来电更正" in page and "民政局张科长" in page  # the correction made since the last run
    # the same value again is fine, and says nothing
    week(inbox, [person(0, result=RESULT)], NEXT + timedelta(days=7), "城西街道1212.xlsx")
    later = run(inbox, outbox, db, NEXT + timedelta(days=7))
    assert not [w for w in later.warnings if "保留更正" in w]


def test_merge_moves_the_history_and_aliases_the_key_for_the_next_run(place):
    inbox, outbox, db = place
    # 李建国 was also sent without his ID number, under another village (a second record)
    week(inbox, [person(1, id_number=None, village="新华村")], AS_OF, "补报.xlsx")
    run(inbox, outbox, db, AS_OF)
    twin = f"{TOWN}|新华村|李建国"
    assert record(db, twin)
    done = corrections.merge(db, key_of(1), twin, why="同一人，补报时漏填身份证号", by="审核员")
    assert done.entry["other_key"] == twin
    assert rows_of(db, "SELECT count(*) FROM persons WHERE key = ?", twin) == [(0,)]
    assert rows_of(db, "SELECT count(*) FROM versions WHERE person_key = ?", key_of(1)) == [(2,)]
    found, _ = corrections.find(db, twin)
    assert [f.person["key"] for f in found] == [key_of(1)]
    # next week a row under the merged key (no ID, that village) lands on the kept person
    week(inbox, [person(1, id_number=None, village="新华村", result=RESULT)], NEXT, "城西街道1205.xlsx")
    run(inbox, outbox, db, NEXT)
    assert rows_of(db, "SELECT count(*) FROM persons WHERE name = '李建国'") == [(1,)]
    assert record(db, key_of(1))["status"] == "new_assisted"
    assert rows_of(db, "SELECT count(*) FROM versions WHERE person_key = ?", key_of(1)) == [(3,)]


def test_a_corrected_name_finds_the_person_when_the_township_still_sends_the_old_one(place):
    inbox, outbox, db = place
    week(inbox, [person(5, id_number=None, village="新华村")], AS_OF, "补报.xlsx")
    run(inbox, outbox, db, AS_OF)
    nameless = f"{TOWN}|新华村|{NAMES[5]}"
    corrections.correct(db, nameless, "对象姓名", "赵丽鹃", why="户口本上是鹃")
    week(inbox, [person(5, id_number=None, village="新华村", remark="独居")], NEXT, "城西街道1205.xlsx")
    result = run(inbox, outbox, db, NEXT)
    kept = record(db, nameless)
    assert kept["name"] == "赵丽鹃" and json.loads(kept["data"])["remark"] == "独居"
    assert rows_of(db, "SELECT count(*) FROM persons WHERE village = '新华村'") == [(1,)]
    said = [w for w in result.warnings if "保留更正" in w]
    assert said and "对象姓名与人工更正的不同" in said[0] and NAMES[5] not in said[0]  # no names in notes


def test_a_person_reported_by_two_townships_merged_stays_one_when_the_other_sends_again(place):
    inbox, outbox, db = place
    other = {**person(2), "township": "石会镇", "village": "石会村"}
    inbox.mkdir(exist_ok=True)
    synth.write_submission(inbox / "石会镇.xlsx", [other], township="石会镇", filled_date=AS_OF)
    run(inbox, outbox, db, AS_OF)
    assert rows_of(db, "SELECT count(*) FROM persons WHERE id_number = ?", IDS[2]) == [(2,)]
    corrections.merge(db, key_of(2), f"石会镇|id:{IDS[2]}", why="同一人，户籍在城西街道")
    synth.write_submission(inbox / "石会镇1205.xlsx", [{**other, "remark": "已搬回城西"}], township="石会镇",
                           filled_date=NEXT)
    result = run(inbox, outbox, db, NEXT)
    assert rows_of(db, "SELECT key, township FROM persons WHERE id_number = ?", IDS[2]) == [(key_of(2), TOWN)]
    assert json.loads(record(db, key_of(2))["data"])["remark"] == "已搬回城西"
    assert result.report["roster"]["total"] == len(NAMES)


def test_visits_under_a_merged_key_count_for_the_person_it_went_into(place):
    inbox, outbox, db = place
    week(inbox, [person(1, id_number=None, village="新华村")], AS_OF, "补报.xlsx")
    run(inbox, outbox, db, AS_OF)
    corrections.merge(db, key_of(1), f"{TOWN}|新华村|李建国", why="同一人")
    visit = {"name": "李建国", "id_number": None, "township": TOWN, "village": "新华村",
             "visit_date": NEXT - timedelta(days=2), "visitor": "李明", "seen": "是", "notes": "见到本人"}
    week(inbox, [person(0)], NEXT, "城西街道1205.xlsx", visits=[visit])
    run(inbox, outbox, db, NEXT)
    assert rows_of(db, "SELECT person_key, seen FROM visits") == [(key_of(1), 1)]


def test_withdraw_keeps_the_person_but_counts_them_nowhere(place):
    inbox, outbox, db = place
    corrections.withdraw(db, key_of(3), why="查无此人，乡镇误报")
    con = store.connect(db)
    try:
        people = cases.load(con)
    finally:
        con.close()
    assert NAMES[3] not in set(people["name"]) and len(people) == len(NAMES) - 1
    assert corrections.find(db, NAMES[3])[0][0].withdrawn
    week(inbox, [person(3), person(0)], NEXT, "城西街道1205.xlsx")
    result = run(inbox, outbox, db, NEXT)
    assert result.report["roster"]["total"] == len(NAMES) - 1
    assert IDS[3] not in ledger_ids(outbox, NEXT) and IDS[0] in ledger_ids(outbox, NEXT)
    assert [w for w in result.warnings if "已由区民政局撤回" in w]
    assert "已撤回的对象再次报送" in summary(outbox, NEXT)
    corrections.withdraw(db, key_of(3), why="核实确有其人", restore=True)
    con = store.connect(db)
    try:
        assert len(cases.load(con)) == len(NAMES)
    finally:
        con.close()


@pytest.mark.parametrize("change", ["correct", "merge", "withdraw"])
def test_each_change_is_undone_by_jiuzhu_undo(place, change):
    _, _, db = place
    before = rows_of(db, "SELECT key, status, data FROM persons ORDER BY key")
    if change == "correct":
        corrections.correct(db, key_of(0), "办理结果", RESULT, why="更正")
    elif change == "merge":
        corrections.merge(db, key_of(0), key_of(1), why="合并")
    else:
        corrections.withdraw(db, key_of(0), why="误报")
    assert rows_of(db, "SELECT key, status, data FROM persons ORDER BY key") != before or change == "withdraw"
    done = undo(db, by="审核员")
    assert change in {"correct": "更正", "merge": "合并", "withdraw": "撤回"} and done.label
    assert rows_of(db, "SELECT key, status, data FROM persons ORDER BY key") == before
    assert rows_of(db, "SELECT count(*) FROM corrections") == [(0,)]
    assert [line["kind"] for line in audit.read_log(db)] == [change, "undo"]  # the trail survives the undo


def test_the_cli_speaks_chinese_and_refuses_bad_keys_fields_and_values(place):
    _, _, db = place
    cli = CliRunner()
    out = cli.invoke(main, ["find", "秀英", "--store", str(db)])
    assert out.exit_code == 0 and "找到 1 个对象" in out.output and key_of(0) in out.output
    ok = cli.invoke(main, ["correct", IDS[0], "办理结果", RESULT, "--why", "来电更正", "--store", str(db)])
    assert ok.exit_code == 0, ok.output
    assert "已完成：更正 王秀英 的 办理结果" in ok.output and "jiuzhu undo" in ok.output
    bad_key = cli.invoke(main, ["correct", "查无此人", "办理结果", RESULT, "--why", "x", "--store", str(db)])
    assert bad_key.exit_code == 1 and "jiuzhu find" in bad_key.output
    bad_field = cli.invoke(main, ["correct", IDS[1], "年龄", "30", "--why", "x", "--store", str(db)])
    assert bad_field.exit_code == 1 and "没有「年龄」这一栏" in bad_field.output and "办理结果" in bad_field.output
    bad_id = cli.invoke(main, ["correct", IDS[1], "身份证号码", IDS[1][:-1] + ("0" if IDS[1][-1] != "0" else "1"),
                               "--why", "x", "--store", str(db)])
    assert bad_id.exit_code == 1 and "校验码" in bad_id.output
    bad_result = cli.invoke(main, ["correct", IDS[1], "办理结果", "随便写的", "--why", "x", "--store", str(db)])
    assert bad_result.exit_code == 1 and "无法识别办理结果" in bad_result.output
    no_why = cli.invoke(main, ["withdraw", IDS[1], "--why", " ", "--store", str(db)])
    assert no_why.exit_code == 1 and "--why" in no_why.output
    merged = cli.invoke(main, ["merge", IDS[1], IDS[2], "--why", "同一人", "--by", "审核员", "--store", str(db)])
    assert merged.exit_code == 0 and "已完成：合并" in merged.output
    withdrawn = cli.invoke(main, ["withdraw", IDS[3], "--why", "误报", "--store", str(db)])
    assert withdrawn.exit_code == 0 and "不再计入台账" in withdrawn.output
    assert [line["kind"] for line in audit.read_log(db)] == ["correct", "merge", "withdraw"]


@pytest.mark.parametrize("args, said", [
    ((key_of(0), "所属乡镇", "石会镇"), "所属乡镇（街道）」不能更正.*jiuzhu merge"),
    ((key_of(0), "序号", "3"), "序号」不能更正"),
    ((key_of(0), "对象姓名", NAMES[0]), "对象姓名已经是「王秀英」，没有更正"),
    ((key_of(0), "身份证号码", IDS[1]), f"已有身份证号码为 {IDS[1]} 的对象.*jiuzhu merge"),
    ((key_of(0), "疑似符合救助", "发财救助"), "疑似符合救助"),
    (("城西街道|id:5001", "备注", "x"), "对应名册中 6 个对象"),
])
def test_what_cannot_be_corrected_is_refused_with_what_to_do(place, args, said):
    _, _, db = place
    with pytest.raises(CorrectionError, match=said):
        corrections.correct(db, *args, why="核实")
    assert rows_of(db, "SELECT count(*) FROM corrections") == [(0,)]
    assert not audit.read_log(db)


def test_a_change_that_masking_hides_says_where_to_see_it():
    from pipeline.reports.masking import mask_name
    from pipeline.roster.overrides import change_text

    said = change_text({"kind": "correct", "field": "name", "old": "张三", "new": "张山"}, mask_name)
    assert said.startswith("对象姓名：「张*」→「张*」") and "jiuzhu find" in said
    assert "jiuzhu find" not in change_text({"kind": "correct", "field": "name", "old": "张三", "new": "王五"}, mask_name)
