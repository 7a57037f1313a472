"""汇总报告.html from two real weekly runs, checked in headless Chromium with the network blocked.

The district is synthetic (pipeline.demo.synth): two weeks, 30 townships, a few townships late,
a few files with errors, and hostile text where a submission can carry it (a village
and a file name). A name the validator would never accept is planted in a copy of the
store, to prove that the page escapes whatever the store holds.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import struct
import time
from dataclasses import dataclass
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline import settings
from pipeline.cli import main
from pipeline.demo import synth
from pipeline.errors import JiuzhuError
from pipeline.rebuild import rebuild
from pipeline.reports import pdf as pdf_printing
from pipeline.reports import summary
from pipeline.roster import cases, store
from pipeline.rules import spec, townships
from pipeline.run import run
from tests.browser import CHROMIUM, Chromium, dump_dom, pdf_pages, print_pdf, require, screenshot

AS_OF = date(2026, 11, 28)
WEEK_BEFORE = AS_OF - timedelta(days=7)
HOSTILE = "<script>alert(1)</script>"
HOSTILE_FILE = "新华乡<img src=x onerror=alert(2)>.xlsx"
TITLE = f"{townships.district_name()}民政局社会救助主动发现工作周报（2026年11月28日）"

@dataclass
class District:
    root: Path
    outbox: Path
    store: Path
    html: Path
    report: dict


@pytest.fixture(scope="module")
def district(tmp_path_factory) -> District:
    root = tmp_path_factory.mktemp("district")
    inbox, outbox, store_path = root / "inbox", root / "outbox", root / "jiuzhu.sqlite3"
    names = [t.name for t in townships.listed()]
    synth.make_district(inbox, rows_per_township=6, seed=1, as_of=WEEK_BEFORE, townships=names[2:])
    run(inbox, outbox, store_path, WEEK_BEFORE)
    sending = [n for n in names[:-1] if n not in names[3:6]]
    synth.make_district(inbox, rows_per_township=10, seed=2, as_of=AS_OF, townships=sending,
                        errors={sending[1]: {"invalid_id": 1, "required": 1}, sending[7]: {"invalid_value": 2}})
    people = synth.make_people(names[-1], 6, seed=3, as_of=AS_OF - timedelta(days=40), mix={"pending": 1.0})
    people[0]["village"] = HOSTILE
    synth.write_submission(inbox / HOSTILE_FILE, people, township=names[-1], filled_date=AS_OF)
    result = run(inbox, outbox, store_path, AS_OF)
    html = result.outdir / settings.SUMMARY_NAME
    report = result.report  # run-report.json plus the township table the store keeps
    return District(root, outbox, store_path, html, report)


class _Figures(HTMLParser):
    """The text of every element with a data-figure attribute."""

    def __init__(self):
        super().__init__()
        self.figures: dict[str, str] = {}
        self._open: list[str] = []

    def handle_starttag(self, tag, attrs):
        name = dict(attrs).get("data-figure")
        if name:
            self.figures[name] = ""
            self._open.append(name)

    def handle_endtag(self, tag):
        if self._open and tag == "span":
            self._open.pop()

    def handle_data(self, data):
        for name in self._open:
            self.figures[name] += data


def expected_figures(report: dict) -> dict[str, str]:
    """What the page must show, computed from run-report.json alone."""
    out = {f"roster.{k}": str(v) for k, v in report["roster"].items()}
    out.update({f"visits.{k}": str(v) for k, v in report["visits"].items()})
    out["townships.found_week"] = str(sum(t["found_week"] for t in report["townships"].values()))
    out["files.count"] = str(len(report["files"]))
    out["missing_townships.count"] = str(len(report["missing_townships"]))
    return out


def png_size(png: Path) -> tuple[int, int]:
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


# --- in the browser --------------------------------------------------------------------


def test_page_makes_no_request_and_logs_no_error(district: District):
    with Chromium() as browser:
        wide = browser.load(district.html, width=1280)
        narrow = browser.load(district.html, width=390)
    for page in (wide, narrow):
        assert page.requests == [page.url], "the page must not ask for anything but itself"
        assert page.failed == []
        assert page.console_errors == []
        assert page.title == TITLE
        assert page.layout["scripts"] == 0
    assert narrow.layout["scrollWidth"] <= narrow.layout["innerWidth"], narrow.layout["overflowing"]
    assert narrow.layout["overflowing"] == []


def test_the_helper_does_see_requests_and_errors(tmp_path: Path):
    """The observation above is not vacuous: a page that fetches and fails is caught."""
    page = tmp_path / "bad.html"
    page.write_text('<title>t</title><img src="https://cdn.example.com/x.png">'
                    '<script>console.error("boom"); missing()</script>', encoding="utf-8")
    with Chromium() as browser:
        load = browser.load(page)
    assert "https://cdn.example.com/x.png" in load.requests
    assert load.failed and "boom" in load.console_errors
    assert any("missing" in e for e in load.exceptions)


def test_headline_figures_equal_run_report(district: District):
    parser = _Figures()
    parser.feed(dump_dom(district.html))
    assert parser.figures == expected_figures(district.report)
    assert int(parser.figures["roster.total"]) > 200  # the district is really there
    names = [t.name for t in townships.listed()]
    assert district.report["missing_townships"] == names[3:6]


def test_missing_townships_are_listed(district: District):
    dom = dump_dom(district.html)
    block = re.search(r'<div class="missing">(.*?)</div>', dom, re.S).group(1)
    for township in district.report["missing_townships"]:
        assert f"<span>{township}</span>" in block


def test_hostile_text_from_a_submission_is_shown_as_text(district: District):
    dom = dump_dom(district.html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom  # the village, in the lists
    assert "新华乡&lt;img src=x onerror=alert(2)&gt;.xlsx" in dom  # the file name, in the file list
    assert "<script" not in dom and "<img" not in dom
    assert re.search(r"<title>(.*?)</title>", dom).group(1) == TITLE


def _planted(district: District, tmp_path: Path) -> tuple[Path, Path, str]:
    """A copy of the store where one person in the visit-gap list is called <script>alert(1)</script>."""
    copy = tmp_path / "store.sqlite3"
    src = sqlite3.connect(district.store)
    dst = sqlite3.connect(copy)
    src.backup(dst)
    src.close()
    db = store.connect(copy)
    gap_rows = cases.standing(db, AS_OF).gaps
    key = gap_rows[gap_rows["gap"]]["key"].iloc[0]
    db.execute("UPDATE persons SET name = ? WHERE key = ?", (HOSTILE, key))
    db.close()
    dst.close()
    return copy, tmp_path / "outbox", key


def test_a_hostile_name_in_the_store_is_escaped(district: District, tmp_path: Path):
    copy, outbox, _ = _planted(district, tmp_path)
    html, warnings = rebuild(outbox, copy, AS_OF, mask=False)
    assert warnings == []
    text = html.read_text(encoding="utf-8")
    assert '<td class="name">&lt;script&gt;alert(1)&lt;/script&gt;</td>' in text
    with Chromium() as browser:
        page = browser.load(html)
    assert page.title == TITLE and page.layout["scripts"] == 0
    assert page.console_errors == [] and page.requests == [page.url]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.html


def test_names_are_masked_unless_asked(district: District, tmp_path: Path):
    db = store.connect(district.store)
    standing = cases.standing(db, AS_OF)
    classified, gap_rows = standing.people, standing.gaps
    db.close()
    listed = sorted(set(classified[classified["overdue"]]["name"]) | set(gap_rows[gap_rows["gap"]]["name"]))
    assert len(listed) > 10
    masked_page = dump_dom(district.html)
    for name in listed:
        assert f">{name}<" not in masked_page
        assert f">{summary.mask_name(name)}<" in masked_page
    html, _ = rebuild(tmp_path / "outbox", district.store, AS_OF, mask=False)
    plain_page = dump_dom(html)
    for name in listed:
        assert f">{name}<" in plain_page


def test_run_and_report_commands_print_a_pdf_and_unmask_on_request(district: District, tmp_path: Path):
    require(CHROMIUM)
    root = tmp_path / "week"
    inbox = root / "inbox"
    people = synth.make_people("石会镇", 4, seed=8, as_of=AS_OF - timedelta(days=60), mix={"pending": 1.0})
    synth.write_submission(inbox / "石会镇1128.xlsx", people, township="石会镇", filled_date=AS_OF)
    args = ["--outbox", str(root / "outbox"), "--store", str(root / "jiuzhu.sqlite3"), "--as-of", AS_OF.isoformat(),
            "--pdf", "--no-mask"]
    result = CliRunner().invoke(main, ["run", "--inbox", str(inbox), *args])
    assert result.exit_code == 0, result.output
    outdir = root / "outbox" / AS_OF.isoformat()
    assert f"汇总报告 PDF：{outdir / '汇总报告.pdf'}" in result.output
    assert (outdir / "汇总报告.pdf").read_bytes()[:5] == b"%PDF-"
    page = (outdir / settings.SUMMARY_NAME).read_text(encoding="utf-8")
    assert all(f">{p['name']}<" in page for p in people)  # every case is overdue, listed in full
    (outdir / "汇总报告.pdf").unlink()
    result = CliRunner().invoke(main, ["report", *args[:-1]])  # masked again
    assert result.exit_code == 0, result.output
    assert f"PDF：{outdir / '汇总报告.pdf'}" in result.output and (outdir / "汇总报告.pdf").is_file()
    page = (outdir / settings.SUMMARY_NAME).read_text(encoding="utf-8")
    assert not any(f">{p['name']}<" in page for p in people)
    assert all(f">{summary.mask_name(p['name'])}<" in page for p in people)


def test_prints_to_a_sane_number_of_a4_pages(district: District, tmp_path: Path):
    pdf = print_pdf(district.html, tmp_path / "汇总报告.pdf")
    pages = pdf_pages(pdf)
    letters = sum(1 for t in district.report["townships"].values() if t["overdue"])
    assert 2 <= pages <= 14 + 2 * letters  # the report, then per 催办通知 its page and its 附件's
    info = re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", _pdfinfo(pdf))
    assert (round(float(info.group(1))), round(float(info.group(2)))) == (595, 842)  # A4 portrait


def test_each_reminder_letter_prints_on_a_page_of_its_own(district: District, tmp_path: Path):
    import openpyxl
    pdf = print_pdf(district.html, tmp_path / "汇总报告.pdf")
    book = openpyxl.load_workbook(district.html.parent / settings.OVERDUE_NAME, read_only=True)
    texts = [_page_text(pdf, n) for n in range(1, pdf_pages(pdf) + 1)]
    overdue = [name for name, t in district.report["townships"].items() if t["overdue"]]
    assert len(overdue) >= 3
    for name in overdue:
        addressee = f"{name}{spec.letterhead().addressee}"
        pages = [n for n, text in enumerate(texts) if addressee in text]
        assert len(pages) == 1, name
        lines = [line.strip() for line in texts[pages[0]].splitlines() if line.strip()]
        words = spec.letterhead()
        number = f"{words.number_prefix}〔2026〕"
        assert lines[0] == words.organ and lines[1].startswith(number)  # the letter starts the page
        # 发文字号, 署名 and 成文日期 on the letter's one page, as the workbook's letter words them.
        sheet = [str(v).strip("　") for r in book[name].iter_rows(values_only=True) for v in r if isinstance(v, str)]
        assert lines[1] in sheet and re.fullmatch(rf"{re.escape(number)}[1-9]\d*号", lines[1])
        assert {words.signature, "2026年11月28日", f"{addressee}："} <= set(lines) & set(sheet)
        assert f"（联系人：{words.contact}，电话：{words.phone}）" in lines
        assert "".join(lines[2:4]) == words.title
        assert "附件" in texts[pages[0] + 1] and f"{name}超期未办理事项明细表" in texts[pages[0] + 1]
    numbers = [line.strip() for text in texts for line in text.splitlines() if line.strip().startswith(number)]
    assert len(numbers) == len(overdue) == len(set(numbers))  # one number each, none twice
    for text in texts:  # never two townships' letters on one page
        assert sum(f"{name}{spec.letterhead().addressee}" in text for name in overdue) <= 1


def _page_text(pdf: Path, page: int) -> str:
    import subprocess
    return subprocess.run([require("pdftotext"), "-f", str(page), "-l", str(page), "-layout", str(pdf), "-"],
                          capture_output=True, text=True, check=True).stdout


def _pdfinfo(pdf: Path) -> str:
    import subprocess
    return subprocess.run([require("pdfinfo"), str(pdf)], capture_output=True, text=True, check=True).stdout


def test_jiuzhu_prints_its_own_pdf(district: District, tmp_path: Path):
    require(CHROMIUM)
    html = tmp_path / "汇总报告.html"
    shutil.copy(district.html, html)
    assert pdf_printing.print_pdf(html, tmp_path / "汇总报告.pdf") is None
    assert (tmp_path / "汇总报告.pdf").read_bytes()[:5] == b"%PDF-"
    assert not list(tmp_path.glob(".*.tmp"))


def test_screenshots_wide_and_narrow(district: District, tmp_path: Path):
    wide = screenshot(district.html, tmp_path / "wide.png", 1280, 2000)
    narrow = screenshot(district.html, tmp_path / "narrow.png", 390, 2000)
    assert png_size(wide) == (1280, 2000) and png_size(narrow) == (390, 2000)
    assert wide.stat().st_size > 50_000 and narrow.stat().st_size > 30_000
    with Chromium() as browser:
        full = browser.capture(district.html, tmp_path / "full-narrow.png", width=390)
    assert png_size(full)[0] == 390 and png_size(full)[1] > 4000


# --- without a browser ---------------------------------------------------------------------


def test_rebuild_gives_the_run_s_page_byte_for_byte(district: District, tmp_path: Path):
    html, warnings = rebuild(tmp_path / "outbox", district.store, AS_OF)
    assert warnings == []
    assert html == tmp_path / "outbox" / AS_OF.isoformat() / settings.SUMMARY_NAME
    assert html.read_bytes() == district.html.read_bytes()
    again, _ = rebuild(tmp_path / "outbox", district.store, AS_OF)
    assert again.read_bytes() == district.html.read_bytes()


def test_rebuild_a_day_without_a_run_says_whose_files_it_shows(district: District, tmp_path: Path):
    html, _ = rebuild(tmp_path / "outbox", district.store, AS_OF + timedelta(days=2))
    text = html.read_text(encoding="utf-8")
    assert "2026年11月30日没有运行汇总" in text and "本周截至2026年11月28日各次汇总收到的文件" in text


def test_rebuild_refuses_without_a_store_or_a_run(district: District, tmp_path: Path):
    with pytest.raises(JiuzhuError, match="找不到台账数据库"):
        rebuild(tmp_path / "outbox", tmp_path / "nothing.sqlite3", AS_OF)
    assert not (tmp_path / "nothing.sqlite3").exists()
    with pytest.raises(JiuzhuError, match="当天或之前的汇总记录"):
        rebuild(tmp_path / "outbox", district.store, WEEK_BEFORE - timedelta(days=1))
    # the week before: the store now holds this week's files too, which that report never had
    with pytest.raises(JiuzhuError, match="已有 2026-11-28 的汇总，不能再按更早的日期 2026-11-21 生成报告"):
        rebuild(tmp_path / "outbox", district.store, WEEK_BEFORE)
    assert not (tmp_path / "outbox").exists()


def test_trend_has_both_runs(district: District):
    text = district.html.read_text(encoding="utf-8")
    trend = re.search(r'<svg[^>]*id="chart-trend".*?</svg>', text, re.S).group(0)
    assert "2026-11-21：" in trend and "2026-11-28：" in trend
    assert f"累计发现 {district.report['roster']['total']}" in trend


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag, attrs):
        self.links += [(tag, k, v) for k, v in attrs if k in ("src", "href", "xlink:href", "srcset", "action")]


def test_page_is_self_contained(district: District):
    text = district.html.read_text(encoding="utf-8")
    parser = _Links()
    parser.feed(text)
    assert parser.links == []
    assert "@import" not in text and "url(http" not in text and "<script" not in text
    assert "@page" in text and "size: A4" in text and "table-header-group" in text


def test_pdf_warning_when_chromium_is_missing(tmp_path: Path, monkeypatch):
    html = tmp_path / "a.html"
    html.write_text("<p>x</p>", encoding="utf-8")
    monkeypatch.setattr(settings, "CHROMIUM", str(tmp_path / "no-chromium"))
    warning = pdf_printing.print_pdf(html, tmp_path / "a.pdf")
    assert warning and "没有找到 Chromium" in warning and not (tmp_path / "a.pdf").exists()


@pytest.mark.parametrize("name, masked", [
    ("张三丰", "张*丰"), ("张三", "张*"), ("欧阳娜娜", "欧**娜"), ("李", "李"),
    ("阿依古丽·买买提", "阿**丽·买*提"), ("迪丽热巴・阿不都", "迪**巴・阿*都"), ("努尔·艾力", "努*·艾*"),
    ("", ""), (None, ""), (HOSTILE, "<" + "*" * (len(HOSTILE) - 2) + ">"),
])
def test_mask_name(name, masked):
    assert summary.mask_name(name) == masked


@pytest.mark.parametrize("as_of, label", [
    (date(2026, 11, 28), "2026年11月22日—11月28日"),
    (date(2027, 1, 3), "2026年12月28日—2027年1月3日"),
])
def test_period_label(as_of, label):
    assert summary.period_label(as_of) == label


def test_a_first_run_with_only_zero_reports(tmp_path: Path):
    """No one on the roster yet: the page still renders, with empty charts and lists said in words."""
    inbox = tmp_path / "inbox"
    names = [t.name for t in townships.listed()]
    for township in names[:2]:
        synth.write_zero_report(inbox / f"{township}零报告.xlsx", township, filled_date=AS_OF)
    result = run(inbox, tmp_path / "outbox", tmp_path / "jiuzhu.sqlite3", AS_OF)
    text = (result.outdir / settings.SUMMARY_NAME).read_text(encoding="utf-8")
    parser = _Figures()
    parser.feed(text)
    assert parser.figures == expected_figures(result.report)
    assert parser.figures["roster.total"] == "0" and parser.figures["missing_townships.count"] == str(len(names) - 2)
    assert "暂无数据" in text  # the assistance-type chart
    assert "目前只有2026年11月28日一次汇总" in text  # the trend with one point
    assert "没有超期未办理的对象" in text and "本月应走访的重点人群均已见面走访" in text
    assert 'data-warning="calendar"' not in text  # chinese-calendar knows 2026


def test_a_run_beyond_the_holiday_calendar_says_so_on_the_page(tmp_path: Path):
    from pipeline.rules import workdays

    year = workdays._known_years()[1] + 1  # the first year the installed calendar does not know
    as_of = date(year, 1, 8)
    synth.write_zero_report(tmp_path / "inbox" / "城东零报告.xlsx", "城东街道", filled_date=as_of)
    result = run(tmp_path / "inbox", tmp_path / "outbox", tmp_path / "jiuzhu.sqlite3", as_of, yes=True)  # ahead of today
    text = (result.outdir / settings.SUMMARY_NAME).read_text(encoding="utf-8")
    assert 'data-warning="calendar"' in text and f"{year} 年" in text and "周一至周五" in text


def test_pdf_warning_when_chromium_fails_or_hangs(tmp_path: Path, monkeypatch):
    html = tmp_path / "a.html"
    html.write_text("<p>x</p>", encoding="utf-8")
    monkeypatch.setattr(settings, "CHROMIUM", "/bin/false")
    assert "没有生成 PDF" in pdf_printing.print_pdf(html, tmp_path / "a.pdf")
    hang = tmp_path / "hang.sh"
    hang.write_text("#!/bin/sh\nsleep 30 &\nsleep 30\n", encoding="utf-8")
    hang.chmod(0o755)
    monkeypatch.setattr(settings, "CHROMIUM", str(hang))
    monkeypatch.setattr(pdf_printing, "PDF_TIMEOUT", 1)
    started = time.monotonic()
    assert "超过 1 秒" in pdf_printing.print_pdf(html, tmp_path / "a.pdf")
    assert time.monotonic() - started < 10
    assert not (tmp_path / "a.pdf").exists() and not list(tmp_path.glob(".*.tmp"))


def test_the_week_s_newly_assisted_are_those_brought_in_during_the_week():
    import pandas as pd

    classified = pd.DataFrame({"status": ["new_assisted", "new_assisted", "new_assisted", "new_assisted", "pending"],
                               "result_date": ["2026-11-22", "2026-11-21", None, None, "2026-11-25"],
                               "decided_on": ["2026-11-27", "2026-11-27", "2026-11-27", "2026-11-20", None]})
    # 22–28 Nov; the 21st is the week before; a 转介 without a date counts in the week it was reported.
    assert summary.new_assisted_in_week(classified, date(2026, 11, 28)) == 2


def test_the_notes_of_the_runs_files_are_in_the_summary_and_in_its_rebuild(tmp_path: Path):
    inbox = tmp_path / "inbox"
    rows = synth.make_people("冯家街道", 2, seed=3)
    synth.write_submission(inbox / "舟白1127.xlsx", rows, township="舟白街道", filled_date=date(2026, 11, 27))
    result = run(inbox, tmp_path / "outbox", tmp_path / "s.sqlite3", date(2026, 11, 28))
    said = "本文件填报单位为舟白街道，但表中人员属于冯家街道，按冯家街道的人员汇总；舟白街道本周按已报送计。"
    assert said in result.files[0].notes
    html = (result.outdir / settings.SUMMARY_NAME).read_text(encoding="utf-8")
    assert "注意事项（1份文件）" in html and said in html
    assert "notes" not in json.loads((result.outdir / settings.REPORT_NAME).read_text(encoding="utf-8"))
    path, _ = rebuild(tmp_path / "outbox", tmp_path / "s.sqlite3", date(2026, 11, 28))
    assert said in path.read_text(encoding="utf-8")


def test_rows_sent_back_are_listed_until_they_come_again(tmp_path: Path):
    inbox, outbox, store_path = tmp_path / "inbox", tmp_path / "outbox", tmp_path / "s.sqlite3"
    good, bad = synth.make_people("石会镇", 2, seed=5, mix={"pending": 1}, as_of=date(2026, 11, 20))
    bad.finder = None
    synth.write_submission(inbox / "石会1120.xlsx", [good, bad], township="石会镇", filled_date=date(2026, 11, 20))
    first = run(inbox, outbox, store_path, date(2026, 11, 20))
    html = (first.outdir / settings.SUMMARY_NAME).read_text(encoding="utf-8")
    assert "已退回、尚未重新报送的行（1行）" in html and summary.mask_name(bad.name) in html
    assert bad.name not in html
    bad.finder = "村社会救助协理员"
    synth.write_submission(inbox / "石会1127.xlsx", [bad], township="石会镇", filled_date=date(2026, 11, 27))
    again = run(inbox, outbox, store_path, date(2026, 11, 27))
    assert "已退回、尚未重新报送的行（0行）" in (again.outdir / settings.SUMMARY_NAME).read_text(encoding="utf-8")


def test_a_township_that_sent_only_an_unreadable_file_is_not_told_as_not_received(tmp_path: Path):
    """Issue 16: 太极镇 mailed a PDF; it is still missing (no form), but 「没有收到」 would be untrue."""
    inbox = tmp_path / "inbox"
    synth.make_district(inbox, rows_per_township=3, seed=5, as_of=AS_OF, townships=["城西街道"])
    (inbox / "太极镇1128.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    result = run(inbox, tmp_path / "outbox", tmp_path / "s.sqlite3", AS_OF)
    assert "太极镇" in result.report["missing_townships"]  # the contract: no form this week
    page = (result.outdir / settings.SUMMARY_NAME).read_text(encoding="utf-8")
    box = page[page.index('<div class="missing'):page.index("</div>", page.index('<div class="missing'))]
    assert "<span>太极镇<em class=\"tag\">文件无法读取</em></span>" in box
    assert "其中太极镇发来了文件，但文件无法读取或其中没有明细表" in box
    assert "<span>石会镇</span>" in box  # sent nothing at all: no tag

    from pipeline.console import calls

    said = dict(calls(result.report))
    assert "太极镇" in said["文件无法读取、需重新发送"]
    assert "太极镇（收到的文件不是可读的明细表）" in said["本周未报送"] and "石会镇" in said["本周未报送"]
