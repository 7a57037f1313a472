"""Scenarios over several weekly runs with moving run dates, through pipeline.run.run on
real workbooks (pipeline.demo.synth) and a real SQLite store, asserting the exact rows of
走访缺口.xlsx, 超期催办.xlsx and run-report.json.

Every expected value is worked out by hand from the rules, not copied from a run:
- docs/design.md §3 and the notice 二（一）（二）: the key population (待办理 + 救助观察群众) is seen in
  person at least once every calendar month from the first full month after joining; a
  visit where the person was not seen (不见人) does not count and is listed for a return
  visit. 未见面天数 counts from the last visit in person, or from joining when never seen.
- docs/design.md §3 and the notice 三（三）: pending for more than 30 working days (China's holidays
  and make-up workdays, chinese-calendar) from discovery is 超期; each run drafts a written
  reminder for it (待发出), issued when the letter goes out (here: the operator records the
  paper letters, `jiuzhu reminders sent`); a case still pending after the deadline of a letter
  that went out is 提醒后仍未办理, and never before a letter went out.
- docs/design.md §4 and run.missing_townships: a township that sent no form (a zero report counts)
  in the 7 days ending on the run date is listed as missing.

The runs are on Fridays of November 2026 and the first Friday of December. The 2026
calendar matters for the working days: 25 Sep (中秋) and 1–7 Oct (国庆, weekdays 1, 2, 5,
6, 7) are holidays, Sunday 20 Sep and Saturday 10 Oct are make-up workdays.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from pipeline import settings
from pipeline.demo import synth
from pipeline.demo.synth_text import INVESTIGATION
from pipeline.mail import letters
from pipeline.rules import townships
from pipeline.run import run

NOV6, NOV13, NOV20, NOV27, DEC4 = (date(2026, 11, 6), date(2026, 11, 13), date(2026, 11, 20),
                                   date(2026, 11, 27), date(2026, 12, 4))
GAPS, AGAIN, ALL = "走访缺口", "需再次走访", "全部重点人群"   # sheets of 走访缺口.xlsx
SUMMARY = "汇总"                                             # first sheet of 超期催办.xlsx
PENDING, OBSERVATION = "待办理", "救助观察群众"
NEVER = "从未见面"
OBSERVE = "不符合救助条件，列入观察"
ALL_TOWNSHIPS = [t.name for t in townships.listed()]


# --- the district: write a week's files, run, read what the run wrote ----------------------


def people(township: str, n: int, *, seed: int) -> list[synth.Person]:
    """n pending people of a township (Faker-style synthetic names, valid IDs), all in the
    township's first village, 疑似 城乡低保 and no investigation yet: tests set the rest."""
    village = synth.villages(township)[0]
    out = synth.make_people(township, n, seed=seed, mix={"pending": 1})
    for p in out:
        p.village, p.suspected, p.investigation, p.result, p.remark = village, "城乡低保", None, None, None
    return out


def found(p: synth.Person, day: date) -> synth.Person:
    p.discovered = day
    return p


def observe(p: synth.Person) -> synth.Person:
    """Investigated, not eligible, real hardship remains: 救助观察群众."""
    p.investigation, p.result = INVESTIGATION["observation"][0], OBSERVE
    return p


def visit(p: synth.Person, day: date, seen: str = "是") -> dict:
    """A row of the 走访记录 sheet about p."""
    return {"name": p.name, "id_number": p.id_number, "township": p.township, "village": p.village,
            "visit_date": day, "visitor": "村社会救助协理员", "seen": seen, "notes": None}


def sheet_rows(path: Path, sheet: str) -> list[tuple]:
    """The data rows of a table sheet without 序号: the rows under the header that starts with
    序号, up to the first row without a number there. Dates come back as dates."""
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        rows = list(book[sheet].iter_rows(values_only=True))
    finally:
        book.close()
    start = next(i for i, r in enumerate(rows) if r and r[0] == "序号") + 1
    out = []
    for row in rows[start:]:
        if not isinstance(row[0], int):
            break
        out.append(tuple(v.date() if isinstance(v, datetime) else v for v in row[1:]))
    return out


def sheet_lines(path: Path, sheet: str) -> list[str]:
    """The first cell of each non-empty row: the title and the lines of running text."""
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return [r[0] for r in book[sheet].iter_rows(values_only=True) if r and r[0] is not None]
    finally:
        book.close()


def sheet_names(path: Path) -> list[str]:
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return book.sheetnames
    finally:
        book.close()


@dataclass
class Week:
    """What one run wrote into outbox/<as-of>/."""

    outdir: Path
    townships: dict  # the run's township table (kept in the store; run-report.json holds docs/design.md §6 only)

    @property
    def report(self) -> dict:
        return json.loads((self.outdir / settings.REPORT_NAME).read_text(encoding="utf-8"))

    def gaps(self, sheet: str = GAPS) -> list[tuple]:
        return sheet_rows(self.outdir / settings.VISIT_GAPS_NAME, sheet)

    def overdue(self, sheet: str = SUMMARY) -> list[tuple]:
        return sheet_rows(self.outdir / settings.OVERDUE_NAME, sheet)


class District:
    """One store, inbox and outbox; each week townships drop files in, then the bureau runs."""

    def __init__(self, root: Path):
        self.inbox, self.outbox, self.store = root / "inbox", root / "outbox", root / "jiuzhu.sqlite3"
        self.inbox.mkdir(parents=True)

    def send(self, township: str, day: date, rows: list, visits: list[dict] | None = None) -> Path:
        """The township's weekly file, filled on `day`: form rows and a 走访记录 sheet."""
        return synth.write_submission(self.inbox / f"{township}{day:%m%d}.xlsx", rows, township=township,
                                      filled_date=day, visits=visits).path

    def send_zero(self, township: str, day: date) -> Path:
        return synth.write_zero_report(self.inbox / f"{township}{day:%m%d}零报告.xlsx", township,
                                       filled_date=day).path

    def run(self, as_of: date) -> Week:
        result = run(self.inbox, self.outbox, self.store, as_of)
        week = Week(result.outdir, result.report["townships"])
        errors = [(f["file"], e["code"], e["message"]) for f in week.report["files"] for e in f["errors"]]
        assert errors == [], "the scenario's files are all valid"
        return week

    def letters_sent(self, as_of: date) -> None:
        """The operator records that the 催办通知 of the run of `as_of` went out (jiuzhu reminders sent)."""
        letters.record_sent(self.store, as_of)


