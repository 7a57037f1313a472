"""check_file on real workbooks written by the synthetic-data module: every docs/design.md §2 row code, in
every format, lands on the row and column where it was put."""

from __future__ import annotations

import random
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from pipeline.demo import synth
from pipeline.intake.check import check_file, check_files
from pipeline.intake.normalise import clean_column, cleaner
from pipeline.intake.tables import cell_text
from pipeline.rules import spec

AS_OF = date(2026, 11, 28)
ROW_CODES = ["required", "invalid_value", "invalid_date", "invalid_id", "duplicate_row", "inconsistent_result"]


def _found(report) -> list[tuple]:
    form = spec.form()
    return sorted((e.sheet, e.row, form.match(e.column) or e.column, e.code) for e in report.errors)


def _expected(sub) -> list[tuple]:
    return sorted((e.sheet, e.row, e.column_key, e.code) for e in sub.expected)


@pytest.mark.parametrize("fmt", ["xlsx", "xlsm", "xls", "csv"])
def test_valid_file_in_every_format_is_accepted(tmp_path: Path, fmt: str):
    sub = synth.make_submission(tmp_path / f"城西街道1128.{fmt}", "城西街道", 40, seed=3, as_of=AS_OF)
    report = check_file(sub.path, AS_OF)
    assert report.errors == []
    assert (report.status, report.rows, report.accepted, report.township) == ("accepted", 40, 40, "城西街道")


@pytest.mark.parametrize("code", ROW_CODES)
@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_each_row_code_is_reported_where_it_was_put(tmp_path: Path, code: str, fmt: str):
    sub = synth.make_submission(tmp_path / f"石会镇.{fmt}", "石会镇", 30, seed=7, as_of=AS_OF, errors={code: 2})
    report = check_file(sub.path, AS_OF)
    assert _found(report) == _expected(sub)
    assert report.status == "partial"
    assert report.rejected == len({(e.sheet, e.row) for e in sub.expected})
    assert report.accepted == report.rows - report.rejected


def test_all_errors_of_a_file_come_at_once(tmp_path: Path):
    errors = {code: 1 for code in ROW_CODES}
    sub = synth.make_submission(tmp_path / "黑溪镇.xlsx", "黑溪镇", 50, seed=11, as_of=AS_OF, errors=errors)
    report = check_file(sub.path, AS_OF)
    assert _found(report) == _expected(sub)
    for issue in report.errors:
        assert issue.file == "黑溪镇.xlsx" and issue.message and issue.column


@pytest.mark.parametrize("headers", ["official", "short", "messy"])
def test_header_variants_and_messy_values_are_taken_in_stride(tmp_path: Path, headers: str):
    sub = synth.make_submission(tmp_path / "濯水镇.xlsx", "濯水镇", 30, seed=5, as_of=AS_OF, headers=headers,
                                messy=True, blank_rows=True, extra_sheets=True, dates_as="text")
    report = check_file(sub.path, AS_OF)
    assert report.errors == []
    assert report.rows == 30


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_encodings(tmp_path: Path, encoding: str):
    sub = synth.make_submission(tmp_path / "城南.csv", "城南街道", 10, seed=2, as_of=AS_OF, encoding=encoding)
    report = check_file(sub.path, AS_OF)
    assert (report.status, report.rows, report.township) == ("accepted", 10, "城南街道")


def test_zero_report_is_empty_and_names_its_township(tmp_path: Path):
    sub = synth.write_zero_report(tmp_path / "零报告.xlsx", "太极镇", filled_date=AS_OF)
    report = check_file(sub.path, AS_OF)
    assert (report.status, report.rows, report.township, report.errors) == ("empty", 0, "太极镇", [])


def test_township_from_file_name_when_rows_cannot_tell(tmp_path: Path):
    path = tmp_path / "黔江区水田乡1128.xlsx"
    path.write_bytes(b"")
    report = check_file(path, AS_OF)
    assert (report.status, report.township, [e.code for e in report.errors]) == ("rejected", "水田乡", ["unreadable"])


def _workbook(path: Path, rows: list[list], header: list[str] | None = None) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([spec.form_title()])
    ws.append(["填报单位：黔江区城东街道", None, None, "填报日期：2026年11月27日"])
    ws.append(header or [c.header for c in spec.form().columns])
    for row in rows:
        ws.append(row)
    ws.append(["填表人：张三", None, "审核人：李四"])
    wb.save(path)
    return path


def _row(**values) -> list:
    base = {"seq": 1, "method": "走访发现", "finder": "王干部", "township": "城东街道", "name": "刘德华",
            "household": "本人患病，无劳动能力", "suspected": "城乡低保", "investigation": None, "result": None,
            "remark": None, "id_number": None, "village": "新安村", "discovered": "2026年11月2日", "phone": None}
    base.update(values)
    return [base[c.key] for c in spec.form().columns]


@pytest.mark.parametrize("footer", [
    ["填表人（签字）：王五", None, None, None, "审核人（签字）：赵六"],
    ["制表：王五", None, None, None, "审核：赵六"],
    ["单位（盖章）：城东街道办事处", None, None, None, None, None, None, None, "2026年11月27日"],
    ["合计", None, None, None, "2人"],
    ["填表人 王五", None, None, None, "审核人 赵六", None, None, None, "2026年11月27日"],
], ids=["signed", "short labels", "seal", "total", "no colon"])
def test_column_numbers_footers_and_subtotals_are_not_people(tmp_path: Path, footer: list):
    # People typed below a footer are read (and noted), never dropped; notes, signatures and
    # dates below it are not people.
    people = [list(range(1, 15)), _row(seq=1, name="刘德华"), ["小计", None, None, None, "1人"],
              _row(seq=2, name="张学友"), ["小 计", None, None, None, "1人"], footer, _row(seq=3, name="郭富城"),
              [None, "注：本表一式两份，报区民政局一份。"], [None, None, None, None, "2026年11月27日"]]
    report = check_file(_workbook(tmp_path / "城东.xlsx", people), AS_OF)
    assert (report.status, report.rows, report.errors) == ("accepted", 3, [])
    assert report.records["name"].tolist() == ["刘德华", "张学友", "郭富城"]
    below = [n for n in report.notes if "落款行" in n]
    assert below == ([] if footer[0] == "合计" else ["工作表「Sheet」第10行在落款行（填表人、审核人等）下方，已作为数据读取；"
                                                      "以后请把落款行放在表格最后。"])


