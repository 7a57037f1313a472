"""办理结果 free text → outcome, programme, date and problem; cell dates."""

from __future__ import annotations

import random
import time
from datetime import date, datetime

import pytest

from pipeline.rules import spec
from pipeline.rules.dates import find_date, parse_date
from pipeline.rules.results import Outcome, parse_result

D = date
AS_OF = D(2022, 11, 28)
INVESTIGATED = "已入户核实，家庭收入低于当地低保标准"
NEW, OBS, CLOSED, PENDING = "new_assisted", "observation", "closed", "pending"
NO_DATE, BAD_DATE = "inconsistent_result", "invalid_date"
DAY = D(2022, 11, 20)

# result → (status, programme, date, problem_code), with an investigation and as_of 2022-11-28.
CASES = [
    # A programme named only to say it was not given, was left, or is still planned: never 新增.
    ("不再享受低保，2022.11.20", CLOSED, None, DAY, None),
    ("未享受低保，2022.11.20", CLOSED, None, DAY, None),
    ("低保未获批准，2022.11.20", CLOSED, None, DAY, None),
    ("未给予临时救助", CLOSED, None, None, None),
    ("无需纳入低保", CLOSED, None, None, None),
    ("2022.11.20起停止享受低保", CLOSED, None, DAY, None),
    ("原享受低保，2022.11.20已退出", CLOSED, None, DAY, None),
    ("拟于2022年11月25日纳入低保", PENDING, None, None, None),
    ("计划纳入低保，2022.11.25", PENDING, None, None, None),
    ("争取纳入特困供养", PENDING, None, None, None),
    ("纳入低保，待区民政局审批", PENDING, None, None, None),
    ("纳入特困供养于2022年11月20日", NEW, "特困供养", DAY, None),
    ("城乡低保于2022.11.20", NEW, "城乡低保", DAY, None),
    # A 纳入时间 written but not readable is said to be unreadable, not missing.
    ("纳入低保 二〇二二年十一月二十日", NEW, "城乡低保", None, BAD_DATE),
    ("纳入低保 11/20/2022", NEW, "城乡低保", None, BAD_DATE),
    # The six examples of docs/design.md §3.
    ("纳入城乡低保，2022年11月20日", NEW, "城乡低保", DAY, None),
    ("2022.11.20纳入临时救助", NEW, "临时救助", DAY, None),
    ("不符合救助条件", CLOSED, None, None, None),
    ("不符合救助条件，列入观察", OBS, None, None, None),
    ("转介区医保局医疗救助", NEW, "转介", None, None),
    ("纳入低收入人口动态监测", NEW, "低收入人口动态监测", None, NO_DATE),  # a date is required
    # 纳入 with a date, in the spellings townships use.
    ("纳入低收入人口动态监测，2022年11月20日", NEW, "低收入人口动态监测", DAY, None),
    ("纳入低收入人口监测 2022-11-20", NEW, "低收入人口动态监测", DAY, None),
    ("2022/11/20纳入低收入", NEW, "低收入人口动态监测", DAY, None),
    ("已于2022年11月20日纳入城乡低保", NEW, "城乡低保", DAY, None),
    ("整户纳入低保，2022年11月20号", NEW, "城乡低保", DAY, None),
    ("新增特困 2022.11.20", NEW, "特困供养", DAY, None),
    ("认定为特困供养人员，2022-11-20", NEW, "特困供养", DAY, None),
    ("给予临时救助2000元，2022.11.20", NEW, "临时救助", DAY, None),
    ("已享受临时救助，２０２２．１１．２０", NEW, "临时救助", DAY, None),
    ("审批通过 纳入城乡低保 2022年11月20日", NEW, "城乡低保", DAY, None),
    ("纳入农村低保，20221120", NEW, "城乡低保", DAY, None),
    ("  纳入  城乡低保 ， 2022 年 11 月 20 日  ", NEW, "城乡低保", DAY, None),
    ("纳入城乡低保（2022-11-20 00:00:00）", NEW, "城乡低保", DAY, None),
    ("发放临时救助金1500元，2022.11.20", NEW, "临时救助", DAY, None),
    ("纳入低保边缘家庭，2022.11.20", NEW, "低收入人口动态监测", DAY, None),
    ("纳入医疗救助，2022.11.20", NEW, "医疗救助", DAY, None),
    ("纳入受灾人员救助，2022.11.20", NEW, "受灾人员救助", DAY, None),
    ("安排公益性岗位，2022.11.20", NEW, "就业救助", DAY, None),
    ("城乡低保 2022.11.20", NEW, "城乡低保", DAY, None),           # bare programme + date
    ("临时救助2000元 2022年11月20日", NEW, "临时救助", DAY, None),
    ("不符合低保条件，纳入临时救助，2022.11.20", NEW, "临时救助", DAY, None),
    ("不符合低保条件纳入临时救助2022.11.20", NEW, "临时救助", DAY, None),
    # 分类施救: not eligible for one programme, given another in a clause of its own.
    ("不符合低保条件，临时救助500元，2022.11.20", NEW, "临时救助", DAY, None),
    ("不予纳入低保，临时救助1000元，2022.11.20", NEW, "临时救助", DAY, None),
    ("低保不符合，临时救助2022.11.20", NEW, "临时救助", DAY, None),
    ("不符合特困条件，低保 2022.11.20", NEW, "城乡低保", DAY, None),
    ("不符合低保条件，临时救助", NEW, "临时救助", None, NO_DATE),
    ("纳入低保，2022年11月20日，正在办理临时救助", NEW, "城乡低保", DAY, None),
    # 纳入 without a usable date.
    ("已纳入低保", NEW, "城乡低保", None, NO_DATE),
    ("给予临时救助2000元", NEW, "临时救助", None, NO_DATE),
    ("2022年11月纳入低保", NEW, "城乡低保", None, BAD_DATE),
    ("纳入低保，2022.11", NEW, "城乡低保", None, BAD_DATE),
    ("2022.13.45纳入临时救助", NEW, "临时救助", None, BAD_DATE),
    ("纳入城乡低保，2022年2月30日", NEW, "城乡低保", None, BAD_DATE),
    ("11月20日纳入低保", NEW, "城乡低保", None, BAD_DATE),
    ("纳入低保，22.11.20", NEW, "城乡低保", None, BAD_DATE),
    ("纳入临时救助，2022年12月1日", NEW, "临时救助", D(2022, 12, 1), NO_DATE),  # after as_of
    # 转介, with and without a department; no date needed.
    ("转区医保局", NEW, "转介", None, None),
    ("转介", NEW, "转介", None, None),
    ("已转介至区教委，办理教育救助", NEW, "转介", None, None),
    ("不符合低保条件，转介区住建委危房改造，2022.11.20", NEW, "转介", DAY, None),
    # Observation.
    ("不符合救助条件 列入观察", OBS, None, None, None),
    ("不符合条件，纳入观察名单", OBS, None, None, None),
    ("救助观察", OBS, None, None, None),
    ("经调查不符合低保条件，继续观察", OBS, None, None, None),
    ("观察", OBS, None, None, None),
    ("暂未纳入，持续关注", OBS, None, None, None),
    # Closed.
    ("不符合条件", CLOSED, None, None, None),
    ("经调查不符合", CLOSED, None, None, None),
    ("不予纳入", CLOSED, None, None, None),
    ("家庭收入超标，不符合低保条件", CLOSED, None, None, None),
    ("低保不符合", CLOSED, None, None, None),                  # the programme not given
    ("不符合纳入低保条件", CLOSED, None, None, None),
    ("本人放弃申请", CLOSED, None, None, None),
    ("不符合救助条件，2022.11.20", CLOSED, None, DAY, None),
    ("本人已死亡", CLOSED, None, None, None),
    # Pending.
    (None, PENDING, None, None, None),
    ("", PENDING, None, None, None),
    ("   ", PENDING, None, None, None),
    ("/", PENDING, None, None, None),
    ("无", PENDING, None, None, None),
    ("待定", PENDING, None, None, None),
    ("正在调查", PENDING, None, None, None),
    ("调查中", PENDING, None, None, None),
    ("待审批", PENDING, None, None, None),
    ("审核中", PENDING, None, None, None),
    ("拟纳入低保", PENDING, None, None, None),
    ("纳入低保，审批中", PENDING, None, None, None),
    ("纳入低保审批中", PENDING, None, None, None),
    ("已申请低保，待审批", PENDING, None, None, None),
    ("不符合特困条件，拟纳入低保", PENDING, None, None, None),
    ("已提交低保申请", PENDING, None, None, None),  # what clerks write while it is being approved
    ("申请低保", PENDING, None, None, None),
    ("已报民政局审批", PENDING, None, None, None),
    ("低保未批", PENDING, None, None, None),
    ("转民政局临时救助", PENDING, None, None, None),
    ("低保未批准", CLOSED, None, None, None),
    ("本人放弃申请", CLOSED, None, None, None),
    # A step (申请, 上报, 建议) followed by the decision is history, not the state of the case.
    ("申请低保未通过，列入观察", OBS, None, None, None),
    ("低保申请未通过，列入观察名单", OBS, None, None, None),
    ("不符合救助条件，但家庭确实困难，建议列入观察", OBS, None, None, None),
    ("申请特困供养未获批准", CLOSED, None, None, None),
    ("已申请临时救助，2022.11.20已发放2000元", NEW, "临时救助", DAY, None),
    ("申请低保，审批通过，2022.11.20", NEW, "城乡低保", DAY, None),
    ("已上报，审批通过", PENDING, None, None, NO_DATE),          # approved, but for what?
    ("建议纳入低保", PENDING, None, None, None),                 # a suggestion decides nothing
    ("不符合低保条件，建议申请临时救助", PENDING, None, None, None),
    ("申请临时救助，已上报", PENDING, None, None, None),
    # Never guessed.
    ("已处理", PENDING, None, None, NO_DATE),
    ("见附件", PENDING, None, None, NO_DATE),
    ("符合条件", PENDING, None, None, NO_DATE),
    ("纳入救助范畴", PENDING, None, None, NO_DATE),
    ("病情好转", PENDING, None, None, NO_DATE),
    ("已办理", PENDING, None, None, NO_DATE),
]


