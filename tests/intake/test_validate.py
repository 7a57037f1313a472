"""Row-level problems (pipeline/intake/validate.py; docs/design.md §2): the pandera schema, its
failure cases turned into Issues, and golden `report.flatten([...])` lists with the Excel rows
a person sees. Files are synthetic submissions (pipeline.demo.synth) with the short headers
townships type (姓名, 发现方式, 办理结果), so each Issue names the column as written."""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

import pytest

from pipeline.demo import synth
from pipeline.intake.check import check_files
from pipeline.intake.normalise import normalise
from pipeline.intake.read import read_sheets
from pipeline.intake.tables import locate
from pipeline.intake.validate import (
    CHECK_CODES,
    ID_SHARED,
    IDENTITY,
    RESULT_PROBLEM,
    add_outcomes,
    build_schema,
    row_identities,
    validate,
)
from pipeline.model import ROW_CODES
from pipeline.rules import spec

AS_OF = date(2026, 11, 28)
FORM = spec.form()
ID_A, ID_B, ID_C = (synth.make_id(random.Random(n), date(1960 + n, 3, 4)) for n in (1, 2, 3))
WRONG_CHECK_DIGIT = ID_C[:17] + ("1" if ID_C[17] == "0" else "0")
CHECKED = "已入户核实"


def person(name: str | None, **values) -> synth.Person:
    base = {"method": "走访发现", "finder": "网格员甲", "township": "城西街道", "name": name,
            "household": "户籍人口1人，本人患病", "suspected": "城乡低保", "village": "胜利社区",
            "discovered": date(2026, 11, 2)}
    return synth.Person(**{**base, **values})


def send(path: Path, rows: list, **options) -> Path:
    """A township's file: title in row 1, 填报单位 in row 2, the header in row 3, people from row 4."""
    return synth.write_submission(path, rows, filled_date=date(2026, 11, 27), headers="short", **options).path


# --- the schema --------------------------------------------------------------------------


def test_every_check_maps_to_a_row_code_and_every_row_code_has_a_check():
    assert set(CHECK_CODES.values()) == set(ROW_CODES)
    schema = build_schema(FORM, AS_OF)
    assert list(schema.columns) == [*FORM.keys, IDENTITY, ID_SHARED, RESULT_PROBLEM]
    assert build_schema(FORM, AS_OF) is schema and build_schema(FORM, date(2026, 12, 4)) is not schema
    checks = {key: [c.name for c in column.checks] for key, column in schema.columns.items()}
    assert (checks["discovered"], checks["id_number"], checks["name"]) == (
        ["not_a_date", "date_out_of_range"], ["bad_id"], ["not_a_name"])
    assert {name for names in checks.values() for name in names} == set(CHECK_CODES) - {"not_nullable"}


# --- one problem a file ------------------------------------------------------------------


