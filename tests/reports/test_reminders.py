"""超期催办 (pipeline/reports/reminders.py): a summary, and a printable 催办通知 per township."""

from __future__ import annotations

import warnings
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from pipeline.reports import reminders
from pipeline.roster import cases as roster
from pipeline.rules import overdue, spec
from pipeline.tools import xlsx

AS_OF = date(2026, 11, 28)
RED = "FF" + xlsx.BAD_FILL.lstrip("#")


def case(township: str, name: str, *, status: str = "pending", age: int | None = None, overdue: bool = False,
         reminded_on: str | None = None, discovered: str = "2026-10-01", suspected: str = "城乡低保") -> dict:
    return {"key": f"{township}|{name}", "township": township, "village": "新建村", "name": name,
            "status": status, "discovered": discovered, "suspected": suspected,
            "age_workdays": age, "overdue": overdue, "reminded_on": reminded_on,
            "still_overdue": reminded_on is not None}


def frame(rows: list[dict]) -> pd.DataFrame:
    out = pd.DataFrame(rows)
    out["age_workdays"] = pd.array(out["age_workdays"].tolist(), dtype="Int64")
    return out


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> tuple[Path, openpyxl.Workbook]:
    classified = frame([
        case("城东街道", "张三", age=41, overdue=True),
        case("城东街道", "李四", age=3),
        case("城东街道", "王五", age=45, overdue=True, reminded_on="2026-11-20", suspected="城乡低保、医疗救助"),
        case("城西街道", "赵六", status="closed"),
        case("石会镇", "钱七", age=33, overdue=True, discovered="2026-10-09"),
    ])
    path = tmp_path_factory.mktemp("reminders") / "超期催办.xlsx"
    reminders.write_reminders(path, classified, as_of=AS_OF, numbers={"城东街道": 7})
    return path, _load(path)


def _load(path: Path) -> openpyxl.Workbook:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return openpyxl.load_workbook(path)


def _text(ws) -> str:
    return "\n".join(str(v) for r in ws.iter_rows(values_only=True) for v in r if v is not None)


def test_a_sheet_per_township_in_district_order(written):
    _, wb = written
    assert wb.sheetnames == [reminders.SUMMARY_SHEET, "城东街道", "石会镇"]


def test_summary_lists_every_overdue_case(written):
    _, wb = written
    ws = wb[reminders.SUMMARY_SHEET]
    assert [c.value for c in ws[3]] == [h for _, h, _, _ in reminders.SUMMARY_COLUMNS]
    assert list(ws.iter_rows(min_row=4, values_only=True)) == [
        (1, "城东街道", "新建村", "张三", datetime(2026, 10, 1), 41, "待发出"),
        (2, "城东街道", "新建村", "王五", datetime(2026, 10, 1), 45, "提醒后仍未办理（2026-11-20 已提醒）"),
        (3, "石会镇", "新建村", "钱七", datetime(2026, 10, 9), 33, "待发出"),
    ]
    assert "共3件" in _text(ws) and "提醒后仍未办理1件" in _text(ws)


def test_the_reminder_reads_as_a_letter(written):
    _, wb = written
    ws = wb["城东街道"]
    text = _text(ws)
    words = spec.letterhead()
    lines = [v for r in ws.iter_rows(values_only=True) for v in r if v is not None]
    assert lines[:4] == [words.organ, f"{words.number_prefix}〔2026〕7号", words.title, "城东街道民政和社会事务办（社保所）："]
    # 附件说明, 署名 centred over 成文日期 four characters from the right (full-width spaces), 联系人 and 电话.
    assert lines[6:10] == ["　　附件：城东街道超期未办理事项明细表", "重庆市黔江区民政局　　　", "2026年11月28日　　　　",
                           "　　（联系人：社会救助科，电话：79222164）"]
    assert ws["A1"].font.color.rgb == "FFFF0000" and ws["A1"].font.name == "方正小标宋简体"
    assert ws["A8"].font.sz == 16 and ws["A8"].font.name == "仿宋"  # 正文: 三号仿宋
    assert "黔江民政发〔2022〕44号" in text
    assert f"{spec.thresholds()['overdue_workdays']}个工作日" in text
    assert "其中1名在区民政局书面提醒后仍未办理" in text
    assert "2026年12月4日前" in text  # five working days on: by the next weekly report
    assert [b.id for b in ws.row_breaks.brk] == [15]  # the 附件 starts a page: 附件, its title, the table
    assert [ws["A16"].value, ws["A17"].value] == ["附件", "城东街道超期未办理事项明细表"]
    header = [c.value for c in ws[19]]
    assert header == ["序号", "对象姓名", "村（社区）", "发现日期", "已用工作日", "疑似符合救助", "状态"]
    rows = [r for r in ws.iter_rows(min_row=20, max_row=21)]
    assert [[c.value for c in r] for r in rows] == [
        [1, "张三", "新建村", datetime(2026, 10, 1), 41, "城乡低保", "超期"],
        [2, "王五", "新建村", datetime(2026, 10, 1), 45, "城乡低保、医疗救助", "提醒后仍未办理"],
    ]
    assert rows[0][3].number_format == "yyyy-mm-dd"
    assert [r[6].fill.fgColor.rgb == RED for r in rows] == [False, True]
    assert "李四" not in text and "钱七" not in text