def township_figures(week: Week, township: str, *keys: str) -> dict:
    return {k: week.townships[township][k] for k in keys}


# --- 1. a township that stops visiting -----------------------------------------------------


def test_township_that_stops_visiting_has_gaps_next_month(tmp_path: Path):
    """石会镇 has two key people: A (待办理, found 12 Oct) and B (救助观察, found 20 Oct). Its
    files of weeks 1 and 2 carry visits in person (3/4 and 10/11 Nov); from week 3 on it
    sends its form without any visit. November stays covered by the visits already made
    (no gap, days without a visit growing); in December both are gaps, last seen on
    10 and 11 November."""
    d = District(tmp_path)
    town = "石会镇"
    a, b = people(town, 2, seed=11)
    found(a, date(2026, 10, 12))
    observe(found(b, date(2026, 10, 20)))
    village = a.village

    d.send(town, NOV6, [a, b], [visit(a, date(2026, 11, 3)), visit(b, date(2026, 11, 4))])
    w1 = d.run(NOV6)
    d.send(town, NOV13, [a, b], [visit(a, date(2026, 11, 10)), visit(b, date(2026, 11, 11))])
    w2 = d.run(NOV13)
    d.send(town, NOV20, [a, b])
    w3 = d.run(NOV20)
    d.send(town, NOV27, [a, b])
    w4 = d.run(NOV27)
    d.send(town, DEC4, [a, b])
    w5 = d.run(DEC4)

    # 全部重点人群: township, village, name, class, joined, last seen in person, days without,
    # due this month, seen this month. Most days without a visit first.
    def everyone(last_a: date, days_a: int, last_b: date, days_b: int, seen: str) -> list[tuple]:
        return [(town, village, a.name, PENDING, date(2026, 10, 12), last_a, days_a, "是", seen),
                (town, village, b.name, OBSERVATION, date(2026, 10, 20), last_b, days_b, "是", seen)]

    nov3, nov4, nov10, nov11 = date(2026, 11, 3), date(2026, 11, 4), date(2026, 11, 10), date(2026, 11, 11)
    assert w1.gaps(ALL) == everyone(nov3, 3, nov4, 2, "是")
    assert w2.gaps(ALL) == everyone(nov10, 3, nov11, 2, "是")
    assert w3.gaps(ALL) == everyone(nov10, 10, nov11, 9, "是")
    assert w4.gaps(ALL) == everyone(nov10, 17, nov11, 16, "是")
    assert w5.gaps(ALL) == everyone(nov10, 24, nov11, 23, "否")
    for week in (w1, w2, w3, w4):
        assert week.gaps() == []
        assert week.report["visits"] == {"key_population": 2, "seen_this_month": 2, "gaps": 0}
        assert township_figures(week, town, "seen_this_month", "gaps", "visit_coverage") == \
            {"seen_this_month": 2, "gaps": 0, "visit_coverage": 1.0}
    # 走访缺口 rows: the 全部重点人群 columns up to 未见面天数, then 本月是否已见面.
    assert w5.gaps() == [(town, village, a.name, PENDING, date(2026, 10, 12), nov10, 24, "否"),
                         (town, village, b.name, OBSERVATION, date(2026, 10, 20), nov11, 23, "否")]
    assert w5.gaps(AGAIN) == []
    assert w5.report["visits"] == {"key_population": 2, "seen_this_month": 0, "gaps": 2}
    assert township_figures(w5, town, "seen_this_month", "gaps", "visit_coverage") == \
        {"seen_this_month": 0, "gaps": 2, "visit_coverage": 0.0}


# --- 2. seen only as 不见人 ------------------------------------------------------------------


def test_visits_without_meeting_the_person_never_count(tmp_path: Path):
    """濯水镇: C (待办理, found 8 Oct) was visited twice in November and never found at home
    (不见人, 否); D (救助观察, found 28 Sep) was seen on 15 Oct and not found on 5 Nov; E
    (待办理, found 8 Oct) was not found on 2 Nov, seen on 5 Nov and not found on 12 Nov. Only
    E counts as seen this month; C and D are gaps; every not-seen visit after the last one in
    person is listed for a return visit (走访到户不见人不放过), and stays listed into December;
    E's visit of 2 Nov was made good by that of 5 Nov."""
    d = District(tmp_path)
    town = "濯水镇"
    c, dd, e = people(town, 3, seed=12)
    found(c, date(2026, 10, 8))
    observe(found(dd, date(2026, 9, 28)))
    found(e, date(2026, 10, 8))
    village = c.village
    d.send(town, NOV20, [c, dd, e], [
        visit(dd, date(2026, 10, 15)), visit(e, date(2026, 11, 2), "否"),
        visit(c, date(2026, 11, 4), "不见人"), visit(dd, date(2026, 11, 5), "否"), visit(e, date(2026, 11, 5)),
        visit(e, date(2026, 11, 12), "否"), visit(c, date(2026, 11, 18), "否")])
    nov = d.run(NOV20)
    dec = d.run(DEC4)  # nothing more from 濯水镇

    # Never seen first (days since joining), then most days since the last visit in person.
    assert nov.gaps(ALL) == [
        (town, village, c.name, PENDING, date(2026, 10, 8), NEVER, 43, "是", "否"),
        (town, village, dd.name, OBSERVATION, date(2026, 9, 28), date(2026, 10, 15), 36, "是", "否"),
        (town, village, e.name, PENDING, date(2026, 10, 8), date(2026, 11, 5), 15, "是", "是")]
    assert nov.gaps() == [
        (town, village, c.name, PENDING, date(2026, 10, 8), NEVER, 43, "否"),
        (town, village, dd.name, OBSERVATION, date(2026, 9, 28), date(2026, 10, 15), 36, "否")]
    again = [(town, village, c.name, "2026-11-04、2026-11-18", 2),
             (town, village, dd.name, "2026-11-05", 1),
             (town, village, e.name, "2026-11-12", 1)]
    assert nov.gaps(AGAIN) == again
    assert nov.report["visits"] == {"key_population": 3, "seen_this_month": 1, "gaps": 2}

    assert dec.gaps() == [
        (town, village, c.name, PENDING, date(2026, 10, 8), NEVER, 57, "否"),
        (town, village, dd.name, OBSERVATION, date(2026, 9, 28), date(2026, 10, 15), 50, "否"),
        (town, village, e.name, PENDING, date(2026, 10, 8), date(2026, 11, 5), 29, "否")]
    assert dec.gaps(AGAIN) == again
    assert dec.report["visits"] == {"key_population": 3, "seen_this_month": 0, "gaps": 3}


