"""全区汇总台账 (pipeline/reports/ledger.py) and the fast row writer it uses (xlsx.write_blocks)."""

from __future__ import annotations

import math
import os
import subprocess
import tempfile
import warnings
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from openpyxl.utils.escape import unescape

from pipeline.demo import synth
from pipeline.reports import ledger, ledger_sheets
from pipeline.rules import spec, townships
from pipeline.run import run
from pipeline.tools import xlsx, xlsx_cells, xlsx_stream
from tests.browser import require

AS_OF = date(2026, 11, 28)
HOSTILE_NAMES = ['=HYPERLINK("http://x","y")', "+1", "@SUM(A1)", "-2"]
FORM = spec.form()
EXPECTED_HEADERS = ([spec.short_label(c.header) for c in FORM.columns if c.official]
                    + [spec.short_label(c.header) for c in FORM.columns if not c.official]
                    + ["类别", "办理时间", "已用工作日", "是否超期", "首次报送"])
PERSON_SHEETS = [ledger.ALL_SHEET, *(spec.STATUS_LABELS[s] for s in ledger.PERSON_STATUSES)]


def person(township: str, name: str, status: str, *, suspected: str = "城乡低保", age: int | None = None,
           overdue: bool = False, reminded_on: str | None = None, **fields) -> dict:
    """One row of `classified` as roster.classify makes it."""
    discovered = fields.pop("discovered", "2026-10-01")
    row = {
        "key": f"{township}|{name}", "township": township, "village": fields.pop("village", "新建村"), "name": name,
        "id_number": fields.pop("id_number", None), "status": status, "status_label": spec.STATUS_LABELS[status],
        "programme": None, "result_date": fields.pop("result_date", None), "referral": None,
        "discovered": discovered, "first_seen": "2026-11-21", "updated": "2026-11-28", "key_since": None,
        "submission_id": 1, "sheet": "Sheet1", "row": 4, "seq": "7", "method": "走访发现", "finder": "王平",
        "household": "户籍人口3人，本人患病", "suspected": suspected, "investigation": "已入户调查",
        "result": None, "remark": None, "phone": None,
        "age_workdays": age if status == "pending" else None, "overdue": overdue,
        "reminded_on": reminded_on, "still_overdue": reminded_on is not None,
    }
    row.update(fields)
    return row