def test_print_setup(written):
    _, wb = written
    for ws in wb:
        portrait = ws.title != reminders.SUMMARY_SHEET  # a letter is a portrait page (GB/T 9704-2012)
        assert ws.page_setup.orientation == ("portrait" if portrait else "landscape")
        assert int(ws.page_setup.paperSize) == xlsx.PAPER_A4 and ws.sheet_properties.pageSetUpPr.fitToPage
    assert wb["城东街道"].print_title_rows == "$19:$19"
    assert wb[reminders.SUMMARY_SHEET].print_title_rows == "$3:$3"


def test_same_input_same_bytes(written, tmp_path):
    path, _ = written
    classified = frame([case("城东街道", "张三", age=41, overdue=True)])
    reminders.write_reminders(tmp_path / "a.xlsx", classified, as_of=AS_OF)
    reminders.write_reminders(tmp_path / "b.xlsx", classified, as_of=AS_OF)
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()


def test_nothing_overdue(tmp_path):
    reminders.write_reminders(tmp_path / "r.xlsx", frame([case("城东街道", "张三", age=3)]), as_of=AS_OF)
    wb = _load(tmp_path / "r.xlsx")
    assert wb.sheetnames == [reminders.SUMMARY_SHEET]
    assert reminders.NOTHING in _text(wb[reminders.SUMMARY_SHEET])


def test_sheet_names_excel_accepts():
    used = {reminders.SUMMARY_SHEET}
    assert reminders.sheet_name("城西街道", used) == "城西街道"
    assert reminders.sheet_name("城西街道", used) == "城西街道(2)"
    assert reminders.sheet_name("a/b*c", used) == "a_b_c"


def test_a_reminder_counts_as_unanswered_only_from_its_deadline_in_working_days():
    # Issued on 30 Sep, before the National Day holiday: five working days end on 13 Oct
    # (8, 9, the make-up Saturday 10, 12, 13 Oct), not on 7 Oct, inside the holiday.
    assert overdue.deadline(date(2026, 9, 30)) == date(2026, 10, 13)
    people = pd.DataFrame({"key": ["a"], "township": ["城东街道"], "name": ["张三"], "status": ["pending"],
                           "discovered": ["2026-07-01"]})
    # The letter asks 于2026年10月13日前: the 13th itself is still in time.
    for as_of, still in ((date(2026, 10, 8), False), (date(2026, 10, 13), False), (date(2026, 10, 14), True)):
        classified = roster.classify(people, as_of, reminded={"a": "2026-09-30"})
        assert classified["still_overdue"].tolist() == [still], as_of


def test_a_letter_in_a_year_the_holiday_calendar_does_not_know_says_how_days_were_counted():
    cases = pd.DataFrame({"still_overdue": [False]})
    beyond = date(2027, 2, 26)  # after a Spring Festival the calendar has no dates for
    assert "2027年放假安排尚未更新，工作日暂按周一至周五计算" in reminders.letter("城东街道", cases, beyond).opening
    assert "放假安排" not in reminders.letter("城东街道", cases, date(2026, 11, 28)).opening
    assert "节假日被算作工作日" in roster.calendar_warning(beyond) and "升级" not in roster.calendar_warning(beyond)