# --- 3. overdue, reminded, still pending, decided ----------------------------------------------


def test_overdue_case_reminded_then_still_pending_then_decided(tmp_path: Path):
    """黎水镇 reports two pending cases on 6 Nov. F, found Fri 18 Sep, is 31 working days old
    that day (20 Sep and 10 Oct worked, 25 Sep and the 国庆 weekdays not): overdue, first
    reminder, drafted (待发出) and sent that day. G, found Sun 20 Sep, is exactly 30: not yet overdue
    (a Mon–Fri count would say 35). On 13 Nov, the last day F's reminder gives, F (36) is reminded
    and still in time, and G (35) gets its first reminder, sent that day. On 20 Nov the township reports F 纳入城乡低保 on 18 Nov: F leaves the
    list and becomes 新增救助群众; the bureau runs on Mon 23 Nov, when G (41) is still pending after
    its reminder of 13 Nov (answer by 20 Nov). On 27 Nov G is found not eligible (不符合): nothing
    is overdue any more."""
    d = District(tmp_path)
    town = "黎水镇"
    f, g = people(town, 2, seed=13)
    found(f, date(2026, 9, 18))
    found(g, date(2026, 9, 20))
    village = f.village
    sep18, sep20 = date(2026, 9, 18), date(2026, 9, 20)
    counts = ("overdue", "still_overdue", "in_time_share")

    d.send(town, NOV6, [f, g])
    w1 = d.run(NOV6)
    # 汇总: township, village, name, found, working days used, 提醒情况.
    assert w1.overdue() == [(town, village, f.name, sep18, 31, "待发出")]
    # The letter to the township: name, village, found, working days, 疑似符合救助, 状态.
    assert w1.overdue(town) == [(f.name, village, sep18, 31, "城乡低保", "超期")]
    assert w1.report["roster"] == {"total": 2, "new_assisted": 0, "observation": 0, "closed": 0,
                                   "pending": 2, "overdue": 1}
    assert township_figures(w1, town, *counts) == {"overdue": 1, "still_overdue": 0, "in_time_share": 0.0}
    d.letters_sent(NOV6)

    d.send_zero(town, NOV13)  # nothing new this week
    w2 = d.run(NOV13)
    assert w2.overdue() == [(town, village, f.name, sep18, 36, "2026-11-06 已提醒，期限 2026-11-13"),
                            (town, village, g.name, sep20, 35, "待发出")]
    assert w2.overdue(town) == [(f.name, village, sep18, 36, "城乡低保", "超期"),
                                (g.name, village, sep20, 35, "城乡低保", "超期")]
    assert w2.report["roster"]["overdue"] == 2
    assert township_figures(w2, town, *counts) == {"overdue": 2, "still_overdue": 0, "in_time_share": 0.0}
    d.letters_sent(NOV13)

    f.investigation, f.result = INVESTIGATION["new_assisted"][0], "已纳入低保，2026年11月18日"
    d.send(town, NOV20, [f])
    w3 = d.run(date(2026, 11, 23))
    assert w3.overdue() == [(town, village, g.name, sep20, 41, "提醒后仍未办理（2026-11-13 已提醒）")]
    assert w3.overdue(town) == [(g.name, village, sep20, 41, "城乡低保", "提醒后仍未办理")]
    assert w3.report["roster"] == {"total": 2, "new_assisted": 1, "observation": 0, "closed": 0,
                                   "pending": 1, "overdue": 1}
    # F was decided after 39 working days: decided, but not in time.
    assert township_figures(w3, town, *counts) == {"overdue": 1, "still_overdue": 1, "in_time_share": 0.0}
    assert [r[2] for r in w3.gaps(ALL)] == [g.name]  # F has left the key population

    g.investigation, g.result = INVESTIGATION["observation"][0], "不符合救助条件"
    d.send(town, NOV27, [g])
    w4 = d.run(NOV27)
    assert sheet_lines(w4.outdir / settings.OVERDUE_NAME, SUMMARY)[1:] == ["本期无超期未办理事项。"]
    assert sheet_names(w4.outdir / settings.OVERDUE_NAME) == [SUMMARY]
    assert w4.report["roster"] == {"total": 2, "new_assisted": 1, "observation": 0, "closed": 1,
                                   "pending": 0, "overdue": 0}
    assert township_figures(w4, town, *counts) == {"overdue": 0, "still_overdue": 0, "in_time_share": 0.0}
    assert w4.gaps(ALL) == []


# --- 4. a township that misses a week ----------------------------------------------------------