def classified_frame(people: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(people)
    frame["age_workdays"] = pd.array(frame["age_workdays"].tolist(), dtype="Int64")
    return frame


def township_table(classified: pd.DataFrame) -> pd.DataFrame:
    """A scorecard.township_table-shaped frame: every township, counts from the people."""
    rows = []
    for t in townships.listed():
        mine = classified[classified["township"] == t.name]
        rows.append({"township": t.name, "found_week": len(mine), "total": len(mine),
                     **{s: int((mine["status"] == s).sum()) for s in spec.STATUS_LABELS},
                     "overdue": int(mine["overdue"].sum()), "still_overdue": int(mine["still_overdue"].sum()),
                     "key_population": 2, "due": 2, "seen_due": 1, "seen_this_month": 1, "gaps": 1,
                     "visit_coverage": 0.5 if len(mine) else None, "decided": 1, "handled_in_time": 1,
                     "in_time_share": 1.0 if len(mine) else None, "rows_rejected_week": 0, "rows_rejected": 3,
                     "files_week": 1})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def people() -> pd.DataFrame:
    return classified_frame([
        person("城东街道", "张三", "new_assisted", suspected="城乡低保、临时救助", result_date="2026-10-20",
               id_number="500114199001011234", phone="023-79222164"),
        person("城东街道", "李四", "observation", suspected="医疗救助"),
        person("城东街道", HOSTILE_NAMES[0], "pending", suspected="特困供养", age=41, overdue=True),
        person("城西街道", HOSTILE_NAMES[1], "pending", age=5),
        person("城西街道", HOSTILE_NAMES[2], "closed"),
        person("城西街道", HOSTILE_NAMES[3], "pending", suspected="城乡低保、医疗救助", age=45, overdue=True,
               reminded_on="2026-11-20", household="<r><t>x</t></r>"),
        person("石会镇", "王五", "new_assisted", suspected="教育救助", household="甲\x07乙 _x0041_ ",
               remark=" 前后有空格 "),
    ])


@pytest.fixture(scope="module")
def book(people, tmp_path_factory) -> tuple[Path, openpyxl.Workbook]:
    path = tmp_path_factory.mktemp("ledger") / "全区汇总台账.xlsx"
    ledger.write_ledger(path, people, township_table(people), as_of=AS_OF)
    return path, _load(path)


def _load(path: Path) -> openpyxl.Workbook:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # openpyxl must understand everything we wrote
        return openpyxl.load_workbook(path)


def _text(value):
    """A cell value as Excel shows it. The ledger's cells are inline strings, whose _xHHHH_
    escapes (control characters, a literal _x0041_) Excel and LibreOffice undo but
    openpyxl leaves as they are."""
    return unescape(value) if isinstance(value, str) else value


def _rows(ws, first: int = 3) -> list[tuple]:
    return [tuple(map(_text, r)) for r in ws.iter_rows(min_row=first, values_only=True)
            if any(v is not None for v in r)]


def _column(ws, header: str) -> int:
    return EXPECTED_HEADERS.index(header)


def test_sheets_titles_and_headers(book):
    _, wb = book
    assert wb.sheetnames == [*PERSON_SHEETS, ledger.STATS_SHEET, ledger.SCORE_SHEET]
    for name in PERSON_SHEETS:
        ws = wb[name]
        assert [c.value for c in ws[2]] == EXPECTED_HEADERS
        assert f"A1:{ws.cell(2, len(EXPECTED_HEADERS)).column_letter}1" in {str(r) for r in ws.merged_cells.ranges}
    assert wb[ledger.ALL_SHEET]["A1"].value == "黔江区社会救助主动发现救助对象汇总台账（截至2026年11月28日）"
    assert wb[spec.STATUS_LABELS["pending"]]["A1"].value == "黔江区社会救助主动发现待办理对象汇总台账（截至2026年11月28日）"


def test_rows_per_sheet_in_order_and_renumbered(book, people):
    _, wb = book
    name_col = _column(None, FORM.column("name").header)
    for sheet, status in zip(PERSON_SHEETS, (None, *ledger.PERSON_STATUSES)):
        expected = people if status is None else people[people["status"] == status]
        rows = _rows(wb[sheet])
        assert [r[name_col] for r in rows] == expected["name"].tolist()
        assert [r[0] for r in rows] == list(range(1, len(expected) + 1))  # 序号 1..n on every sheet


def test_values_types_and_overdue_marks(book, people):
    _, wb = book
    ws = wb[ledger.ALL_SHEET]
    rows = _rows(ws)
    col = {h: EXPECTED_HEADERS.index(h) for h in EXPECTED_HEADERS}
    first = rows[0]
    assert first[col["身份证号码"]] == "500114199001011234" and first[col["联系电话"]] == "023-79222164"
    assert first[col["发现日期"]] == datetime(2026, 10, 1) and first[col["办理时间"]] == datetime(2026, 10, 20)
    assert first[col["类别"]] == "新增救助群众" and first[col["首次报送"]] == datetime(2026, 11, 21)
    assert ws.cell(3, col["发现日期"] + 1).number_format == "yyyy-mm-dd"
    assert [r[col["已用工作日"]] for r in rows] == [None, None, 41, 5, None, 45, None]
    assert [r[col["是否超期"]] for r in rows] == [None, None, "超期", None, None, "提醒后仍未办理", None]
    fills = [ws.cell(3 + n, col["是否超期"] + 1).fill.fgColor.rgb for n in range(len(rows))]
    red = "FF" + xlsx.BAD_FILL.lstrip("#")
    assert [f == red for f in fills] == [False, False, True, False, False, True, False]
    assert rows[5][col["家庭基本情况"]] == "<r><t>x</t></r>"
    assert rows[6][col["家庭基本情况"]] == "甲\x07乙 _x0041_ " and rows[6][col["备注"]] == " 前后有空格 "


def test_text_is_never_a_formula(book):
    _, wb = book
    for ws in wb:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
    names = [r[_column(None, "对象姓名")] for r in _rows(wb[ledger.ALL_SHEET])]
    assert [n for n in names if n in HOSTILE_NAMES] == HOSTILE_NAMES


def test_stats_tables_add_up(book, people):
    _, wb = book
    ws = wb[ledger.STATS_SHEET]
    header = [c.value for c in ws[3]]
    starts = [i for i, v in enumerate(header) if v == "乡镇（街道）"]
    assert len(starts) == 2
    types = list(spec.vocabulary("assistance_types").values)
    assert header[starts[0] + 1:starts[0] + len(types) + 2] == [*types, ledger_sheets.TOTAL]
    classes = [*spec.STATUS_LABELS.values(), "其中超期", ledger_sheets.TOTAL]
    assert header[starts[1] + 1:starts[1] + len(classes) + 1] == classes
    towns = [t.name for t in townships.listed()]
    body = [[c.value for c in row] for row in ws.iter_rows(min_row=4, max_row=4 + len(towns))]
    assert [r[starts[0]] for r in body] == [*towns, ledger_sheets.TOTAL]  # every township, zero or not
    assert [r[starts[1]] for r in body] == [*towns, ledger_sheets.TOTAL]
    total = body[-1]
    for n, kind in enumerate(types, start=1):
        assert total[starts[0] + n] == sum(kind in s.split("、") for s in people["suspected"])
    assert total[starts[0] + len(types) + 1] == len(people)
    by_town = dict(zip(towns, (r[starts[0] + len(types) + 1] for r in body)))
    assert by_town == {t: int((people["township"] == t).sum()) for t in towns}
    for n, status in enumerate(spec.STATUS_LABELS, start=1):
        assert total[starts[1] + n] == int((people["status"] == status).sum())
    assert total[starts[1] + len(spec.STATUS_LABELS) + 1] == int(people["overdue"].sum())
    assert total[starts[1] + len(spec.STATUS_LABELS) + 2] == len(people)


def test_scorecard_sheet(book, people):
    _, wb = book
    ws = wb[ledger.SCORE_SHEET]
    headers = [c.value for c in ws[2]]
    assert headers == [h for _, h, _, _ in ledger_sheets.SCORE_COLUMNS]
    assert {"本周新上报", "累计发现", "重点人群", "本月应走访", "其中已见面", "走访覆盖率", "按期办理率",
            "提醒后仍未办理", "本周退回行数", "累计退回行数"} <= set(headers)
    rows = {r[0]: r for r in ws.iter_rows(min_row=3, values_only=True) if r[0]}
    coverage = headers.index("走访覆盖率")
    assert rows["城东街道"][coverage] == 0.5 and rows["城南街道"][coverage] is None
    assert ws.cell(3, coverage + 1).number_format == "0.0%"
    assert rows[ledger_sheets.TOTAL][headers.index("累计发现")] == len(people)
    for name in [t.name for t in townships.listed()] + [ledger_sheets.TOTAL]:  # of those due: never more seen than due
        assert rows[name][headers.index("其中已见面")] <= rows[name][headers.index("本月应走访")]
    total = rows[ledger_sheets.TOTAL]  # the district's rates, of the sums
    due, seen = total[headers.index("本月应走访")], total[headers.index("其中已见面")]
    assert total[coverage] == (round(seen / due, 4) if due else None)
    assert [r[0] for r in ws.iter_rows(min_row=3, max_row=32, values_only=True)] == [t.name for t in townships.listed()]


def test_print_setup(book):
    _, wb = book
    for ws in wb:
        assert ws.page_setup.orientation == "landscape"
        assert int(ws.page_setup.paperSize) == xlsx.PAPER_A4
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth in (None, 1)  # 1 is the default
    for name in [*PERSON_SHEETS, ledger.SCORE_SHEET]:
        assert wb[name].print_title_rows == "$2:$2"
        assert wb[name].freeze_panes == "A3"


def test_same_input_same_bytes(people, tmp_path):
    table = township_table(people)
    ledger.write_ledger(tmp_path / "a.xlsx", people, table, as_of=AS_OF)
    ledger.write_ledger(tmp_path / "b.xlsx", people, table, as_of=AS_OF)
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()


def test_a_long_text_keeps_its_row_within_excels_tallest(tmp_path):
    # 2,000 characters (the limit of 家庭基本情况) would ask for some 3,000 points: Excel's rows stop at 409.
    long = classified_frame([person("城东街道", "张三", "pending", age=3, household="家中困难，" * 400)])
    ledger.write_ledger(tmp_path / "l.xlsx", long, township_table(long), as_of=AS_OF)
    ws = _load(tmp_path / "l.xlsx")[ledger.ALL_SHEET]
    heights = [d.height for d in ws.row_dimensions.values() if d.height]
    assert 400 < max(heights) <= xlsx.MAX_ROW_HEIGHT  # xlsxwriter rounds to whole pixels
    assert any(c.value == "家中困难，" * 400 for row in ws.iter_rows() for c in row)


def test_empty_roster(tmp_path):
    empty = classified_frame([person("城东街道", "张三", "closed")]).iloc[0:0]
    ledger.write_ledger(tmp_path / "l.xlsx", empty, township_table(empty), as_of=AS_OF)
    wb = _load(tmp_path / "l.xlsx")
    assert all(_rows(wb[name]) == [] for name in PERSON_SHEETS)
    assert wb[ledger.STATS_SHEET].cell(4 + len(townships.listed()), 1).value == ledger_sheets.TOTAL


def test_ledger_of_a_real_run(tmp_path):
    """The pipeline's own classified frame: sheet counts equal run-report.json's roster."""
    inbox = tmp_path / "inbox"
    synth.make_district(inbox, rows_per_township=15, seed=5, as_of=AS_OF, townships=["城西街道", "石会镇"])
    result = run(inbox, tmp_path / "outbox", tmp_path / "store.sqlite3", AS_OF)
    roster = result.report["roster"]
    wb = _load(result.outdir / "全区汇总台账.xlsx")
    assert len(_rows(wb[ledger.ALL_SHEET])) == roster["total"]
    for status in ledger.PERSON_STATUSES:
        assert len(_rows(wb[spec.STATUS_LABELS[status]])) == roster[status]
    marks = [r[_column(None, "是否超期")] for r in _rows(wb[spec.STATUS_LABELS["pending"]])]
    assert sum(m is not None for m in marks) == roster["overdue"]


# --- the fast row writer ----------------------------------------------------------------

TRICKY = ["=1+1", "+1", "-2", "@SUM(A1)", "<r><t>x</t></r>", "a & <b>", " lead", "trail ", "甲\x01乙\x1f",
          "_x0041_", "line\nbreak", "", None, float("nan"), pd.NA, 3, 2.5, True, date(2026, 11, 28),
          datetime(2026, 11, 28, 9, 30), "长" * 40_000]


def _write_both(tmp_path: Path, columns_of) -> tuple[openpyxl.Workbook, openpyxl.Workbook]:
    books = []
    for constant in (True, False):
        path = tmp_path / f"rows_{constant}.xlsx"
        wb = xlsx.new_workbook(path, created=AS_OF, constant_memory=constant)
        fmts = xlsx.formats(wb)
        ws = wb.add_worksheet("表")
        ws.write_string(0, 0, "标题", fmts["title"])
        columns = columns_of(fmts)
        heights = [20.0 + n for n in range(len(TRICKY))]
        last = xlsx.write_rows(ws, 1, columns, date_fmt=fmts["date"], heights=heights)
        assert last == len(TRICKY)
        ws.write_string(last + 1, 0, "合计", fmts["cell"])
        wb.close()
        books.append(_load(path))
    return books[0], books[1]


def _as_written(value):
    """What a cell written by write_text holds when read back."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)) or value == "":
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime.combine(value, datetime.min.time())
    if isinstance(value, str):
        return value[:xlsx.MAX_CELL_CHARS]
    return value


@pytest.mark.parametrize("spool_bytes", [xlsx_stream.SPOOL_BYTES, 1000], ids=["memory", "spilled"])
def test_fast_rows_read_back_like_write_text(tmp_path, monkeypatch, spool_bytes: int):
    monkeypatch.setattr(xlsx_stream, "SPOOL_BYTES", spool_bytes)
    def columns(fmts):
        marks = [fmts["bad"] if n % 3 == 0 else fmts["cell"] for n in range(len(TRICKY))]
        return [(xlsx.SEQ, fmts["cell_center"]), (TRICKY, fmts["cell"]), (TRICKY[::-1], marks)]

    fast, plain = _write_both(tmp_path, columns)
    a, b = fast["表"], plain["表"]
    assert a.max_row == b.max_row == len(TRICKY) + 2
    for row_a, row_b in zip(a.iter_rows(), b.iter_rows()):
        for x, y in zip(row_a, row_b):
            assert x.data_type != "f"
            assert (x.data_type, x.number_format, x.fill.fgColor.rgb, x.border.left.style, x.font.name) == \
                   (y.data_type, y.number_format, y.fill.fgColor.rgb, y.border.left.style, y.font.name), x.coordinate
        assert a.row_dimensions[row_a[0].row].height == b.row_dimensions[row_b[0].row].height
    assert [a.cell(2 + n, 1).value for n in range(len(TRICKY))] == list(range(1, len(TRICKY) + 1))
    assert [_text(a.cell(2 + n, 2).value) for n in range(len(TRICKY))] == [_as_written(v) for v in TRICKY]
    assert [_text(a.cell(2 + n, 3).value) for n in range(len(TRICKY))] == [_as_written(v) for v in TRICKY[::-1]]
    assert a.cell(2 + len(TRICKY), 1).value == "合计"


def test_plain_text_columns_render_as_each_cell_would():
    # A column of mostly distinct texts is rendered in one join; the cells that need escaping,
    # a kept space or a cut, and the values that are not text, are rendered one by one.
    names = [f"姓名{n}" for n in range(50)]
    extra = [*TRICKY, "甲\x02乙", "\u3000全角空格", "末尾\u3000", "中 间", "x" * 20_000, "\x1c开头", "😀𠀀表情",
             "_x", "a_x00", "尾\u2029", "\ufffe", "&", "\n"]
    prefix = '<c r="B\x00'

    def one_by_one(chunk):
        return [xlsx_cells.string_xml(v, "", prefix) if v.__class__ is str and v else prefix + xlsx_cells.cell_xml(v, None, None)
                for v in chunk]

    mixed = [v for pair in zip(names, extra) for v in pair]  # every kind at once, between plain names
    for chunk in [names, *(names + [value] + names for value in extra), mixed, mixed[::-1], extra]:
        bulk = xlsx_stream.ColumnXML(chunk, None, None, prefix)
        bulk.cache = None  # as it is for a column of mostly distinct values
        assert bulk.render(0, len(chunk)) == one_by_one(chunk), chunk[50:51]


@pytest.mark.parametrize("limits", [(1000, None), (1000, 1000)], ids=["spilled", "through files"])
def test_spilled_rows_give_the_same_workbook(tmp_path, monkeypatch, limits):
    """Rows past SPOOL_BYTES wait in a file and join the zip as their part is written: the
    bytes are those of a workbook kept in memory. Past IN_MEMORY_BYTES xlsxwriter's own files
    assemble it (other zip dates), with the same parts."""
    def write(path):
        wb = xlsx.new_workbook(path, created=AS_OF, constant_memory=True)
        fmts = xlsx.formats(wb)
        for name, step in (("全部", 1), ("单数", 2), ("空", 0)):
            ws = wb.add_worksheet(name)
            ws.write_string(0, 0, f"{name}名单", fmts["title"])
            rows = list(range(0, 3000, step)) if step else []
            xlsx.write_rows(ws, 1, [(xlsx.SEQ, fmts["cell"]), ([f"石会镇张{n}" for n in rows], fmts["cell"])])
        wb.close()
        return wb

    write(tmp_path / "memory.xlsx")
    monkeypatch.setattr(xlsx_stream, "SPOOL_BYTES", limits[0])
    if limits[1]:
        monkeypatch.setattr(xlsx_stream, "IN_MEMORY_BYTES", limits[1])
    wb = write(tmp_path / "spilled.xlsx")
    assert [ws.spilled() for ws in wb.worksheets()] == [True, True, False]
    kept, spilled = (zipfile.ZipFile(tmp_path / name) for name in ("memory.xlsx", "spilled.xlsx"))
    assert kept.namelist() == spilled.namelist()
    assert all(kept.read(name) == spilled.read(name) for name in kept.namelist())
    same = (tmp_path / "memory.xlsx").read_bytes() == (tmp_path / "spilled.xlsx").read_bytes()
    assert same is (limits[1] is None)
    assert b"\x02" not in b"".join(spilled.read(name) for name in spilled.namelist())


@pytest.mark.parametrize("spool", ["memory", "spilled"])
def test_blocks_share_one_table(tmp_path, monkeypatch, spool: str):
    """Rows wait in memory and the zip is assembled there, without one temporary file; past
    SPOOL_BYTES a sheet's rows go to a temporary file, and the workbook is the same."""
    if spool == "memory":
        def no_file(*args, **kwargs):
            raise AssertionError("a temporary file was made")
        monkeypatch.setattr(tempfile, "mkstemp", no_file)
        monkeypatch.setattr(tempfile, "TemporaryFile", no_file)
    else:
        monkeypatch.setattr(xlsx_stream, "SPOOL_BYTES", 1000)
    path = tmp_path / "blocks.xlsx"
    wb = xlsx.new_workbook(path, created=AS_OF, constant_memory=True)
    fmts = xlsx.formats(wb)
    sheets = [wb.add_worksheet(n) for n in ("全部", "单数")]
    names = [f"人{n}" for n in range(5000)]
    last = xlsx.write_blocks([(sheets[0], 1, None), (sheets[1], 3, list(range(1, 5000, 2)))],
                             [(xlsx.SEQ, fmts["cell"]), (names, fmts["cell"])])
    assert last == [5000, 3 + 2500 - 1]
    sheets[1].write_string(last[1] + 1, 0, "完", fmts["cell"])
    with pytest.raises(ValueError):
        xlsx.write_rows(sheets[0], 10, [(names[:1], fmts["cell"])])  # above rows already written
    with pytest.raises(ValueError):
        xlsx.write_blocks([(sheets[1], 9000, None), (sheets[1], 9100, None)], [(names[:1], fmts["cell"])])
    assert [ws.spilled() for ws in sheets] == [spool == "spilled"] * 2
    wb.close()
    book = _load(path)
    assert [r for r in book["全部"].iter_rows(min_row=2, values_only=True)][4999] == (5000, "人4999")
    odd = list(book["单数"].iter_rows(min_row=4, values_only=True))
    assert odd[0] == (1, "人1") and odd[2499] == (2500, "人4999") and odd[2500] == ("完", None)


def test_workbooks_are_deflated_by_isal_and_zipfile_is_left_as_it_was(tmp_path):
    original = zipfile._get_compressor
    path = tmp_path / "deflated.xlsx"
    wb = xlsx.new_workbook(path, created=AS_OF, constant_memory=True)
    fmts = xlsx.formats(wb)
    texts = [f"黔江区城西街道第{n}号" for n in range(3000)]
    xlsx.write_rows(wb.add_worksheet("表"), 0, [(texts, fmts["cell"])])
    wb.close()
    assert zipfile._get_compressor is original
    with zipfile.ZipFile(path) as book:
        assert book.testzip() is None
        sheet = book.getinfo("xl/worksheets/sheet1.xml")
        assert sheet.compress_type == zipfile.ZIP_DEFLATED and sheet.compress_size < sheet.file_size / 4
    assert [r[0] for r in _load(path)["表"].iter_rows(values_only=True)] == texts


# --- printed by LibreOffice -------------------------------------------------------------


def test_prints_as_landscape_a4(people, tmp_path):
    soffice = require("soffice")
    pdfinfo, pdftotext = require("pdfinfo"), require("pdftotext")
    path = tmp_path / "ledger.xlsx"
    ledger.write_ledger(path, people, township_table(people), as_of=AS_OF)
    subprocess.run([soffice, f"-env:UserInstallation={(tmp_path / 'lo').as_uri()}", "--headless",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
                   check=True, timeout=120, capture_output=True, env={**os.environ, "HOME": str(tmp_path)})
    pdf = tmp_path / "ledger.pdf"
    assert pdf.exists()
    info = subprocess.run([pdfinfo, str(pdf)], check=True, capture_output=True, text=True).stdout
    fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    assert int(fields["Pages"]) >= 1
    width, _, height = fields["Page size"].split()[:3]
    assert round(float(width)) == 842 and round(float(height)) == 595
    text = subprocess.run([pdftotext, str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    assert "汇总台账" in text and "张三" in text and "2026年11月28日" in text