def test_reworded_bracket_of_a_long_header_still_names_its_column(tmp_path: Path):
    # 乡镇（街道）办理结果（…及纳入时间）: the bracket reworded must not make it 乡镇 (所属乡镇).
    header = [c.header for c in spec.form().columns]
    header[header.index(spec.form().column("result").header)] = "乡镇（街道）办理结果（不符合救助条件、纳入救助范畴及纳入时间）"
    header[header.index(spec.form().column("investigation").header)] = "乡镇（街道）调查情况（入户核实情况）"
    rows = [_row(seq=1, name="刘德华", investigation="已入户核实", result="纳入城乡低保，2026年11月20日"),
            _row(seq=2, name="张学友", investigation="已入户核实", result="纳入低保")]
    report = check_file(_workbook(tmp_path / "城东.xlsx", rows, header), AS_OF)
    assert report.records["status"].tolist() == ["new_assisted"]
    assert [(e.row, e.code) for e in report.errors] == [(5, "inconsistent_result")]


@pytest.mark.parametrize("split", ["group label above", "group row above the details"])
def test_a_two_row_header_not_merged_down_names_every_column(tmp_path: Path, split: str):
    # The printed form heads 调查情况 | 办理结果 with 乡镇（街道）; typed without merging the other
    # headers down, part of the header is in each row. Nothing may be dropped.
    keys = [c.key for c in spec.form().columns]
    detail = {"investigation": "调查情况", "result": "办理结果"}
    if split == "group label above":  # upper row: every header, 乡镇（街道） over the two; lower: the two
        upper = [c.header if c.key not in detail else None for c in spec.form().columns]
        upper[keys.index("investigation")] = "乡镇（街道）"
        lower = [detail.get(k) for k in keys]
    else:  # upper row: 序号, group labels and 备注; lower: the details
        upper = [None] * len(keys)
        upper[keys.index("seq")], upper[keys.index("remark")] = "序号", "备注"
        upper[keys.index("method")], upper[keys.index("investigation")] = "发现情况", "乡镇（街道）"
        lower = [None if k in ("seq", "remark") else detail.get(k) or c.header
                 for k, c in zip(keys, spec.form().columns)]
    rows = [_row(seq=1, name="刘德华", investigation="已入户核实", result="不符合救助条件", remark="因病致贫，生活困难"),
            _row(seq=2, name="张学友", investigation="已入户核实", result="纳入低保")]
    wb = openpyxl.Workbook()
    for row in [[spec.form_title()], ["填报单位：黔江区城东街道"], upper, lower, *rows]:
        wb.active.append(row)
    wb.save(tmp_path / "城东.xlsx")
    report = check_file(tmp_path / "城东.xlsx", AS_OF)
    assert report.rows == 2 and report.notes == []
    assert report.records["status"].tolist() == ["observation"]  # 不符合 with hardship in 备注
    assert [(e.row, e.code) for e in report.errors] == [(6, "inconsistent_result")]  # 纳入 without a date


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_a_column_of_its_own_for_the_date_of_the_result_is_read_with_it(tmp_path: Path, fmt: str):
    # The result's header asks for 纳入时间 inside it; some add a column for it, last.
    header = [c.header for c in spec.form().columns] + ["纳入时间"]
    rows = [_row(seq=1, name="刘德华", investigation="已入户核实", result="纳入城乡低保") + [datetime(2026, 11, 20)],
            _row(seq=2, name="张学友", investigation="已入户核实", result="纳入临时救助，2026年11月12日") + ["2026-11-20"],
            _row(seq=3, name="郭富城", investigation="已入户核实", result="纳入低保") + [None]]
    path = _workbook(tmp_path / "城东.xlsx", rows, header)
    if fmt == "csv":
        book = openpyxl.load_workbook(path)
        lines = [",".join(cell_text(v) for v in row) for row in book.active.iter_rows(min_row=3, values_only=True)]
        path = tmp_path / "城东.csv"
        path.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")  # a CSV ends where the people end
    report = check_file(path, AS_OF)
    records = report.records.set_index("name")
    assert records.loc["刘德华", ["status", "result_date"]].tolist() == ["new_assisted", date(2026, 11, 20)]
    assert records.loc["张学友", "result_date"] == date(2026, 11, 12)  # the result's own date stands
    assert [(e.row, e.code) for e in report.errors] == [(6 if fmt == "xlsx" else 4, "inconsistent_result")]
    assert not [n for n in report.notes if "纳入时间" in n]  # read, so not listed as a column left out


def test_cells_merged_down_a_column_count_for_each_row(tmp_path: Path):
    rows = [_row(seq=n, name=name) for n, name in enumerate(["刘德华", "张学友", "郭富城"], start=1)]
    for row in rows[1:]:
        row[1] = row[3] = None  # 发现方式 and 所属乡镇 typed once, then merged down
    path = _workbook(tmp_path / "城东.xlsx", rows)
    wb = openpyxl.load_workbook(path)
    wb.active.merge_cells("B4:B6")
    wb.active.merge_cells("D4:D6")
    wb.active.merge_cells("F5:G5")  # across columns: not spread, 疑似符合救助 stays its own
    wb.save(path)
    report = check_file(path, AS_OF)
    assert (report.status, report.rows) == ("partial", 3)
    assert [(e.row, e.code) for e in report.errors] == [(5, "required")]
    assert report.records["township"].tolist() == ["城东街道"] * 2