VARIANTS = [
    (person("李四"), []),
    (person(None), [["required", 5, "姓名", ""]]),
    (person("李四", method=None), [["required", 5, "发现方式", ""]]),
    (person("李四", household=None), [["required", 5, "基本情况", ""]]),
    (person("李四", method="电话发现"), [["invalid_value", 5, "发现方式", "电话发现"]]),
    (person("李四", township="城北街道"), [["invalid_value", 5, "所属乡镇", "城北街道"]]),
    (person("李四", suspected="低保、养老保险"), [["invalid_value", 5, "疑似符合救助", "低保、养老保险"]]),
    (person("李四夫妇"), [["invalid_value", 5, "姓名", "李四夫妇"]]),
    (person("Li Si"), [["invalid_value", 5, "姓名", "Li Si"]]),
    (person("李四", phone="12345"), [["invalid_value", 5, "电话", "12345"]]),
    (person("李四", phone="13800000000、023-79222164"), []),  # two numbers
    (person("李四", household="病" * 2001), [["invalid_value", 5, "基本情况", "病" * 2001]]),  # too long
    (person("李四", village="村" * 51), [["invalid_value", 5, "村", "村" * 51]]),
    (person("李四", finder="#N/A"), [["invalid_value", 5, "发现人", "#N/A"]]),  # a formula's error
    (person("李四", seq="#DIV/0!"), []),  # …but not in 序号, which is never used
    (person("李四", discovered="2026.13.45"), [["invalid_date", 5, "发现日期", "2026.13.45"]]),
    (person("李四", discovered="去年冬天"), [["invalid_date", 5, "发现日期", "去年冬天"]]),
    (person("李四", discovered="2026-11-31"), [["invalid_date", 5, "发现日期", "2026-11-31"]]),  # no such day
    (person("李四", discovered=date(2026, 12, 1)), [["invalid_date", 5, "发现日期", "2026-12-01"]]),  # after the run
    (person("李四", discovered=date(1999, 12, 31)), [["invalid_date", 5, "发现日期", "1999-12-31"]]),
    (person("李四", id_number=WRONG_CHECK_DIGIT), [["invalid_id", 5, "身份证号码", WRONG_CHECK_DIGIT]]),
    (person("李四", id_number=float(ID_C)), [["invalid_id", 5, "身份证号码", repr(float(ID_C))]]),  # Excel's float
    (person("李四", id_number=ID_C[:15]), [["invalid_id", 5, "身份证号码", ID_C[:15]]]),
    (person("张三"), [["duplicate_row", 5, "姓名", "张三"]]),  # township + village + name, no ID on either
    (person("李四", id_number=ID_A), [["duplicate_row", 4, "身份证号码", ID_A], ["duplicate_row", 5, "身份证号码", ID_A]]),
    (person("李四", investigation=CHECKED, result="纳入城乡低保"), [["inconsistent_result", 5, "办理结果", "纳入城乡低保"]]),
    (person("李四", investigation=CHECKED, result="纳入城乡低保，2026年12月20日"),
     [["inconsistent_result", 5, "办理结果", "纳入城乡低保，2026年12月20日"]]),
    (person("李四", result="纳入城乡低保，2026年11月20日"), [["inconsistent_result", 5, "办理结果", "纳入城乡低保，2026年11月20日"]]),
    (person("李四", investigation=CHECKED, result="随便写写"), [["inconsistent_result", 5, "办理结果", "随便写写"]]),
    (person("李四", investigation=CHECKED, result="转介区医保局医疗救助"), []),  # a referral needs no date
]


@pytest.mark.parametrize("variant, expected", VARIANTS, ids=[e[0][0] if e else "valid" for _, e in VARIANTS])
def test_each_problem_on_its_row_and_column(tmp_path: Path, variant, expected):
    # Row 4 is 张三 (with 李四's ID number when the variant has it), the variant is row 5.
    first = person("张三", id_number=ID_A if variant.id_number == ID_A else None)
    report = check_files([send(tmp_path / "城西1127.xlsx", [first, variant])], AS_OF)
    assert report.flatten(["code", "row", "column", "value"]) == expected
    sent_back = len({row for _, row, _, _ in expected})
    assert report.files[0].status == ("accepted", "partial", "rejected")[sent_back]


@pytest.mark.parametrize("fmt, row", [("xlsx", 5), ("xls", 5), ("csv", 3)])
def test_the_row_is_the_one_a_person_sees_in_each_format(tmp_path: Path, fmt: str, row: int):
    report = check_files([send(tmp_path / f"城西1127.{fmt}", [person("张三"), person("李四", method="电话发现")])], AS_OF)
    assert report.flatten(["sheet", "row", "column", "code"]) == [
        ["城西1127" if fmt == "csv" else "Sheet1", row, "发现方式", "invalid_value"]]


# --- golden lists --------------------------------------------------------------------------