def test_missing_townships_follow_the_seven_days_before_each_run(tmp_path: Path):
    """城西街道 sends its form on 6 Nov, a zero report on 13 Nov, nothing for the run of
    20 Nov and its form again on 27 Nov. 城东街道 sends its form on 13 Nov and a late one
    for an extra run on Monday 23 Nov, which still covers the week ending 27 Nov. 石会镇
    sends only a damaged file on 6 Nov: that is not the weekly form, it is still missing."""
    d = District(tmp_path)
    west, east = people("城西街道", 1, seed=14), people("城东街道", 2, seed=14)

    def missing_all_but(*sent: str) -> list[str]:
        return [t for t in ALL_TOWNSHIPS if t not in sent]

    d.send("城西街道", NOV6, west)
    (d.inbox / "石会镇1106.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    w1 = run(d.inbox, d.outbox, d.store, NOV6).report
    assert {f["file"]: f["status"] for f in w1["files"]} == {"城西街道1106.xlsx": "accepted",
                                                            "石会镇1106.xlsx": "rejected"}
    assert w1["missing_townships"] == missing_all_but("城西街道")

    d.send_zero("城西街道", NOV13)
    d.send("城东街道", NOV13, east[:1])
    w2 = d.run(NOV13).report
    assert {f["file"]: f["status"] for f in w2["files"]} == {"城西街道1113零报告.xlsx": "empty",
                                                            "城东街道1113.xlsx": "accepted"}
    assert w2["missing_townships"] == missing_all_but("城西街道", "城东街道")

    assert d.run(NOV20).report["missing_townships"] == ALL_TOWNSHIPS  # 14–20 Nov: nobody

    d.send("城东街道", date(2026, 11, 23), east[1:])
    assert d.run(date(2026, 11, 23)).report["missing_townships"] == missing_all_but("城东街道")

    d.send("城西街道", NOV27, west)
    assert d.run(NOV27).report["missing_townships"] == missing_all_but("城西街道", "城东街道")  # 21–27 Nov


def test_the_same_blank_form_every_week_is_a_zero_report_each_week(tmp_path: Path):
    """A township with nothing new sends the blank form `jiuzhu template --township` gave it
    (docs/design.md §4: a zero report). The template is the same bytes every time; each week it is
    still that week's submission."""
    from pipeline.reports.template import write_template

    d = District(tmp_path)
    blank = write_template(tmp_path / "石会镇明细表.xlsx", township="石会镇")
    for day in (NOV6, NOV13):
        shutil.copy(blank, d.inbox / f"石会镇{day:%m%d}.xlsx")
        week = d.run(day)
        assert "石会镇" not in week.report["missing_townships"], day
        assert week.townships["石会镇"]["total"] == 0
    assert [f["status"] for f in week.report["files"]] == ["duplicate"]  # changes nothing, but is the week's report


def test_the_same_blank_template_from_three_townships_is_each_ones_zero_report(tmp_path: Path):
    """The blank template without a township, sent by three townships under their own names:
    byte for byte the same file, but each its township's own zero report, not a copy sent again."""
    from pipeline.reports.template import write_template

    d = District(tmp_path)
    blank = write_template(tmp_path / "明细表.xlsx")
    sent = ["水田乡", "白土乡", "金洞乡"]
    for town in sent:
        shutil.copy(blank, d.inbox / f"{town}零报告1127.xlsx")
    week = d.run(NOV27).report
    assert {f["file"]: (f["township"], f["status"]) for f in week["files"]} == {
        "水田乡零报告1127.xlsx": ("水田乡", "empty"), "白土乡零报告1127.xlsx": ("白土乡", "empty"),
        "金洞乡零报告1127.xlsx": ("金洞乡", "empty")}
    assert not set(sent) & set(week["missing_townships"])
    shutil.copy(blank, d.inbox / "新华乡零报告1204.xlsx")  # next week, the same bytes known from the store
    again = d.run(DEC4).report
    assert "新华乡" not in again["missing_townships"]
    assert [(f["township"], f["status"]) for f in again["files"]] == [("新华乡", "empty")]


# --- 5. joiners mid-month and the month boundary ----------------------------------------------


def test_joiners_are_due_from_their_first_full_month(tmp_path: Path):
    """太极镇, never visiting anyone but J. H is found on 15 Nov and I on 1 Nov (both 待办理),
    J on 16 Nov and seen on 18 Nov. K, found on 10 Oct, is first closed (不符合) and on
    27 Nov changed to 救助观察: K joins the key population on that run's date. In November
    only I is due (November is I's first full month): H, J and K are not gaps, although J's
    visit counts as seen this month. On 4 December all four are due and none was seen."""
    d = District(tmp_path)
    town = "太极镇"
    h, i, j, k = people(town, 4, seed=15)
    found(h, date(2026, 11, 15))
    found(i, date(2026, 11, 1))
    found(j, date(2026, 11, 16))
    found(k, date(2026, 10, 10))
    k.investigation, k.result = INVESTIGATION["observation"][1], "不符合救助条件"
    village = h.village
    nov1, nov15, nov16, nov18, nov27 = (date(2026, 11, 1), date(2026, 11, 15), date(2026, 11, 16),
                                        date(2026, 11, 18), date(2026, 11, 27))

    d.send(town, NOV20, [h, i, j, k], [visit(j, nov18)])
    w1 = d.run(NOV20)
    assert w1.gaps(ALL) == [(town, village, i.name, PENDING, nov1, NEVER, 19, "是", "否"),
                            (town, village, h.name, PENDING, nov15, NEVER, 5, "否", "否"),
                            (town, village, j.name, PENDING, nov16, nov18, 2, "否", "是")]
    assert w1.gaps() == [(town, village, i.name, PENDING, nov1, NEVER, 19, "否")]
    assert w1.report["visits"] == {"key_population": 3, "seen_this_month": 1, "gaps": 1}
    assert w1.report["roster"]["closed"] == 1

    observe(k)
    d.send(town, NOV27, [k])
    w2 = d.run(NOV27)
    assert w2.gaps(ALL) == [(town, village, i.name, PENDING, nov1, NEVER, 26, "是", "否"),
                            (town, village, h.name, PENDING, nov15, NEVER, 12, "否", "否"),
                            (town, village, k.name, OBSERVATION, nov27, NEVER, 0, "否", "否"),
                            (town, village, j.name, PENDING, nov16, nov18, 9, "否", "是")]
    assert w2.gaps() == [(town, village, i.name, PENDING, nov1, NEVER, 26, "否")]
    assert w2.report["visits"] == {"key_population": 4, "seen_this_month": 1, "gaps": 1}

    w3 = d.run(DEC4)
    assert w3.gaps() == [(town, village, i.name, PENDING, nov1, NEVER, 33, "否"),
                         (town, village, h.name, PENDING, nov15, NEVER, 19, "否"),
                         (town, village, k.name, OBSERVATION, nov27, NEVER, 7, "否"),
                         (town, village, j.name, PENDING, nov16, nov18, 16, "否")]
    assert w3.report["visits"] == {"key_population": 4, "seen_this_month": 0, "gaps": 4}
    assert township_figures(w3, town, "key_population", "gaps", "visit_coverage") == \
        {"key_population": 4, "gaps": 4, "visit_coverage": 0.0}


def test_a_file_filled_in_earlier_that_arrives_late_is_only_history(tmp_path: Path):
    # 城西 decides a case in the file of 13 Nov; the file of 30 Oct, lost in the mail, comes a
    # week later with the case still 待审批. The older file must not undo the decision (docs/design.md §3:
    # a *later* submission updates the record) but is kept as that person's history.
    district = District(tmp_path)
    town = ALL_TOWNSHIPS[0]
    before, after = people(town, 1, seed=5)[0], people(town, 1, seed=5)[0]
    after.investigation, after.result = INVESTIGATION["observation"][0], "纳入城乡低保，2026年11月12日"
    before.result = "待审批"
    district.send(town, NOV13, [after])
    district.run(NOV13)
    late = district.send(town, date(2026, 10, 30), [before])
    week = district.run(NOV20)
    assert week.report["roster"]["new_assisted"] == 1 and week.report["roster"]["pending"] == 0
    files = {f["file"]: f for f in week.report["files"]}
    assert files[late.name]["status"] == "accepted"
    db = sqlite3.connect(district.store)
    assert db.execute("SELECT count(*) FROM versions").fetchone()[0] == 2
    assert db.execute("SELECT status, result_date FROM persons").fetchall() == [("new_assisted", "2026-11-12")]
    db.close()


@pytest.mark.parametrize("order", ["in order", "the decision late"])
def test_the_same_files_give_the_same_roster_whatever_order_they_come_in(tmp_path: Path, order: str):
    # 石会 sends three files about one case: pending (12 Nov), decided (16 Nov), and a copy of
    # the first with 办理结果 still empty (19 Nov). The decision must hold either way: an empty
    # 办理结果 never undoes a decision, so it must not keep a late one out either.
    district = District(tmp_path)
    town = ALL_TOWNSHIPS[0]
    pending, decided, copy = (people(town, 1, seed=12)[0] for _ in range(3))
    decided.investigation, decided.result = INVESTIGATION["observation"][0], "纳入城乡低保，2026年11月15日"
    decided.remark = "已发放首月低保金"
    files = [(date(2026, 11, 12), pending), (date(2026, 11, 16), decided), (date(2026, 11, 19), copy)]
    if order == "the decision late":
        files = [files[0], files[2], files[1]]
    for week, (day, row) in zip((NOV13, NOV20, date(2026, 11, 27)), files):
        district.send(town, day, [row])
        result = run(district.inbox, district.outbox, district.store, week)
    assert result.report["roster"]["new_assisted"] == 1 and result.report["roster"]["pending"] == 0
    db = sqlite3.connect(district.store)
    status, result_date, data = db.execute("SELECT status, result_date, data FROM persons").fetchone()
    db.close()
    assert (status, result_date) == ("new_assisted", "2026-11-15")
    assert json.loads(data)["remark"] == "已发放首月低保金"
    if order == "the decision late":
        assert any("只补上了其中 1 人较新记录中空着的内容" in w for w in result.warnings)


@pytest.mark.parametrize("day", ["2026-11-31", "2026-02-29", "2026-13-01"])
def test_a_day_that_does_not_exist_is_sent_back_and_the_run_goes_on(tmp_path: Path, day: str):
    # Typed with dashes, 2026-11-31 has the form of a date; it passed and then stopped the run.
    district = District(tmp_path)
    town = ALL_TOWNSHIPS[0]
    wrong, right = people(town, 2, seed=3)
    wrong.discovered = day
    district.send(town, NOV20, [wrong, right], visits=[dict(visit(right, NOV13), visit_date=day)])
    result = run(district.inbox, district.outbox, district.store, date(2026, 11, 27))
    errors = [(e.sheet, e.code, e.value) for e in result.files[0].errors]
    assert ("Sheet1", "invalid_date", day) in errors and ("走访记录", "invalid_date", day) in errors
    assert "不是有效日期" in result.files[0].errors[0].message
    assert result.report["roster"]["total"] == 1 and result.files[0].status == "partial"


def test_a_filled_date_in_the_future_is_not_trusted_and_the_late_file_is_told(tmp_path: Path):
    # 填报日期 typed as 2027-11-06 for 2026-11-06: the file of 13 Nov, which decides the case,
    # must still update the record (it is the later one), and the operator is told.
    district = District(tmp_path)
    town = ALL_TOWNSHIPS[0]
    first, later = (found(people(town, 1, seed=9)[0], date(2026, 10, 20)) for _ in range(2))
    later.investigation, later.result = INVESTIGATION["observation"][0], "纳入城乡低保，2026年11月12日"
    synth.write_submission(district.inbox / f"{town}1106.xlsx", [first], township=town,
                           filled_date=date(2027, 11, 6))
    result = run(district.inbox, district.outbox, district.store, NOV6)
    assert any("填报日期 2027-11-06 晚于 2026-11-06（本次检查或汇总的日期）" in n for n in result.files[0].notes)
    district.send(town, NOV13, [later])
    assert district.run(NOV13).report["roster"]["new_assisted"] == 1

    late = district.send(town, date(2026, 10, 30), [first])  # filled in before the decision, sent late
    result = run(district.inbox, district.outbox, district.store, NOV20)
    assert result.report["roster"]["new_assisted"] == 1
    assert [w for w in result.warnings if w.startswith(late.name)] == [
        f"{late.name}：本文件填报日期为 2026-10-30，其中 1 人在库中已有更晚填报的记录：这些行只作为历史保存，没有覆盖较新的信息。"]


def test_a_later_row_without_the_remark_keeps_the_observation_the_record_shows(tmp_path: Path):
    # 不符合救助条件 with 备注 因病致贫… is 救助观察群众 (docs/design.md §3). The next week's row repeats the
    # result and leaves 备注 blank: the record keeps the remark, so the person stays observed.
    district = District(tmp_path)
    town = ALL_TOWNSHIPS[0]
    person = found(people(town, 1, seed=12)[0], date(2026, 11, 2))
    person.investigation, person.result = "已入户核实", "不符合救助条件"
    person.remark = "因病致贫，家庭仍有实际困难"
    district.send(town, NOV13, [person])
    assert district.run(NOV13).report["roster"]["observation"] == 1
    person.remark = None
    district.send(town, NOV20, [person])
    week = district.run(NOV20)
    assert week.report["roster"]["observation"] == 1 and week.report["roster"]["closed"] == 0
    assert week.report["visits"]["key_population"] == 1


def test_a_corrected_file_for_the_same_day_supersedes_the_earlier_rows(tmp_path: Path):
    # The file of 13 Nov had a result in the wrong row, a hardship remark typed by mistake and
    # 发现日期 2026-09-01 for 2026-11-01. The corrected file (same 填报日期) comes a week later.
    district = District(tmp_path)
    town = ALL_TOWNSHIPS[0]

    def rows(fixed: bool) -> list[synth.Person]:
        wrong_day, no_result, no_remark = people(town, 3, seed=7)
        found(wrong_day, date(2026, 11, 1) if fixed else date(2026, 9, 1))
        found(no_result, date(2026, 11, 2))
        found(no_remark, date(2026, 11, 2))
        no_result.investigation, no_result.result = "已入户核实", None if fixed else "纳入临时救助，2026年11月10日"
        no_remark.investigation, no_remark.result = "已入户核实", "不符合救助条件"
        no_remark.remark = None if fixed else "因病支出大，生活困难"
        return [wrong_day, no_result, no_remark]

    district.send(town, NOV13, rows(False))
    week = district.run(NOV13)
    assert week.report["roster"] == {"total": 3, "new_assisted": 1, "observation": 1, "closed": 0, "pending": 1,
                                     "overdue": 1}
    synth.write_submission(district.inbox / f"{town}1113更正.xlsx", rows(True), township=town, filled_date=NOV13)
    week = district.run(NOV20)
    assert week.report["roster"] == {"total": 3, "new_assisted": 0, "observation": 0, "closed": 1, "pending": 2,
                                     "overdue": 0}
    db = sqlite3.connect(district.store)
    assert db.execute("SELECT min(discovered) FROM persons").fetchone() == ("2026-11-01",)
    assert db.execute("SELECT count(*) FROM versions").fetchone() == (6,)  # both files kept as history
    # the decision taken back never held: pending, so in the key population, since discovery
    assert db.execute("SELECT key_since FROM persons WHERE name = ?", (rows(True)[1].name,)).fetchone() == \
        ("2026-11-02",)
    db.close()


def test_a_later_discovery_date_in_a_later_week_is_told_not_taken(tmp_path: Path):
    # 发现日期 typed 2026-09-01 on 13 Nov, 2026-11-01 in the next week's file: the earlier date
    # keeps the time limit running (a later one must not reset it), and the operator is told.
    district = District(tmp_path)
    town = ALL_TOWNSHIPS[0]
    district.send(town, NOV13, [found(people(town, 1, seed=7)[0], date(2026, 9, 1))])
    district.run(NOV13)
    person = found(people(town, 1, seed=7)[0], date(2026, 11, 1))
    district.send(town, date(2026, 11, 20), [person])
    result = run(district.inbox, district.outbox, district.store, NOV20)
    assert result.report["roster"]["overdue"] == 1
    assert any("第4行 1 人的发现日期比之前报送的晚，仍按之前的发现日期计算" in w for w in result.warnings)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_without_a_filled_date_the_file_name_dates_the_file_and_its_correction(tmp_path: Path, suffix: str):
    # A CSV never has a 填报日期 row, and some workbooks lose it: 金溪1127 and 金溪1127修改,
    # both dated 27 Nov by their names, are a file and its corrected re-send.
    district = District(tmp_path)
    town = "金溪镇"

    def row(result: str | None) -> synth.Person:
        person = found(people(town, 1, seed=21)[0], date(2026, 11, 2))
        person.investigation, person.result = "已入户核实", result
        return person

    synth.write_submission(district.inbox / f"金溪1127{suffix}", [row("纳入城乡低保，2026年11月20日")], township=town,
                           preamble=False)
    synth.write_submission(district.inbox / f"金溪1127修改{suffix}", [row(None)], township=town, preamble=False)
    week = district.run(NOV27)
    assert week.report["roster"]["new_assisted"] == 0 and week.report["roster"]["pending"] == 1
    db = sqlite3.connect(district.store)
    assert db.execute("SELECT DISTINCT filled_date FROM submissions").fetchall() == [("2026-11-27",)]
    db.close()


def test_a_corrected_file_named_unlike_the_original_is_still_merged_after_it(tmp_path: Path):
    # Both in one inbox, same 填报日期: 城西1127修改 sorts before 附件：城西街道… by name, but it
    # is the correction and must win.
    district = District(tmp_path)
    town = "城西街道"

    def row(result: str) -> synth.Person:
        person = found(people(town, 1, seed=23)[0], date(2026, 11, 2))
        person.investigation, person.result = "已入户核实", result
        return person

    synth.write_submission(district.inbox / "附件：城西街道救助对象明细表20261127.xlsx", [row("不符合救助条件")],
                           township=town, filled_date=NOV27)
    synth.write_submission(district.inbox / "城西1127修改.xlsx", [row("纳入城乡低保，2026年11月20日")],
                           township=town, filled_date=NOV27)
    week = district.run(NOV27)
    assert (week.report["roster"]["new_assisted"], week.report["roster"]["closed"]) == (1, 0)


def test_a_row_sent_back_then_corrected_was_discovered_when_first_seen(tmp_path: Path):
    # docs/design.md §3: without 发现日期 a person is discovered on the run that first saw them, here the run
    # of 6 Nov that sent the row back for its 疑似符合救助.
    district = District(tmp_path)
    town = ALL_TOWNSHIPS[0]
    person = people(town, 1, seed=8)[0]
    person.discovered, person.suspected = None, "救济粮"
    district.send(town, NOV6, [person])
    week = run(district.inbox, district.outbox, district.store, NOV6)
    assert [f["status"] for f in week.report["files"]] == ["rejected"]
    person.suspected = "城乡低保"
    synth.write_submission(district.inbox / f"{town}1106修改.xlsx", [person], township=town, filled_date=NOV6)
    district.run(NOV13)
    db = sqlite3.connect(district.store)
    assert db.execute("SELECT discovered, first_seen FROM persons").fetchall() == [("2026-11-06", "2026-11-13")]
    db.close()


def test_a_run_again_before_the_reminder_is_due_does_not_call_it_unanswered(tmp_path: Path):
    # Reminded on Mon 23 Nov (answer within five working days: by 30 Nov); a late attachment
    # makes the bureau run again on Wed 25 Nov: not yet 提醒后仍未办理, and the list says when.
    d = District(tmp_path)
    town = ALL_TOWNSHIPS[0]
    case = found(people(town, 1, seed=21)[0], date(2026, 9, 1))
    d.send(town, date(2026, 11, 20), [case])
    first = d.run(date(2026, 11, 23))
    assert first.overdue()[0][-1] == "待发出"
    d.letters_sent(date(2026, 11, 23))
    d.send_zero(ALL_TOWNSHIPS[1], date(2026, 11, 25))
    again = d.run(date(2026, 11, 25))
    assert again.overdue()[0][-1] == "2026-11-23 已提醒，期限 2026-11-30"
    assert again.report["roster"]["overdue"] == 1 and again.townships[town]["still_overdue"] == 0
    on_the_day = d.run(date(2026, 11, 30))  # the letter asks 于2026年11月30日前: the 30th is still in time
    assert on_the_day.overdue()[0][-1] == "2026-11-23 已提醒，期限 2026-11-30"
    due = d.run(date(2026, 12, 1))
    assert due.overdue()[0][-1] == "提醒后仍未办理（2026-11-23 已提醒）"


def test_a_letter_never_sent_never_makes_a_case_unanswered(tmp_path: Path):
    # The runs of 23 Nov and 1 Dec draft a 催办通知 that nobody sends: the case stays 超期, 待发出,
    # and is not 提醒后仍未办理 however late; once the letter of 1 Dec is recorded as sent, the
    # deadline counts from that day (answer by 8 Dec), and the 9th calls it unanswered.
    d = District(tmp_path)
    town = ALL_TOWNSHIPS[0]
    case = found(people(town, 1, seed=22)[0], date(2026, 9, 1))
    d.send(town, date(2026, 11, 20), [case])
    for day in (date(2026, 11, 23), date(2026, 12, 1)):
        week = d.run(day)
        assert week.overdue()[0][-1] == "待发出"
        assert week.townships[town]["still_overdue"] == 0
    d.letters_sent(date(2026, 12, 1))
    assert d.run(date(2026, 12, 8)).overdue()[0][-1] == "2026-12-01 已提醒，期限 2026-12-08"
    late = d.run(date(2026, 12, 9))
    assert late.overdue()[0][-1] == "提醒后仍未办理（2026-12-01 已提醒）"
    assert late.townships[town]["still_overdue"] == 1


def test_a_decision_without_a_date_is_timely_from_its_own_week_however_often_it_is_sent_again(tmp_path: Path):
    """石会镇 finds three people on 15 Oct and reports them decided on 6 Nov, 16 working days
    on (a 转介, a 不符合 and an observation case: none of them writes a date). It sends the same
    rows every week: they stay 按期办结, and the 转介 counts as newly assisted in its own week only."""
    d = District(tmp_path)
    town = "石会镇"
    a, b, c = (found(p, date(2026, 10, 15)) for p in people(town, 3, seed=21))
    a.investigation, a.result = INVESTIGATION["new_assisted"][0], "转介区医保局医疗救助"
    b.investigation, b.result = INVESTIGATION["closed"][0], "不符合救助条件"
    observe(c)
    for day, newly in ((NOV6, 1), (NOV13, 0), (NOV20, 0), (NOV27, 0)):
        d.send(town, day, [a, b, c])
        week = d.run(day)
        assert township_figures(week, town, "in_time_share") == {"in_time_share": 1.0}
        assert f"其中本周纳入 {newly} 人" in (week.outdir / settings.SUMMARY_NAME).read_text(encoding="utf-8")
    with sqlite3.connect(d.store) as db:
        decided = dict(db.execute("SELECT name, decided_on FROM persons"))
    assert decided == dict.fromkeys([a.name, b.name, c.name], "2026-11-06")


def test_a_township_sending_another_townships_people_has_reported(tmp_path: Path):
    """舟白街道 sends the two people of 冯家街道 it found: the rows are 冯家's, and 舟白 has
    reported this week (its 填报单位 and its file name say so); 冯家 has sent nothing."""
    d = District(tmp_path)
    rows = people("冯家街道", 2, seed=31)
    synth.write_submission(d.inbox / "舟白1127.xlsx", rows, township="舟白街道", filled_date=NOV27)
    week = d.run(NOV27)
    [file] = week.report["files"]
    assert (file["township"], file["status"]) == ("冯家街道", "accepted")
    assert "舟白街道" not in week.report["missing_townships"]
    assert "冯家街道" in week.report["missing_townships"]
    assert week.townships["冯家街道"]["total"] == 2


def test_a_corrected_file_that_mends_an_id_number_keeps_one_person_and_their_visits(tmp_path: Path):
    """城西's file of 13 Nov gives 刘某 an ID number with two digits swapped (still a valid number);
    the corrected file of the same 填报日期 gives the right one: one person, the corrected number,
    the visit of 13 Nov still theirs; the other person, whose number did not change, is untouched."""
    from pipeline.rules.idcard import check_char

    district = District(tmp_path)
    town = "城西街道"
    wrong, other = (found(p, date(2026, 11, 2)) for p in people(town, 2, seed=41))
    right = wrong.id_number
    body = right[:-1]
    swapped = next(b + check_char(b) for b in (body[:14] + body[15] + body[14] + body[16:],
                                               body[:13] + body[14] + body[13] + body[15:]) if b != body)
    wrong.id_number = swapped
    district.send(town, NOV13, [wrong, other], visits=[visit(wrong, NOV13)])
    district.run(NOV13)
    wrong.id_number = right
    synth.write_submission(district.inbox / f"{town}1113修改.xlsx", [wrong, other], township=town,
                           filled_date=NOV13)
    result = run(district.inbox, district.outbox, district.store, NOV20)
    assert result.report["roster"]["total"] == 2
    db = sqlite3.connect(district.store)
    assert db.execute("SELECT id_number FROM persons WHERE name = ?", (wrong.name,)).fetchall() == [(right,)]
    assert db.execute("SELECT count(*) FROM visits v JOIN persons p ON p.key = v.person_key WHERE p.name = ?",
                      (wrong.name,)).fetchone() == (1,)
    db.close()
    assert any("第4行 1 人的身份证号码与所改正的原文件不同，已按改正后的号码更新同一人的记录" in n
               for f in result.files for n in f.notes)


def test_a_feedback_workbook_sent_back_with_its_duplicate_row_takes_no_decision_back(tmp_path: Path):
    """城西's file of 27 Nov has 李某 twice: row 4 纳入城乡低保 (accepted), row 5 an old copy with no
    result (sent back as duplicate_row), and 王某 without 发现人. The clerk fixes 王某 in the
    退回意见 workbook, leaves the copy as it is and sends the workbook back under its own name (the
    same date): 王某 is accepted, 李某 stays 新增救助群众."""
    import openpyxl

    from pipeline.reports import feedback

    d = District(tmp_path)
    town = "城西街道"
    li, wang = (found(p, date(2026, 11, 2)) for p in people(town, 2, seed=51))
    li.investigation, li.result = INVESTIGATION["new_assisted"][0], "纳入城乡低保，2026年11月20日"
    copy = synth.Person(**{**li.__dict__, "investigation": None, "result": None})
    wang.finder = None
    synth.write_submission(d.inbox / f"{town}1127.xlsx", [li, copy, wang], township=town, filled_date=NOV27)
    first = run(d.inbox, d.outbox, d.store, NOV27)
    [report] = first.report["files"]
    assert (report["status"], report["accepted"], report["rejected"]) == ("partial", 1, 2)
    book = openpyxl.load_workbook(first.outdir / report["feedback"])
    rows = book[feedback.ROWS_SHEET]
    header = [c.value for c in rows[2]]
    for cells in rows.iter_rows(min_row=3):
        if cells[header.index("对象姓名")].value == wang.name:
            cells[header.index("发现人")].value = "村社会救助协理员"
    book.save(d.inbox / Path(report["feedback"]).name)
    again = run(d.inbox, d.outbox, d.store, DEC4)
    [back] = again.report["files"]
    assert (back["status"], back["accepted"]) == ("accepted", 2)
    with sqlite3.connect(d.store) as db:
        statuses = dict(db.execute("SELECT name, status FROM persons"))
    assert statuses == {li.name: "new_assisted", wang.name: "pending"}


def test_rows_sent_back_are_kept_and_a_corrected_one_was_discovered_when_first_seen(tmp_path: Path):
    """石会镇's file of 20 Nov: 赵某 with a township typed 石会乡镇村 (not one) and no 发现日期, a
    visit with a day that is no date, and a visit to someone not on the roster. All three rows
    are in the store and in 退回意见 (the visits on 需修改的走访记录); the corrected 赵某 of 27 Nov
    was discovered on 20 Nov, when the run first saw the row."""
    import openpyxl

    from pipeline.reports import feedback

    d = District(tmp_path)
    town = "石会镇"
    zhao, qian = people(town, 2, seed=61)
    zhao.discovered = qian.discovered = None
    zhao.township = "石会乡镇村"
    nobody = synth.Person(**{**qian.__dict__, "name": "孙无名", "id_number": None})
    visits = [{**visit(qian, date(2026, 11, 18)), "visit_date": "上周三"}, visit(nobody, date(2026, 11, 18))]
    d.send(town, NOV20, [zhao, qian], visits=visits)
    first = run(d.inbox, d.outbox, d.store, NOV20)
    [report] = first.report["files"]
    with sqlite3.connect(d.store) as db:
        kept = db.execute("SELECT sheet, township, name FROM rejected_rows ORDER BY sheet, row").fetchall()
    assert kept == [("Sheet1", town, zhao.name), ("走访记录", town, qian.name), ("走访记录", town, "孙无名")]
    book = openpyxl.load_workbook(first.outdir / report["feedback"])
    shown = [r[1] for r in book[feedback.VISIT_ROWS_SHEET].iter_rows(min_row=3, values_only=True)]
    assert shown == [qian.name, "孙无名"]

    zhao.township = town
    d.send(town, NOV27, [zhao, qian])
    d.run(NOV27)
    with sqlite3.connect(d.store) as db:
        assert db.execute("SELECT discovered FROM persons WHERE name = ?", (zhao.name,)).fetchone() == ("2026-11-20",)
        assert db.execute("SELECT resolved_by IS NOT NULL FROM rejected_rows WHERE sheet = 'Sheet1'").fetchone() == (1,)


def test_a_visit_that_could_be_either_of_two_namesakes_says_so(tmp_path: Path):
    d = District(tmp_path)
    town = "黑溪镇"
    up, down = people(town, 2, seed=71)
    down.name = up.name
    up.village, down.village = synth.villages(town)[:2]
    ambiguous = {**visit(up, date(2026, 11, 18)), "id_number": None, "village": None}
    d.send(town, NOV20, [up, down], visits=[ambiguous])
    result = run(d.inbox, d.outbox, d.store, NOV20)
    [error] = result.report["files"][0]["errors"]
    villages = "、".join(sorted([up.village, down.village]))
    assert error["message"] == (f"名册中{town}有2个「{up.name}」（{villages}），这条走访记录无法确定是哪一位。"
                                "请补填身份证号码，或填写与明细表一致的村（社区）。")