def test_blank_printed_rows_under_a_merged_column_are_not_people(tmp_path: Path):
    # 发现方式, 发现人 and 所属乡镇 merged down over the printed form's empty numbered rows.
    rows = [_row(seq=n, name=name) for n, name in enumerate(["刘德华", "张学友"], start=1)] + \
        [[n] + [None] * 13 for n in range(3, 9)]
    path = _workbook(tmp_path / "城东.xlsx", rows)
    wb = openpyxl.load_workbook(path)
    for column in "BCD":
        wb.active.merge_cells(f"{column}4:{column}11")
    wb.save(path)
    report = check_file(path, AS_OF)
    assert (report.status, report.rows, report.errors) == ("accepted", 2, [])


def test_a_two_row_header_with_merged_cells_is_read(tmp_path: Path):
    # 乡镇（街道） over 调查情况 | 办理结果, the other headers merged down both rows: a printed form.
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([spec.form_title()])
    ws.append(["填报单位：城东街道"])
    ws.append(["序号", "发现方式", "发现人", "所属乡镇（街道）", "对象姓名", "家庭基本情况", "疑似符合救助",
               "乡镇（街道）", None, "备注"])
    ws.append([None] * 7 + ["调查情况", "办理结果", None])
    for column in "ABCDEFGJ":
        ws.merge_cells(f"{column}3:{column}4")
    ws.merge_cells("H3:I3")
    ws.append(_row(seq=1, name="刘德华", investigation="已入户核实", result="纳入城乡低保，2026年11月20日")[:10])
    ws.append(_row(seq=2, name="张学友", investigation="已入户核实", result="不符合救助条件")[:10])
    wb.save(tmp_path / "城东.xlsx")
    report = check_file(tmp_path / "城东.xlsx", AS_OF)
    assert (report.status, report.rows, report.errors) == ("accepted", 2, [])
    assert report.records["status"].tolist() == ["new_assisted", "closed"]


@pytest.mark.parametrize("nothing", ["无", "本周无新增", "/"])
def test_a_row_saying_there_is_no_one_is_a_zero_report(tmp_path: Path, nothing: str):
    row = [None, nothing, None, "城东街道", nothing, nothing, None, None, None, None, None, None, None, None]
    report = check_file(_workbook(tmp_path / "城东.xlsx", [row]), AS_OF)
    assert (report.status, report.rows, report.errors, report.township) == ("empty", 0, [], "城东街道")


def test_missing_required_column_is_a_file_error(tmp_path: Path):
    header = [c.header for c in spec.form().columns]
    header[header.index(spec.form().column("household").header)] = "其他"
    report = check_file(_workbook(tmp_path / "城东.xlsx", [_row()], header), AS_OF)
    assert report.status == "rejected"
    assert [(e.code, e.row, e.column) for e in report.errors] == [("missing_column", 3, "家庭基本情况")]
    # The header that was not understood is named, with the spelling to use instead.
    assert "「其他」没有被识别" in report.errors[0].message and "「家庭基本情况」" in report.errors[0].message


def test_no_header_is_a_file_error(tmp_path: Path):
    wb = openpyxl.Workbook()
    wb.active.append(["这是一封信，不是表格"])
    wb.save(tmp_path / "信.xlsx")
    report = check_file(tmp_path / "信.xlsx", AS_OF)
    assert [e.code for e in report.errors] == ["no_header"] and report.status == "rejected"


def test_row_in_another_township_is_accepted_under_its_own_and_noted(tmp_path: Path):
    rows = [_row(), _row(seq=2, name="周杰", township="城南")]
    report = check_file(_workbook(tmp_path / "城东.xlsx", rows), AS_OF)
    assert report.status == "accepted" and report.township == "城东街道"
    assert list(report.records["township"]) == ["城东街道", "城南街道"]
    assert any("城南街道" in note for note in report.notes)


@pytest.mark.parametrize("value, code", [
    ("2026年11月2日", None), ("2026.11.2", None), ("2026/11/02", None), ("2026-11-02", None),
    ("２０２６年１１月２日", None), ("2026.13.45", "invalid_date"), ("去年冬天", "invalid_date"),
    ("2026-12-01", "invalid_date"),  # after the run date
])
def test_dates(tmp_path: Path, value: str, code: str | None):
    report = check_file(_workbook(tmp_path / "城东.xlsx", [_row(discovered=value)]), AS_OF)
    assert [e.code for e in report.errors] == ([code] if code else [])
    if code is None:
        assert report.records["discovered"].iloc[0] == "2026-11-02"


@pytest.mark.parametrize("value, code", [
    ("500114198001010015", None), ("50011419800101004x", None), ("500114198001010018", "invalid_id"),
    (5.0010119800101e+17, "invalid_id"), ("50011480010100", "invalid_id"), ("500114198013010015", "invalid_id"),
    ("5001141980010100１5", None),  # full-width digits are normalised
])
def test_id_numbers(tmp_path: Path, value, code: str | None):
    report = check_file(_workbook(tmp_path / "城东.xlsx", [_row(id_number=value)]), AS_OF)
    assert [e.code for e in report.errors] == ([code] if code else [])


