"""Scenarios over several weekly runs with moving run dates, asserting the exact rows of
走访缺口.xlsx, 超期催办.xlsx and run-report.json.

The expected values are worked out by hand from the rules (DESIGN §3, the notice 二、三):
a key person (待办理 or 救助观察) must be seen once a calendar month from the first full
month after joining; a visit where the person was not seen does not count and is listed
for a return visit; a pending case older than 30 working days is 超期 and gets a written
reminder, and one still pending at a later run is 提醒后仍未办理; a township that sent
nothing in the 7 days ending on the run date is missing (a zero report counts).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from pipeline import settings, synth, workdays
from pipeline.run import run

SHIHUI, LISHUI, WEST, EAST = "石会镇", "黎水镇", "城西街道", "城东街道"
WEEKS = (date(2026, 11, 6), date(2026, 11, 13), date(2026, 11, 20), date(2026, 12, 4))


class District:
    """One store, one inbox, one outbox; each week writes files, then runs."""

    def __init__(self, root: Path):
        self.inbox, self.outbox, self.store = root / "inbox", root / "outbox", root / "jiuzhu.sqlite3"
        self.inbox.mkdir(parents=True)

    def send(self, township: str, as_of: date, people: list, visits: list[dict] | None = None) -> None:
        synth.write_submission(self.inbox / f"{township}{as_of:%m%d}.xlsx", people, township=township,
                               filled_date=as_of, visits=visits)

    def zero(self, township: str, as_of: date) -> None:
        synth.write_zero_report(self.inbox / f"{township}零报告{as_of:%m%d}.xlsx", township, filled_date=as_of)

    def run(self, as_of: date) -> Path:
        outdir = run(self.inbox, self.outbox, self.store, as_of).outdir
        assert not [f for f in json.loads((outdir / settings.REPORT_NAME).read_text("utf-8"))["files"]
                    if f["errors"]], "the scenario's files are all valid"
        return outdir


def report(outdir: Path) -> dict:
    return json.loads((outdir / settings.REPORT_NAME).read_text(encoding="utf-8"))


def table(path: Path, sheet: str) -> list[tuple]:
    """The data rows of a sheet: those under the header that starts with 序号."""
    book = openpyxl.load_workbook(path, read_only=True)
    rows = list(book[sheet].iter_rows(values_only=True))
    book.close()
    start = next(i for i, r in enumerate(rows) if r[0] == "序号") + 1
    out = []
    for row in rows[start:]:
        if not isinstance(row[0], int):
            break
        out.append(tuple(v.date() if isinstance(v, datetime) else v for v in row[1:]))
    return out


def person(township: str, name: str, village: str, outcome: str, discovered: date, seed: int):
    p = synth.make_people(township, 1, seed=seed, as_of=discovered, mix={outcome: 1.0})[0]
    p.name, p.village, p.discovered = name, village, discovered
    return p


def visit(p, day: date, seen: bool) -> dict:
    return {"name": p.name, "id_number": p.id_number, "township": p.township, "village": p.village,
            "visit_date": day, "visitor": "村协理员", "seen": "是" if seen else "否", "notes": None}


@pytest.fixture(scope="module")
def weeks(tmp_path_factory) -> dict[date, Path]:
    """石会镇 visits in weeks 1–2 and then stops; 黎水镇 has a case that goes overdue;
    城西街道 misses week 2; 城东街道 sends only a zero report in week 2."""
    d = District(tmp_path_factory.mktemp("weeks"))
    p1 = person(SHIHUI, "甲一", "中元村", "pending", date(2026, 10, 12), 1)
    p2 = person(SHIHUI, "乙二", "中元村", "observation", date(2026, 10, 20), 2)
    p4 = person(SHIHUI, "丁四", "关后村", "pending", date(2026, 10, 5), 4)
    p3 = person(SHIHUI, "丙三", "关后村", "pending", date(2026, 11, 16), 3)  # joins mid-November
    q = person(LISHUI, "戊五", "黎水村", "pending", date(2026, 9, 1), 5)
    west = person(WEST, "己六", "三塘社区", "observation", date(2026, 11, 2), 6)
    out = {}

    w1, w2, w3, w4 = WEEKS
    d.send(SHIHUI, w1, [p1, p2, p4], [visit(p1, date(2026, 11, 3), True), visit(p2, date(2026, 11, 4), True),
                                      visit(p4, date(2026, 11, 5), False)])
    d.send(LISHUI, w1, [q])
    d.send(WEST, w1, [west])
    out[w1] = d.run(w1)

    d.send(SHIHUI, w2, [p1, p2, p4], [visit(p1, date(2026, 11, 10), True)])
    d.send(LISHUI, w2, [q])
    d.zero(EAST, w2)
    out[w2] = d.run(w2)

    d.send(SHIHUI, w3, [p1, p2, p4, p3])  # no visits from now on
    q.result, q.investigation = "纳入城乡低保，2026年11月18日", "经入户调查，家庭人均收入低于低保标准"
    d.send(LISHUI, w3, [q])
    d.send(WEST, w3, [west])
    out[w3] = d.run(w3)

    out[w4] = d.run(w4)  # nobody sends anything
    return out


def test_november_visits_of_a_township_that_then_stops(weeks):
    """Week 3: 甲一 and 乙二 were seen in November; 丁四 was only ever 不见人 and is a gap;
    丙三 joined on 16 November and is due from December, so not a gap yet."""
    outdir = weeks[WEEKS[2]]
    rows = table(outdir / settings.VISIT_GAPS_NAME, "全部重点人群")
    mine = [r for r in rows if r[0] == SHIHUI]
    assert mine == [
        # village, name, class, joined, last seen, days without, due this month, seen this month
        (SHIHUI, "中元村", "乙二", "救助观察群众", date(2026, 10, 20), date(2026, 11, 4), 16, "是", "是"),
        (SHIHUI, "中元村", "甲一", "待办理", date(2026, 10, 12), date(2026, 11, 10), 10, "是", "是"),
        (SHIHUI, "关后村", "丁四", "待办理", date(2026, 10, 5), "从未见面", 46, "是", "否"),
        (SHIHUI, "关后村", "丙三", "待办理", date(2026, 11, 16), "从未见面", 4, "否", "否"),
    ]
    gaps = [r for r in table(outdir / settings.VISIT_GAPS_NAME, "走访缺口") if r[0] == SHIHUI]
    assert gaps == [(SHIHUI, "关后村", "丁四", "待办理", date(2026, 10, 5), "从未见面", 46, "否")]
    again = [r for r in table(outdir / settings.VISIT_GAPS_NAME, "需再次走访") if r[0] == SHIHUI]
    assert again == [(SHIHUI, "关后村", "丁四", "2026-11-05", 1)]


def test_december_everyone_is_due_and_nobody_was_seen(weeks):
    """Week 4 (4 December): no visit since; 丙三 is due from his first full month."""
    outdir = weeks[WEEKS[3]]
    gaps = [r for r in table(outdir / settings.VISIT_GAPS_NAME, "走访缺口") if r[0] == SHIHUI]
    assert gaps == [
        (SHIHUI, "中元村", "乙二", "救助观察群众", date(2026, 10, 20), date(2026, 11, 4), 30, "否"),
        (SHIHUI, "中元村", "甲一", "待办理", date(2026, 10, 12), date(2026, 11, 10), 24, "否"),
        (SHIHUI, "关后村", "丁四", "待办理", date(2026, 10, 5), "从未见面", 60, "否"),
        (SHIHUI, "关后村", "丙三", "待办理", date(2026, 11, 16), "从未见面", 18, "否"),
    ]


@pytest.mark.parametrize("week, key_population, seen, gaps", [
    # 石会镇 甲一 乙二 丁四 (+丙三 from week 3); 黎水镇 戊五 until decided in week 3; 城西街道 己六.
    # 戊五 and 己六 are never visited; 己六 joined on 2 November, so is not due in November.
    (0, 5, 2, 2),   # seen: 甲一, 乙二; gaps: 丁四, 戊五
    (1, 5, 2, 2),
    (2, 5, 2, 1),   # 戊五 decided (新增救助): out of the key population; 丙三 in, not due
    (3, 5, 0, 5),   # December: all five due, none seen
])
def test_visit_figures_in_run_report(weeks, week, key_population, seen, gaps):
    assert report(weeks[WEEKS[week]])["visits"] == {"key_population": key_population, "seen_this_month": seen,
                                                    "gaps": gaps}


def test_overdue_then_reminded_then_still_pending_then_decided(weeks):
    w1, w2, w3, _ = WEEKS
    first = table(weeks[w1] / settings.OVERDUE_NAME, "汇总")
    age1 = workdays.workdays_between(date(2026, 9, 1), w1)
    assert age1 > 30
    assert [r for r in first if r[0] == LISHUI] == [(LISHUI, "黎水村", "戊五", date(2026, 9, 1), age1, "首次提醒")]
    letter = table(weeks[w1] / settings.OVERDUE_NAME, LISHUI)
    assert letter == [("戊五", "黎水村", date(2026, 9, 1), age1, letter[0][4], "超期")]

    second = table(weeks[w2] / settings.OVERDUE_NAME, "汇总")
    age2 = workdays.workdays_between(date(2026, 9, 1), w2)
    assert [r for r in second if r[0] == LISHUI] == [
        (LISHUI, "黎水村", "戊五", date(2026, 9, 1), age2, "提醒后仍未办理（上次提醒 2026-11-06）")]
    assert table(weeks[w2] / settings.OVERDUE_NAME, LISHUI)[0][5] == "提醒后仍未办理"
    assert report(weeks[w2])["townships"][LISHUI]["still_overdue"] == 1

    third = table(weeks[w3] / settings.OVERDUE_NAME, "汇总")
    assert [r for r in third if r[0] == LISHUI] == []
    book = openpyxl.load_workbook(weeks[w3] / settings.OVERDUE_NAME, read_only=True)
    assert LISHUI not in book.sheetnames
    book.close()
    ledger = table(weeks[w3] / settings.LEDGER_NAME, "新增救助群众")
    assert any("戊五" in r for r in ledger)
    assert report(weeks[w3])["townships"][LISHUI]["overdue"] == 0


@pytest.mark.parametrize("week, west_missing, east_missing", [
    (0, False, True), (1, True, False), (2, False, True), (3, True, True)])
def test_missing_townships_week_by_week(weeks, week, west_missing, east_missing):
    """城西街道 skips week 2; 城东街道's only submission is a zero report in week 2."""
    missing = report(weeks[WEEKS[week]])["missing_townships"]
    assert (WEST in missing, EAST in missing) == (west_missing, east_missing)
    assert (SHIHUI in missing) == (week == 3) and (LISHUI in missing) == (week == 3)