def test_every_problem_of_a_file_comes_at_once_in_row_then_column_order(tmp_path: Path):
    rows = [person("张三"), person(None, method="电话发现", discovered="2026.13.45"), person("李一", township="城北街道"),
            person("李二", suspected="低保户", id_number=WRONG_CHECK_DIGIT), person("李三", id_number=float(ID_C)),
            person("李四", id_number=ID_A), person("李四", id_number=ID_A), person("王五"), person("王五"),
            person("赵六", id_number=ID_B), person("钱七", id_number=ID_B),
            person("孙一", investigation=CHECKED, result="纳入城乡低保"),
            person("孙二", result="纳入城乡低保，2026年11月20日", discovered=date(2026, 12, 1))]
    report = check_files([send(tmp_path / "城西1127.xlsx", rows)], AS_OF)
    assert report.flatten(["code", "row", "column"]) == [
        ["invalid_value", 5, "发现方式"], ["required", 5, "姓名"], ["invalid_date", 5, "发现日期"],
        ["invalid_value", 6, "所属乡镇"],
        ["invalid_value", 7, "疑似符合救助"], ["invalid_id", 7, "身份证号码"],
        ["invalid_id", 8, "身份证号码"],
        ["duplicate_row", 10, "姓名"],
        ["duplicate_row", 12, "姓名"],
        ["duplicate_row", 13, "身份证号码"], ["duplicate_row", 14, "身份证号码"],
        ["inconsistent_result", 15, "办理结果"],
        ["inconsistent_result", 16, "办理结果"], ["invalid_date", 16, "发现日期"]]
    file = report.files[0]
    assert (file.status, file.rows, file.rejected, file.accepted) == ("partial", 13, 10, 3)
    assert file.records["name"].tolist() == ["张三", "李四", "王五"]


def test_messages_say_what_to_do(tmp_path: Path):
    rows = [person("张三"), person("李四", suspected="低保户"), person("张三"), person("王五", method="走访发觉")]
    report = check_files([send(tmp_path / "城西1127.xlsx", rows)], AS_OF)
    assert report.flatten(["row", "message"]) == [
        [5, ("「低保户」不是规定的救助类型。「低保户」可改为「城乡低保」。请从「城乡低保、特困供养、临时救助、医疗救助、教育救助、"
             "住房救助、就业救助、受灾人员救助」中选择，多项用顿号（、）分隔。")],
        [6, ("与第4行的乡镇、村（社区）、姓名都相同，又都没有有效的身份证号码，会被当作同一人。如果是同一人，请删除重复的一行，"
             "或把两行内容合并；如果是同名的两个人，请分别填写身份证号码加以区分。")],
        [7, "「发现方式」填写为「走访发觉」，不在规定范围内。最接近的是「走访发现」。请从「走访发现、信息推送发现、工作发现」中选择一项填写。"]]


def test_the_same_person_in_two_files_is_no_duplicate(tmp_path: Path):
    first = send(tmp_path / "城西1127.xlsx", [person("张三", id_number=ID_A), person("王五")])
    second = send(tmp_path / "城西1127补报.xlsx", [person("张三", id_number=ID_A), person("王五"), person("王五")])
    report = check_files([first, second], AS_OF)
    assert report.flatten(["file", "code", "row", "column"]) == [["城西1127补报.xlsx", "duplicate_row", 6, "姓名"]]
    assert [f.status for f in report.files] == ["accepted", "partial"]


def test_visits_are_validated_on_their_own_sheet(tmp_path: Path):
    def visit(name, **values):
        return {"name": name, "id_number": None, "township": "城西街道", "village": "胜利社区",
                "visit_date": date(2026, 11, 20), "visitor": "协理员甲", "seen": "是", "notes": None, **values}

    visits = [visit("张三"), visit("张三", seen="也许"), visit(None, visit_date="2026.13.45"), visit("李四", visitor=None,
                                                                                                township="城北街道")]
    report = check_files([send(tmp_path / "城西1127.xlsx", [person("张三")], visits=visits)], AS_OF)
    assert report.flatten(["sheet", "code", "row", "column"]) == [
        ["走访记录", "invalid_value", 3, "见到本人"],
        ["走访记录", "required", 4, "姓名"], ["走访记录", "invalid_date", 4, "日期"],
        ["走访记录", "invalid_value", 5, "所属乡镇"], ["走访记录", "required", 5, "走访人"]]
    assert report.files[0].other_rejected == {"走访记录": 3}