@pytest.mark.parametrize("field, value, normalised", [
    ("method", "走访", "走访发现"), ("township", "黔江区城东街道", "城东街道"), ("township", "太极乡", "太极镇"),
    ("name", "刘 德　华", "刘德华"), ("name", "阿依古丽•买买提", "阿依古丽·买买提"),
    ("suspected", "低保，特困/临时救助", "城乡低保、特困供养、临时救助"), ("suspected", "低保等", "城乡低保"),
])
def test_normalisation(tmp_path: Path, field: str, value: str, normalised: str):
    report = check_file(_workbook(tmp_path / "城东.xlsx", [_row(**{field: value})]), AS_OF)
    assert report.errors == []
    assert report.records[field].iloc[0] == normalised


# Cells as the readers return them: text with every kind of stray space, numbers, booleans,
# dates, short forms, and characters whose handling differs between a cell and a joined column.
MESSY_CELLS = [None, "", " ", "张 三", "张\u3000三", "  李•四 ", "\t王·五\t", "５００１０１１９９０", "x12 34",
               "5001011990010112x", 3.0, 12345678901.0, 1.5, True, False, datetime(2022, 11, 20),
               date(2022, 1, 2), "2022.11.20", "2022年11月20日", "城西", "黔江区城西街道", "走访",
               "低保、临时救助等", "城乡低保,特困", "a\x1cb", "Straße", "１３８ ００００ ００００", "a  b\t\tc",
               "\u2002x\xa0y\u2003", "是", "见到", "\n多行\n文本\n", "\u200b500101199001011234",
               "'500101199001011234", "‘50010119900101123x", "\ufeff张三", "'", "' 5001", "'张 三", " '李四", "‘王五’",
               "'城西街道。"]


@pytest.mark.parametrize("table", [spec.form(), spec.visits_table(), spec.assistants_table()], ids=lambda t: t.kind)
def test_whole_columns_are_cleaned_as_each_cell_would_be(table):
    rng = random.Random(0)
    for column in table.columns:
        for _ in range(100):
            cells = [rng.choice(MESSY_CELLS) for _ in range(rng.randint(0, 12))]
            texts = [cell_text(v) for v in cells]
            assert clean_column(cells, texts, column) == [cleaner(column)(v) for v in cells], (column.key, cells)
    cells = ["a\x00b", " c "]  # the separator of the joined column inside a cell: cleaned one by one
    assert clean_column(cells, cells, table.columns[0]) == [cleaner(table.columns[0])(v) for v in cells]


def test_invalid_value_names_the_nearest_valid_value(tmp_path: Path):
    report = check_file(_workbook(tmp_path / "城东.xlsx", [_row(method="走访发觉", suspected="低保户")]), AS_OF)
    messages = {spec.form().match(e.column): e.message for e in report.errors}
    assert "「走访发现」" in messages["method"]
    assert "「城乡低保」" in messages["suspected"]


def test_a_value_near_no_valid_one_gets_the_list_not_a_guess(tmp_path: Path):
    report = check_file(_workbook(tmp_path / "城东.xlsx", [_row(suspected="低保、养老保险")]), AS_OF)
    message = next(e.message for e in report.errors if spec.form().match(e.column) == "suspected")
    assert "「养老保险」不是规定的救助类型" in message and "可改为" not in message and "城乡低保、特困供养" in message


def test_footer_and_blank_rows_are_not_people(tmp_path: Path):
    path = _workbook(tmp_path / "城东.xlsx", [_row(), [None] * 14, [2], _row(seq=3, name="李娜")])
    ws_rows = list(openpyxl.load_workbook(path).active.iter_rows(values_only=True))
    assert ws_rows[-1][0].startswith("填表人")
    report = check_file(path, AS_OF)
    assert report.rows == 2 and list(report.records["_row"]) == [4, 7]


def test_rows_filled_down_in_advance_are_not_people(tmp_path: Path):
    # 序号, 发现方式, 发现人 and 所属乡镇 copied down the empty rows before any name was written.
    advance = [[n, "走访发现", "王干部", "城东街道"] for n in range(3, 9)]
    path = _workbook(tmp_path / "城东.xlsx", [_row(seq=1), _row(seq=2, name="李娜"), *advance])
    report = check_file(path, AS_OF)
    assert (report.status, report.rows, report.errors) == ("accepted", 2, [])


def test_formula_cells_give_their_cached_value_and_are_never_evaluated(tmp_path: Path):
    path = _workbook(tmp_path / "城东.xlsx", [_row(name='=CONCATENATE("刘","德华")')])
    report = check_file(path, AS_OF)
    # openpyxl stores no cached value, so the cell reads as empty: required, not evaluated.
    assert [e.code for e in report.errors] == ["required"]


def test_lock_files_are_not_submissions(tmp_path: Path):
    from pipeline.intake.inbox import expand
    synth.make_submission(tmp_path / "城西.xlsx", "城西街道", 3, as_of=AS_OF)
    (tmp_path / "~$城西.xlsx").write_bytes(b"lock")
    assert [p.name for p in expand([tmp_path])] == ["城西.xlsx"]


def test_check_files_keeps_going_after_a_bad_file(tmp_path: Path):
    bad = tmp_path / "坏.xlsx"
    bad.write_bytes(b"PK\x03\x04 truncated")
    good = synth.make_submission(tmp_path / "好.xlsx", "金溪镇", 5, as_of=AS_OF).path
    report = check_files([bad, good], AS_OF)
    assert [f.status for f in report.files] == ["rejected", "accepted"]
    assert not report.valid


def _valid_id(base: str = "50011419600304448") -> str:
    from pipeline.rules.idcard import check_char
    return base + check_char(base)