@pytest.mark.parametrize("result, status, programme, day, code", CASES, ids=[repr(c[0]) for c in CASES])
def test_parse_result(result, status, programme, day, code):
    out = parse_result(result, investigation=INVESTIGATED, as_of=AS_OF)
    assert (out.status, out.programme, out.date, out.problem_code) == (status, programme, day, code)
    assert (out.problem is None) == (code is None)


@pytest.mark.parametrize("result, department", [
    ("转介区医保局医疗救助", "区医保局"),
    ("转区医保局", "区医保局"),
    ("已转介至区教委，办理教育救助", "区教委"),
    ("转交区人力社保局办理就业救助", "区人力社保局"),
    ("移交区住建委危房改造", "区住建委"),
    ("转介", None),
    ("转介医疗救助", None),
])
def test_referral_department(result, department):
    assert parse_result(result, investigation=INVESTIGATED).referral == department


@pytest.mark.parametrize("remark, status", [
    ("患慢性病，医疗支出大，生活确有困难", OBS),
    ("家庭收入超标，但儿子重病", OBS),
    ("独居老人，子女在外不管", OBS),
    (None, CLOSED),
    ("", CLOSED),
    ("无", CLOSED),
    ("／", CLOSED),
    ("不符合条件", CLOSED),
    ("家庭无困难", CLOSED),
    ("子女收入稳定，生活有保障", CLOSED),
])
def test_remark_decides_observation(remark, status):
    assert parse_result("不符合救助条件", remark=remark, investigation=INVESTIGATED).status == status