# --- validate on frames from normalise -----------------------------------------------------


def _frames(path: Path, table: spec.Table = FORM):
    located = locate(read_sheets(path)[0])
    raw, clean = normalise([(path.name, located)], table)
    headers = {(path.name, located.sheet, key): text for key, text in located.headers.items()}
    return raw, add_outcomes(clean, AS_OF), headers


def test_validate_turns_failure_cases_into_issues(tmp_path: Path):
    path = send(tmp_path / "城西1127.xlsx", [person("张 三"), person("李四", township="城北"), person("张三")])
    raw, clean, headers = _frames(path)
    issues = validate(raw, clean, FORM, headers=headers, as_of=AS_OF)
    assert [(i.code, i.file, i.sheet, i.row, i.column, i.value) for i in issues] == [
        ("invalid_value", "城西1127.xlsx", "Sheet1", 5, "所属乡镇", "城北"),  # the value as typed
        ("duplicate_row", "城西1127.xlsx", "Sheet1", 6, "姓名", "张三")]  # 张 三 and 张三 are one name
    # Without the file's own headers, the column is named by the official header.
    assert [i.column for i in validate(raw, clean, FORM, headers={}, as_of=AS_OF)] == ["所属乡镇（街道）", "对象姓名"]
    assert validate(raw.iloc[:0], clean.iloc[:0], FORM, headers=headers, as_of=AS_OF) == []


@pytest.mark.parametrize("result, remark, investigation, outcome", [
    (None, None, None, ("pending", None, None, None, None)),
    ("已上报，审批中", None, CHECKED, ("pending", None, None, None, None)),
    ("纳入城乡低保，2026年11月20日", None, CHECKED, ("new_assisted", "城乡低保", date(2026, 11, 20), None, None)),
    ("纳入低收入人口动态监测，2026.11.20", None, CHECKED,
     ("new_assisted", "低收入人口动态监测", date(2026, 11, 20), None, None)),
    ("不符合救助条件，列入观察", None, CHECKED, ("observation", None, None, None, None)),
    ("不符合救助条件", "因病支出较大，生活仍较困难", CHECKED, ("observation", None, None, None, None)),
    ("不符合救助条件", "无", CHECKED, ("closed", None, None, None, None)),
    ("纳入城乡低保", None, CHECKED, ("new_assisted", "城乡低保", None, None, "inconsistent_result")),
])
def test_add_outcomes_reads_the_result(tmp_path: Path, result, remark, investigation, outcome):
    path = send(tmp_path / "城西1127.xlsx", [person("张三", result=result, remark=remark, investigation=investigation)])
    _, clean, _ = _frames(path)
    assert tuple(clean.loc[0, ["status", "programme", "result_date", "referral", RESULT_PROBLEM]]) == outcome


def test_add_outcomes_reads_a_referral(tmp_path: Path):
    path = send(tmp_path / "城西1127.xlsx", [person("张三", investigation=CHECKED, result="转介区医保局医疗救助")])
    _, clean, _ = _frames(path)
    assert (clean.loc[0, "status"], clean.loc[0, "referral"], clean.loc[0, RESULT_PROBLEM]) == (
        "new_assisted", "区医保局", None)


def test_row_identities(tmp_path: Path):
    rows = [person("张三", id_number=ID_A), person("李四", id_number=WRONG_CHECK_DIGIT), person("王五", village=None)]
    path = send(tmp_path / "城西1127.xlsx", rows)
    _, clean, _ = _frames(path)
    assert row_identities(clean).tolist() == [f"id:{ID_A}", "n:城西街道|胜利社区|李四", "n:城西街道||王五"]