def test_what_clerks_write_for_not_known_and_how_they_type_ids_and_types(tmp_path: Path):
    an_id = _valid_id()
    x_id = next(_valid_id(f"50011419600304{n:03d}") for n in range(1000)
                if _valid_id(f"50011419600304{n:03d}").endswith("X"))
    rows = [
        _row(seq=1, name="刘德华", id_number="无", discovered="不详", phone="/"),       # not known: blank
        _row(seq=2, name="张学友", id_number="未提供", discovered="/", phone="暂无"),
        _row(seq=3, name="郭富城", id_number=x_id[:-1] + "Ｘ"),                       # full-width X
        _row(seq=4, name="黎明", id_number=an_id + ".0"),                              # a decimal tail
        _row(seq=5, name="周润发", suspected="城乡低保和医疗救助"),
        _row(seq=6, name="梁朝伟", suspected="低保以及临时救助", township="城东街道办"),
        _row(seq=7, name="刘青云", township="城东街办"),
        _row(seq=8, name="吴镇宇", suspected="临时救助。", method="走访发现.", township="城东街道。"),  # a full stop
        _row(seq=9, name="张家辉", suspected="低保兼临时救助"),
        _row(seq=10, name="古天乐", suspected="城乡低保|医疗救助"),
        _row(seq=11, name="'苗侨伟", township="'城东街道", method="'走访发现"),  # an apostrophe before
    ]
    report = check_file(_workbook(tmp_path / "城东.xlsx", rows), AS_OF)
    assert (report.status, report.rows, report.errors) == ("accepted", 11, [])
    assert "苗侨伟" in set(report.records["name"])
    records = report.records.set_index("name")
    assert records.loc["刘德华", ["id_number", "discovered", "phone"]].isna().all()
    assert records.loc["张学友", ["id_number", "discovered", "phone"]].isna().all()
    assert records.loc["郭富城", "id_number"] == x_id
    assert records.loc["黎明", "id_number"] == an_id
    assert records.loc["周润发", "suspected"] == "城乡低保、医疗救助"
    assert records.loc["梁朝伟", "suspected"] == "城乡低保、临时救助"
    assert records.loc["吴镇宇", ["suspected", "method"]].tolist() == ["临时救助", "走访发现"]
    assert records.loc["张家辉", "suspected"] == "城乡低保、临时救助"
    assert records.loc["古天乐", "suspected"] == "城乡低保、医疗救助"
    assert set(records["township"]) == {"城东街道"}
    # a required column still needs a real value: 无 there is what it says
    report = check_file(_workbook(tmp_path / "城东2.xlsx", [_row(finder="/", id_number="5001141960030444")]), AS_OF)
    assert sorted(e.code for e in report.errors) == ["invalid_id"]


@pytest.mark.parametrize("sentence", ["本周无新增发现对象", "本周无新增救助对象。", "无新增人员"])
def test_a_zero_report_written_as_a_sentence(tmp_path: Path, sentence: str):
    row = [None, sentence] + [None] * 12
    report = check_file(_workbook(tmp_path / "城东.xlsx", [row]), AS_OF)
    assert (report.status, report.rows, report.errors, report.township) == ("empty", 0, [], "城东街道")


def test_csv_as_excel_writes_it_with_a_sep_line_and_text_kept_as_text(tmp_path: Path):
    an_id = _valid_id()
    header = [c.header for c in spec.form().columns]
    person = ["1", "走访发现", "王干部", "城东街道", "刘德华", "本人患病，无劳动能力", "城乡低保", "", "", '说"明"',
              f'="{an_id}"', "新安村", "2026-11-02", ""]
    lines = ["sep=;", ";".join(header), ";".join(f'"{v}"' if '"' in v else v for v in
                                                 [x.replace('"', '""') if '"' in x else x for x in person])]
    path = tmp_path / "城东.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    report = check_file(path, AS_OF)
    assert (report.status, report.rows, report.errors) == ("accepted", 1, [])
    assert report.records["id_number"].tolist() == [an_id]
    assert report.records["remark"].tolist() == ['说"明"']
    assert report.records["_row"].tolist() == [3]  # the line as an editor shows it, sep= included


def test_a_statistics_sheet_beside_the_form_is_noted_not_an_error(tmp_path: Path):
    path = _workbook(tmp_path / "城东.xlsx", [_row(seq=1, name="刘德华")])
    wb = openpyxl.load_workbook(path)
    stats = wb.create_sheet("统计")
    stats.append(["所属乡镇", "发现方式", "疑似符合救助", "人数"])
    stats.append(["城东街道", "走访发现", "城乡低保", 1])
    wb.save(path)
    report = check_file(path, AS_OF)
    assert (report.status, report.rows, report.errors) == ("accepted", 1, [])
    assert any(n.startswith("工作表「统计」不是完整的明细表（没有发现人、对象姓名、家庭基本情况列），未读取") for n in report.notes)


def test_all_missing_columns_are_one_file_level_error(tmp_path: Path):
    header = [c.header for c in spec.form().columns]
    for key in ("household", "finder"):
        header[header.index(spec.form().column(key).header)] = None
    report = check_file(_workbook(tmp_path / "城东.xlsx", [_row()], header), AS_OF)
    assert report.status == "rejected" and report.rows == 0
    assert [(e.code, e.column) for e in report.errors] == [("missing_column", "发现人、家庭基本情况")]
    assert report.errors[0].message.startswith("表头中没有「发现人」「家庭基本情况」列（必填）。请按模板补上这些列")