def test_remark_does_not_reopen_an_ended_case():
    assert parse_result("本人已死亡", remark="生前患病", investigation=INVESTIGATED).status == CLOSED


@pytest.mark.parametrize("result", ["纳入城乡低保，2022年11月20日", "不符合救助条件", "已处理"])
@pytest.mark.parametrize("investigation", [None, "", "  ", "无", "/"])
def test_result_without_investigation(result, investigation):
    out = parse_result(result, investigation=investigation, as_of=AS_OF)
    assert out.problem_code == "inconsistent_result"
    assert "已填写办理结果但调查情况为空，请补填乡镇（街道）调查情况" in out.problem


@pytest.mark.parametrize("result", [None, "", "调查中", "待审批"])
def test_pending_needs_no_investigation(result):
    assert parse_result(result, investigation=None) == Outcome(PENDING, None, None, None, None, None)


def test_messages_say_what_to_do():
    def problem(result, **kw):
        return parse_result(result, investigation=INVESTIGATED, as_of=AS_OF, **kw).problem

    assert problem("已纳入低保") == "纳入救助须写明纳入时间，如：纳入城乡低保，2026年11月20日"
    assert problem("纳入临时救助，2022年12月1日") == \
        "纳入时间2022年12月1日晚于2022年11月28日（本次检查或汇总的日期），请核对年份和月份；还没有办结的，办理结果写‘已上报，审批中’或留空"
    assert problem("已处理") == ("无法识别办理结果「已处理」，请按‘纳入城乡低保，2026年11月20日’"
                                "‘不符合救助条件’‘不符合救助条件，列入观察’等写法填写；还在办理的写‘已上报，审批中’或留空")
    assert "2022.13.45" in problem("2022.13.45纳入临时救助") and "有效日期" in problem("2022.13.45纳入临时救助")
    assert "具体日期" in problem("2022年11月纳入低保")
    both = parse_result("已纳入低保", investigation=None)
    assert both.problem_code == "inconsistent_result" and both.problem.count("；") == 1