def test_a_cell_showing_a_formula_error_is_said_to_be_one(tmp_path: Path):
    # calamine reads #N/A as empty: the ID would vanish and a #REF! name be called blank.
    import re
    import zipfile

    rows = [_row(seq=1, name="刘德华", id_number="#N/A", discovered="#VALUE!"), _row(seq=2, name="#REF!"),
            _row(seq="#DIV/0!", name="张学友")]  # 序号 is never used: its error sends no one back
    path = _workbook(tmp_path / "城东.xlsx", rows)  # openpyxl writes these as error cells (t="e")
    with zipfile.ZipFile(path) as zf:
        parts = {info.filename: zf.read(info) for info in zf.infolist()}
    sheet = parts["xl/worksheets/sheet1.xml"]
    assert sheet.count(b't="e"') == 4
    # as Excel writes a failed look-up: the formula, then its cached error
    lookup = "<f>VLOOKUP(E4,'名册'!A:B,2,0)</f>".encode()
    parts["xl/worksheets/sheet1.xml"] = re.sub(rb'(<c r="K4"[^>]*>)(<v>)', lambda m: m[1] + lookup + m[2], sheet)
    assert lookup in parts["xl/worksheets/sheet1.xml"]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    report = check_file(path, AS_OF)
    assert report.status == "partial" and (report.accepted, report.rejected) == (1, 2)
    found = [(e.row, spec.form().match(e.column), e.code, e.value) for e in report.errors]
    assert found == [(4, "id_number", "invalid_value", "#N/A"), (4, "discovered", "invalid_value", "#VALUE!"),
                     (5, "name", "invalid_value", "#REF!")]
    assert report.errors[0].message.startswith("「身份证号码」显示的是公式出错的结果「#N/A」，不是实际内容")


@pytest.mark.parametrize(("stem", "named"), [
    ("城西1128", date(2026, 11, 28)), ("城西1127修改", date(2026, 11, 27)), ("城西11月27日", date(2026, 11, 27)),
    ("附件：城南街道救助对象明细表20261121", date(2026, 11, 21)), ("石会镇_2026-11-21", date(2026, 11, 21)),
    ("城西0905", date(2026, 9, 5)), ("城西0505", None), ("城西20260505", date(2026, 5, 5)),  # a quarter, a year
    ("城西1205", None), ("城西20251205", date(2025, 12, 5)),
    ("城西街道", None), ("五里镇主动发现台账（11月）", None), ("城西20261129", None),  # after the run date
    ("城西1301", None), ("城西1120和1127", None),  # no such day; two dates
])
def test_date_in_a_file_name(stem: str, named):
    from pipeline.intake.verdict import date_in_name
    assert date_in_name(stem, AS_OF) == named


def test_a_village_sheet_without_a_required_column_is_missing_column_not_skipped(tmp_path: Path):
    path = _workbook(tmp_path / "城东.xlsx", [_row(seq=1, name="刘德华")])
    wb = openpyxl.load_workbook(path)
    village = wb.create_sheet("胜利社区")
    header = [c.header for c in spec.form().columns]
    household = header.index(spec.form().column("household").header)
    village.append([h for n, h in enumerate(header) if n != household])
    village.append([v for n, v in enumerate(_row(seq=1, name="张学友")) if n != household])
    wb.save(path)
    report = check_file(path, AS_OF)
    assert [(e.code, e.sheet, e.column) for e in report.errors] == [("missing_column", "胜利社区", "家庭基本情况")]
    assert report.status == "partial" and report.rows == 1


def test_a_form_only_on_a_hidden_sheet_says_so(tmp_path: Path):
    path = _workbook(tmp_path / "城东.xlsx", [_row(seq=1, name="刘德华")])
    wb = openpyxl.load_workbook(path)
    wb.create_sheet("说明").append(["请见隐藏表"])
    wb.active.sheet_state = "hidden"
    wb.active = 1
    wb.save(path)
    report = check_file(path, AS_OF)
    assert [e.code for e in report.errors] == ["no_header"]
    assert report.errors[0].message.startswith("明细表在隐藏的工作表「Sheet」中，隐藏的工作表不读取。")


def test_people_only_on_a_hidden_sheet_are_not_a_zero_report(tmp_path: Path):
    path = _workbook(tmp_path / "城东.xlsx", [])  # the visible form: the header only
    wb = openpyxl.load_workbook(path)
    week = wb.create_sheet("第47周")
    for values in wb.active.iter_rows(values_only=True):
        week.append(values)
    week.append(_row(seq=1, name="刘德华"))
    week.append(_row(seq=2, name="张学友"))
    week.sheet_state = "hidden"
    wb.save(path)
    report = check_file(path, AS_OF)
    assert (report.status, [e.code for e in report.errors]) == ("rejected", ["no_header"])
    assert report.errors[0].message.startswith("明细表中没有填写人员，但隐藏的工作表「第47周」中有 2 行人员")


def test_a_column_not_on_the_form_is_named_in_a_note(tmp_path: Path):
    header = [c.header for c in spec.form().columns] + ["户籍地址"]
    header[header.index(spec.form().column("result").header)] = "办理情况"  # a variant: read as 办理结果
    row = _row(seq=1, name="刘德华", investigation="已入户核实", result="纳入城乡低保，2026年11月20日") + ["新安村3组"]
    report = check_file(_workbook(tmp_path / "城东.xlsx", [row], header), AS_OF)
    assert (report.status, report.errors) == ("accepted", [])
    assert report.records["status"].tolist() == ["new_assisted"]
    assert "工作表「Sheet」表头中的「户籍地址」不是模板上的列，这些列没有读取；" in " ".join(report.notes)


@pytest.mark.parametrize("numbers", [[f"({n})" for n in range(1, 15)], [f"（{n}）" for n in range(1, 15)],
                                     list("①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭"), list("一二三四五六七八九十") + ["十一", "十二", "十三", "十四"]],
                         ids=["brackets", "full-width brackets", "circled", "hanzi"])
def test_column_numbers_as_printed_forms_write_them(tmp_path: Path, numbers: list):
    report = check_file(_workbook(tmp_path / "城东.xlsx", [numbers, _row(seq=1, name="刘德华")]), AS_OF)
    assert (report.status, report.rows, report.errors) == ("accepted", 1, [])


def test_the_template_pasted_twice_into_one_sheet(tmp_path: Path):
    # The second block's 填报单位 and title rows are not people; its header is skipped too.
    header = [c.header for c in spec.form().columns]
    rows = [_row(seq=1, name="刘德华"), [spec.form_title()], ["填报单位：", None, "城东街道", None, "（盖章）"],
            header, _row(seq=1, name="张学友")]
    report = check_file(_workbook(tmp_path / "城东.xlsx", rows), AS_OF)
    assert (report.status, report.rows, report.errors) == ("accepted", 2, [])


@pytest.mark.parametrize("name", ["刘德明 陈玉梅", "刘德明夫妇", "李四之妻", "周建国一家", "吴春燕户", "王五夫妻二人"])
def test_a_name_cell_holding_more_than_one_person_is_sent_back(tmp_path: Path, name: str):
    report = check_file(_workbook(tmp_path / "城东.xlsx", [_row(seq=1, name=name), _row(seq=2, name="张 三")]), AS_OF)
    assert [(e.row, e.code) for e in report.errors] == [(4, "invalid_value")]
    assert report.errors[0].message.startswith(f"「{name}」不是一个人的姓名。每行只填一个人")
    assert report.records["name"].tolist() == ["张三"]


@pytest.mark.parametrize("name", ["Wang Wei", "wangwei", "王Wei"])
def test_a_name_in_pinyin_is_asked_for_in_chinese_characters(tmp_path: Path, name: str):
    report = check_file(_workbook(tmp_path / "城东.xlsx", [_row(seq=1, name=name)]), AS_OF)
    assert [(e.row, e.code) for e in report.errors] == [(4, "invalid_value")]
    assert report.errors[0].message == f"「{name}」不是汉字姓名。请用汉字填写身份证上的姓名（少数民族姓名用“·”分隔）。"


def test_an_id_born_in_the_future_or_before_1900_is_wrong(tmp_path: Path):
    rows = [_row(seq=n, name=name, id_number=_valid_id(base)) for n, (name, base) in
            enumerate([("刘德华", "50011420270101001"), ("张学友", "50011418900101001")], start=1)]
    report = check_file(_workbook(tmp_path / "城东.xlsx", rows), AS_OF)
    assert [(e.row, e.code) for e in report.errors] == [(4, "invalid_id"), (5, "invalid_id")]
    assert "出生日期不存在（或在今天之后、1900年之前）" in report.errors[0].message


def test_one_id_number_for_two_names_sends_every_such_row_back_on_its_id(tmp_path: Path):
    an_id = _valid_id()
    rows = [_row(seq=1, name="王秀华", id_number=an_id), _row(seq=2, name="李欣", id_number=an_id),
            _row(seq=3, name="张学友", id_number=_valid_id("50011419700304448")),
            _row(seq=4, name="张学友", id_number=_valid_id("50011419700304448"))]
    report = check_file(_workbook(tmp_path / "城东.xlsx", rows), AS_OF)
    assert [(e.row, e.column, e.code) for e in report.errors] == [
        (4, "身份证号码", "duplicate_row"), (5, "身份证号码", "duplicate_row"), (7, "对象姓名", "duplicate_row")]
    assert report.errors[0].message.startswith("身份证号码与第5行相同，但姓名不同（「王秀华」「李欣」）。")
    assert report.errors[2].message.startswith("与第6行是同一人（身份证号码和姓名都相同）")
    assert (report.accepted, report.rejected) == (1, 3)


@pytest.mark.parametrize("village, said", [
    ("新安村", "与第4行的乡镇、村（社区）、姓名都相同，又都没有有效的身份证号码，会被当作同一人。"),
    (None, "与第4行的乡镇、姓名都相同，又都没有有效的身份证号码，会被当作同一人。"),
])
def test_namesakes_without_id_numbers_are_told_how_to_tell_them_apart(tmp_path: Path, village, said):
    rows = [_row(seq=1, name="王秀英", village=village), _row(seq=2, name="王秀英", village=village)]
    report = check_file(_workbook(tmp_path / "城东.xlsx", rows), AS_OF)
    assert [(e.row, e.code) for e in report.errors] == [(5, "duplicate_row")]
    assert report.errors[0].message.startswith(said)
    assert "如果是同名的两个人，请分别填写身份证号码" in report.errors[0].message


@pytest.mark.parametrize("phone, valid", [
    ("13812345678", True), (13812345678, True), ("138 1234 5678", True), ("023-79222164", True),
    ("（023）79222164", True), ("79222164", True), ("13812345678、023-79222164", True), ("+8613812345678", True),
    ("1381234567", False), ("138123456789", False), ("1234", False), ("电话13812345678", False),
])
def test_a_phone_is_a_mobile_of_eleven_digits_or_a_landline(tmp_path: Path, phone, valid: bool):
    report = check_file(_workbook(tmp_path / "城东.xlsx", [_row(seq=1, phone=phone)]), AS_OF)
    assert [(e.column, e.code) for e in report.errors] == ([] if valid else [("联系电话", "invalid_value")])
    if not valid:
        assert report.errors[0].message.startswith(f"联系电话「{phone}」格式不对：手机号是以1开头的11位数字")


def test_a_header_written_twice_is_read_not_called_unknown(tmp_path: Path):
    header = [c.header for c in spec.form().columns] + ["备注", "所属乡镇"]
    rows = [_row(seq=1, name="刘德华", remark="独居") + ["子女在外地", "城西街道"],
            _row(seq=2, name="张学友") + ["低保边缘户", None]]
    report = check_file(_workbook(tmp_path / "城东.xlsx", rows, header), AS_OF)
    assert (report.status, report.errors) == ("accepted", [])
    assert report.records["remark"].tolist() == ["独居；子女在外地", "低保边缘户"]
    assert report.records["township"].tolist() == ["城东街道", "城东街道"]
    assert report.notes == ["工作表「Sheet」表头中「备注」出现了2次，各列的内容已合并读取。",
                            "工作表「Sheet」表头中「所属乡镇（街道）」出现了2次，只读取了第一列，其余1列没有读取，"
                            "请删除多余的列或把内容合并到第一列。"]