def test_as_of_accepts_a_datetime_and_absent_as_of_skips_the_check():
    assert parse_result("纳入低保 2022.12.1", investigation="已核实", as_of=datetime(2022, 11, 28, 9)).problem
    assert parse_result("纳入低保 2022.12.1", investigation="已核实").problem is None


def test_every_programme_spelling_in_results_yaml_is_read():
    programmes = spec.load_yaml("results.yaml")["programmes"]
    for canonical, spellings in programmes.items():
        for spelling in (canonical, *spellings):
            out = parse_result(f"纳入{spelling}，2022年11月20日", investigation=INVESTIGATED)
            assert (out.status, out.programme, out.date) == (NEW, canonical, DAY), spelling


def test_every_pending_word_in_results_yaml_is_pending():
    raw = spec.load_yaml("results.yaml")
    for word in raw["blank"] + raw["pending"]:
        assert parse_result(str(word), investigation=None).status == PENDING, word


@pytest.mark.parametrize("value, expected", [
    (D(2022, 11, 20), DAY),
    (datetime(2022, 11, 20, 15, 30), DAY),
    ("2022年11月20日", DAY),
    ("2022年11月20号", DAY),
    ("2022.11.20", DAY),
    ("2022/11/20", DAY),
    ("2022-11-20", DAY),
    ("2022-11-20 00:00:00", DAY),
    ("20221120", DAY),
    ("２０２２．１１．２０", DAY),
    ("２０２２年１１月２０日", DAY),
    ("  2022.11.20 ", DAY),
    ("2022-1-5", D(2022, 1, 5)),
    (44885, DAY),                 # Excel serial
    (44885.75, DAY),              # serial with a time of day
    ("44885", DAY),               # serial that came through as text
    (20221120, DAY),
    (20221120.0, DAY),
    ("2022.13.45", None),
    ("2022年2月30日", None),
    ("2022年11月", None),
    ("2022年11月20日纳入", None),  # a cell date is the whole cell
    ("张三", None),
    ("", None),
    (None, None),
    (True, None),
    (12, None),
    (float("nan"), None),
    (20221345, None),
])
def test_parse_date(value, expected):
    assert parse_date(value) == expected


def test_parse_date_takes_pandas_and_numpy_values():
    pd = pytest.importorskip("pandas")
    np = pytest.importorskip("numpy")
    assert parse_date(pd.Timestamp("2022-11-20")) == DAY
    assert parse_date(pd.NaT) is None
    assert parse_date(np.int64(44885)) == DAY
    assert parse_date(np.float64(44885.0)) == DAY


@pytest.mark.parametrize("text, expected", [
    ("2022.11.20纳入临时救助", (DAY, "2022.11.20")),
    ("纳入城乡低保，2022年11月20日", (DAY, "2022年11月20日")),
    ("纳入低保２０２２．１１．２０", (DAY, "2022.11.20")),
    ("纳入低保20221120", (DAY, "20221120")),
    ("2022.13.45纳入", (None, "2022.13.45")),
    ("2022年11月纳入低保", (None, "2022年11月")),
    ("给予临时救助20000元", (None, None)),
    ("给予临时救助1500.50元", (None, None)),
    ("身份证500114198001011234", (None, None)),
    ("不符合救助条件", (None, None)),
    ("", (None, None)),
])
def test_find_date(text, expected):
    assert find_date(text) == expected


def test_ten_thousand_rows_are_fast():
    # Measured about 10 ms for 10,000 rows of repeating results; the bound is loose on purpose.
    rng = random.Random(9)
    rows = [(c[0], rng.choice([None, "无", "患病", "家庭困难"])) for c in CASES]
    rows = [rng.choice(rows) for _ in range(10_000)]
    parse_result("预热", investigation=INVESTIGATED)
    began = time.perf_counter()
    for result, remark in rows:
        parse_result(result, remark=remark, investigation=INVESTIGATED, as_of=AS_OF)
    assert time.perf_counter() - began < 0.5