@pytest.mark.parametrize("township, hint", [
    ("成西街道", "最接近的是「城西街道」，"), ("黔江区成西街道", "最接近的是「城西街道」，"),
    ("城区", None),                       # as near to 城东、城南、城西街道: none is named
    ("石柱县城西街道", None), ("渝中区城西街道", None),  # another county's township is not 黔江's
])
def test_the_nearest_township_is_named_only_when_it_is_clearly_meant(tmp_path: Path, township, hint):
    report = check_file(_workbook(tmp_path / "城东.xlsx", [_row(seq=1, township=township)]), AS_OF)
    [error] = report.errors
    assert (error.column, error.code) == ("所属乡镇（街道）", "invalid_value")
    assert error.message.startswith(f"「{township}」不是黔江区的乡镇（街道）。{hint or '请填写'}")


def test_a_wrong_type_whose_nearest_spelling_would_mislead_is_explained(tmp_path: Path):
    rows = [_row(seq=1, suspected="低保边缘"), _row(seq=2, name="张学友", suspected="临时救助、低保户口")]
    report = check_file(_workbook(tmp_path / "城东.xlsx", rows), AS_OF)
    assert [(e.row, e.code) for e in report.errors] == [(4, "invalid_value"), (5, "invalid_value")]
    assert report.errors[0].message.startswith("「低保边缘」不是规定的救助类型。低保边缘家庭不是救助类型，请填写这户可能符合的救助")
    assert "城乡低保」。" not in report.errors[0].message.split("请从")[0]
    assert "「低保户口」可改为「城乡低保」" in report.errors[1].message


def test_a_visible_sheet_without_the_form_is_named_and_the_templates_own_sheets_are_not(tmp_path: Path):
    path = _workbook(tmp_path / "城东.xlsx", [_row(seq=1)])
    wb = openpyxl.load_workbook(path)
    wb.create_sheet("统计").append(["村（社区）", "人数"])
    wb["统计"].append(["新安村", 1])
    wb.create_sheet("说明").append(["填表说明：每行填一人"])
    wb.create_sheet("Sheet3")  # empty
    wb.save(path)
    report = check_file(path, AS_OF)
    assert (report.status, report.rows) == ("accepted", 1)
    assert report.notes == ["工作表「统计」中没有明细表的表头，未读取；如果其中有要报送的人员，请填到明细表中。"]


def test_a_zero_report_that_names_no_township_says_so(tmp_path: Path):
    from pipeline.reports.template import write_template

    report = check_file(write_template(tmp_path / "明细表.xlsx"), AS_OF)
    assert (report.status, report.township) == ("empty", None)
    assert report.notes == ["看不出是哪个乡镇（街道）报送的：请在“填报单位”一栏填写乡镇（街道）名称，或在文件名中写明"
                            "（如 城西街道1127零报告.xlsx），否则区民政局无法把这份报表计入你乡镇（街道）。"]
    named = write_template(tmp_path / "城西街道明细表.xlsx", township="城西街道")
    assert check_file(named, AS_OF).notes == []


def _with_visits(path: Path, seen: list[str]) -> Path:
    wb = openpyxl.load_workbook(path)
    ws = wb.create_sheet(spec.visits_table().sheet)
    ws.append([c.header for c in spec.visits_table().columns])
    for value in seen:
        ws.append(["刘德华", None, "城东街道", "新安村", "2026-11-20", "协理员王五", value, None])
    wb.save(path)
    return path


def test_how_clerks_write_whether_the_person_was_seen(tmp_path: Path):
    said = ["未见到本人", "未见面", "已见面", "见到了", "本人在家", "是（在家）", "否（外出）", "√", "没碰到", "见着了"]
    report = check_file(_with_visits(_workbook(tmp_path / "城东.xlsx", [_row(seq=1)]), said), AS_OF)
    assert report.visits["seen"].tolist() == ["否", "否", "是", "是", "是", "是", "否", "是"]
    wrong = {e.value: e.message for e in report.errors}
    assert list(wrong) == ["没碰到", "见着了"]
    # A text that negates is never told to become 是, nor the other way round.
    assert "最接近的是「否」" in wrong["没碰到"] and "最接近的是「是」" in wrong["见着了"]


def test_a_file_of_visits_only_says_the_weekly_form_is_still_to_be_sent(tmp_path: Path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = spec.visits_table().sheet
    ws.append([c.header for c in spec.visits_table().columns])
    ws.append(["刘德华", None, "城东街道", "新安村", "2026-11-20", "协理员王五", "是", None])
    wb.save(tmp_path / "城东街道走访1127.xlsx")
    report = check_file(tmp_path / "城东街道走访1127.xlsx", AS_OF)
    assert (report.status, report.has_form, len(report.visits)) == ("accepted", False, 1)
    assert report.notes == ["本文件只有走访记录，没有明细表。每周的明细表请另行报送（本周没有新发现对象的，报送只有表头的"
                            "空表，即零报告），否则本乡镇（街道）会被列为本周未报送。"]


@pytest.mark.parametrize("typed, read", [("欧阳 娜娜", "欧阳娜娜"), ("司马　相如", "司马相如"), ("张 三", "张三")])
def test_a_space_inside_one_name_goes_a_compound_surname_included(tmp_path: Path, typed: str, read: str):
    report = check_file(_workbook(tmp_path / "城东.xlsx", [_row(seq=1, name=typed)]), AS_OF)
    assert (report.status, report.records["name"].tolist()) == ("accepted", [read])
