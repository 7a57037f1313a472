"""The synthetic submissions: deterministic, readable in every format, laid out as
documented, and with every injected error exactly where `Submission.expected` says."""

from __future__ import annotations

import csv
import hashlib
import io
import random
import re
import unicodedata
import zipfile
from collections import Counter
from datetime import date, datetime

import pytest
import python_calamine as calamine
import xlrd

from pipeline.demo import synth, synth_text
from pipeline.rules import spec, townships
from pipeline.rules.idcard import id_problem

AS_OF = synth.AS_OF
ALL_ERRORS = {"required": 2, "invalid_value": 3, "invalid_date": 2, "invalid_id": 2,
              "duplicate_row": 2, "inconsistent_result": 3}


def text(value) -> str:
    """A cell as a person reads it (3.0 → "3", a long float keeps its exponent)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def decoded(path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030")


def read_rows(path, sheet: str | None = None) -> list[list]:
    """The rows of a sheet (the first one by default) from row 1 / line 1."""
    if path.suffix == ".csv":
        return list(csv.reader(io.StringIO(decoded(path), newline="")))
    book = calamine.CalamineWorkbook.from_path(str(path))
    return book.get_sheet_by_name(sheet or book.sheet_names[0]).to_python(skip_empty_area=False)


def line_of(path, line: int) -> list[str]:
    """The CSV record that starts on a physical line."""
    reader = csv.reader(io.StringIO(decoded(path), newline=""))
    start = 1
    for record in reader:
        if start == line:
            return record
        start = reader.line_num + 1
    raise AssertionError(f"no record starts on line {line}")


def row_at(path, sheet: str, row: int) -> list:
    if path.suffix == ".csv":
        return line_of(path, row)
    return read_rows(path, sheet)[row - 1]


def columns_of(header: list) -> dict[str, int]:
    """Column key → index, matched the way the reader matches headers."""
    found = {}
    for index, cell in enumerate(header):
        key = spec.form().match(text(cell))
        if key and key not in found:
            found[key] = index
    return found


# --- determinism --------------------------------------------------------------------


def test_same_seed_same_people_and_other_seed_other_people():
    first = synth.make_people("城西街道", 40, seed=5)
    assert first == synth.make_people("城西街道", 40, seed=5)
    assert [p.name for p in first] != [p.name for p in synth.make_people("城西街道", 40, seed=6)]


@pytest.mark.parametrize("suffix", ["csv", "xlsx", "xlsm", "xls"])
def test_same_seed_gives_byte_identical_files(tmp_path, suffix):
    options = dict(errors={"invalid_id": 1, "duplicate_row": 1}, headers="messy", blank_rows=True,
                   with_visits=suffix != "csv", extra_sheets=suffix != "csv")
    one = synth.make_submission(tmp_path / "a" / f"城西.{suffix}", "城西街道", 60, seed=3, **options)
    two = synth.make_submission(tmp_path / "b" / f"城西.{suffix}", "城西街道", 60, seed=3, **options)
    assert one.path.read_bytes() == two.path.read_bytes()
    assert one.expected == two.expected


def test_district_is_deterministic(tmp_path):
    one = synth.make_district(tmp_path / "a", rows_per_township=10, townships=["城西街道", "石会镇"], fmt="mixed")
    two = synth.make_district(tmp_path / "b", rows_per_township=10, townships=["城西街道", "石会镇"], fmt="mixed")
    digest = [hashlib.sha256(s.path.read_bytes()).hexdigest() for s in one]
    assert digest == [hashlib.sha256(s.path.read_bytes()).hexdigest() for s in two]
    assert [s.path.name for s in one] == [s.path.name for s in two]


# --- people -------------------------------------------------------------------------


def test_people_are_valid_rows_of_the_form():
    people = synth.make_people("太极镇", 300, seed=2)
    keys = set(spec.form().keys)
    assert all(set(p) - {"outcome"} == keys for p in people)
    methods = set(spec.vocabulary("methods").values)
    types = spec.vocabulary("assistance_types")
    for p in people:
        assert p.method in methods and p.township == "太极镇" and p.village in synth.villages("太极镇")
        assert all(types.canonical(t) for t in re.split("[、，]", p.suspected))
        assert re.fullmatch(r"[\u4e00-\u9fff]+(·[\u4e00-\u9fff]+)?", p.name)
        assert p.discovered <= AS_OF and (AS_OF - p.discovered).days <= 75
        assert p.phone is None or re.fullmatch(r"1\d{10}", p.phone)
        assert p.result is None or p.investigation or p.outcome == "pending"
    assert len({p.name for p in people}) == len(people)
    assert len({p.id_number for p in people}) == len(people)


def test_ids_have_valid_check_digits_birth_dates_and_sex():
    people = synth.make_people("城东街道", 500, seed=9)
    for p in people:
        assert id_problem(p.id_number) is None
        assert p.id_number.startswith("500114")
        birth = date(int(p.id_number[6:10]), int(p.id_number[10:12]), int(p.id_number[12:14]))
        assert 17 <= (AS_OF - birth).days // 365 <= 93
    rng = random.Random(4)
    for _ in range(200):
        male = rng.random() < 0.5
        number = synth.make_id(rng, date(1960, 2, 29), male=male)
        assert id_problem(number) is None and number[6:14] == "19600229"
        assert int(number[16]) % 2 == male


def test_mix_gives_exact_counts():
    people = synth.make_people("城南街道", 101, mix={"new_assisted": 0.5, "pending": 0.5})
    counts = Counter(p.outcome for p in people)
    assert sorted(counts.values()) == [50, 51] and set(counts) == {"new_assisted", "pending"}
    assert all(p.result in (None, *synth_text.PENDING_RESULTS) for p in people if p.outcome == "pending")


def test_results_read_as_the_outcome_they_were_made_for():
    from pipeline.rules.results import parse_result

    for p in synth.make_people("黎水镇", 600, seed=1):
        outcome = parse_result(p.result, remark=p.remark, investigation=p.investigation, as_of=AS_OF)
        assert (outcome.status, outcome.problem) == (p.outcome, None), p


def test_person_is_a_mapping():
    person = synth.make_people("城西街道", 1)[0]
    assert person["name"] == person.name and dict(person)["outcome"] == person.outcome
    copy = person.copy()
    copy["name"] = None
    assert person.name and copy.get("name") is None
    with pytest.raises(KeyError):
        person["nope"] = 1


def test_visits_cover_the_key_population_this_month():
    people = synth.make_people("城西街道", 200, seed=4)
    visits = synth.make_visits(people, AS_OF, seed=4, seen_share=0.5)
    key_population = {p.name for p in people if p.outcome in ("pending", "observation")}
    assert visits and {v["name"] for v in visits} <= key_population
    assert all(set(v) == set(spec.visits_table().keys) for v in visits)
    assert all(v["visit_date"] <= AS_OF for v in visits)
    assert {v["seen"] for v in visits} == set(spec.vocabulary("seen").values[:2])
    this_month = [v for v in visits if v["visit_date"] >= AS_OF.replace(day=1)]
    assert len(this_month) >= 0.7 * len(key_population)


# --- files --------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["xlsx", "xlsm", "xls"])
def test_workbook_layout(tmp_path, suffix):
    sub = synth.make_submission(tmp_path / f"城西街道.{suffix}", "城西街道", 12, seed=1,
                                filled_date=date(2026, 11, 27), with_visits=True)
    rows = read_rows(sub.path)
    assert rows[0][0] == spec.form_title()
    assert rows[1][0] == "填报单位：黔江区城西街道（盖章）"
    assert "填报日期：2026年11月27日" in rows[1]
    assert [text(c) for c in rows[2]] == [c.header for c in spec.form().columns]
    assert sub.header_row == 3 and sub.row_numbers == list(range(4, 16))
    for person, number in zip(sub.rows, sub.row_numbers):
        assert text(rows[number - 1][4]) == person["name"]
    footer = [text(c) for row in rows[15:] for c in row if text(c)]
    assert any(t.startswith("填表人：") for t in footer) and any(t.startswith("审核人：") for t in footer)
    visits = read_rows(sub.path, spec.visits_table().sheet)
    assert [text(c) for c in visits[0]] == [c.header for c in spec.visits_table().columns]
    assert len(visits) == len(sub.visits) + 1


def test_xls_is_real_biff8_and_xlrd_reads_dates(tmp_path):
    sub = synth.make_submission(tmp_path / "石会.xls", "石会镇", 5, seed=2)
    assert sub.path.read_bytes()[:8] == bytes.fromhex("D0CF11E0A1B11AE1")  # OLE2 container
    book = xlrd.open_workbook(str(sub.path))
    sheet = book.sheet_by_index(0)
    assert sheet.cell_value(2, 4) == spec.form().column("name").header
    column = spec.form().keys.index("discovered")
    cell = sheet.cell(3, column)
    assert cell.ctype == xlrd.XL_CELL_DATE
    assert xlrd.xldate_as_datetime(cell.value, book.datemode).date() == sub.rows[0]["discovered"]


def test_xlsm_is_macro_enabled_without_macros(tmp_path):
    sub = synth.make_submission(tmp_path / "舟白.xlsm", "舟白街道", 3)
    with zipfile.ZipFile(sub.path) as archive:
        types = archive.read("[Content_Types].xml").decode()
        assert synth.XLSM_MAIN in types and "vbaProject" not in " ".join(archive.namelist())


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_header_on_line_one_in_each_encoding(tmp_path, encoding):
    sub = synth.make_submission(tmp_path / "城南.csv", "城南街道", 8, seed=3, encoding=encoding)
    data = sub.path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") == (encoding == "utf-8-sig")
    rows = list(csv.reader(io.StringIO(data.decode(encoding if encoding != "utf-8" else "utf-8-sig"), newline="")))
    assert rows[0] == [c.header for c in spec.form().columns]
    assert sub.header_row == 1 and sub.row_numbers == list(range(2, 10))
    assert [r[4] for r in rows[1:]] == [p["name"] for p in sub.rows]
    assert sub.sheet == "城南"


def test_csv_with_messy_headers_counts_physical_lines(tmp_path):
    sub = synth.make_submission(tmp_path / "城南.csv", "城南街道", 4, headers="messy")
    lines = sub.path.read_bytes().decode("utf-8").replace("\r\n", "\n").split("\n")
    first = next(i for i, line in enumerate(lines) if line.startswith("1,"))
    assert first > 1 and sub.row_numbers[0] == first + 1  # the header spans several lines
    assert line_of(sub.path, sub.row_numbers[0])[4] == sub.rows[0]["name"]


@pytest.mark.parametrize("style", ["official", "short", "messy"])
def test_every_header_style_matches_the_right_columns(tmp_path, style):
    sub = synth.make_submission(tmp_path / "正阳.xlsx", "正阳街道", 3, headers=style)
    header = read_rows(sub.path)[sub.header_row - 1]
    assert list(columns_of(header)) == spec.form().keys
    if style == "short":
        assert {"发现方式", "所属乡镇", "姓名", "办理结果"} <= {text(c) for c in header}
    if style == "messy":
        assert any("\n" in text(c) for c in header) and not any("（" in text(c) for c in header)


def test_optional_columns_off_writes_the_official_ten(tmp_path):
    sub = synth.make_submission(tmp_path / "a.xlsx", "城东街道", 3, optional_columns=False)
    header = [text(c) for c in read_rows(sub.path)[2] if text(c)]
    assert header == [c.header for c in spec.form().columns if c.official]


def test_layout_switches_and_extra_sheets(tmp_path):
    sub = synth.make_submission(tmp_path / "a.xlsx", "城东街道", 30, title=False, preamble=False, footer=False,
                                blank_rows=True, extra_sheets=True, seed=8)
    rows = read_rows(sub.path)
    assert sub.header_row == 1 and [text(c) for c in rows[0]][:2] == ["序号", spec.form().column("method").header]
    assert sub.row_numbers[-1] > 31  # blank rows in between
    assert sum(1 for n in sub.row_numbers if text(rows[n - 1][4])) == 30
    book = calamine.CalamineWorkbook.from_path(str(sub.path))
    visible = {m.name: m.visible == calamine.SheetVisibleEnum.Visible for m in book.sheets_metadata}
    assert visible == {"Sheet1": True, "Sheet2": True, synth_text.LOOKUP_SHEET: False}


def test_dates_as_text_and_messy_values(tmp_path):
    sub = synth.make_submission(tmp_path / "a.xlsx", "太极镇", 200, seed=5, dates_as="text", messy=True,
                                with_visits=True)
    rows = read_rows(sub.path)
    columns = columns_of(rows[2])
    discovered = [rows[n - 1][columns["discovered"]] for n in sub.row_numbers]
    assert all(isinstance(v, str) for v in discovered)
    forms = {re.sub(r"\d+", "9", unicodedata.normalize("NFKC", v)) for v in discovered}
    assert {"9年9月9日", "9.9.9", "9/9/9", "9-9-9"} <= forms
    townships = {text(rows[n - 1][columns["township"]]) for n in sub.row_numbers}
    assert {"太极镇", "太极", "太极乡", "黔江区太极镇", "太极镇人民政府"} <= townships
    names = [text(rows[n - 1][columns["name"]]) for n in sub.row_numbers]
    assert any(" " in n or "\u3000" in n for n in names)
    assert any(isinstance(rows[n - 1][columns["phone"]], float) for n in sub.row_numbers)
    assert any(re.search("[０-９]", text(rows[n - 1][columns["id_number"]])) for n in sub.row_numbers)


def test_zero_report_has_header_and_no_data(tmp_path):
    sub = synth.write_zero_report(tmp_path / "石会镇1128.xlsx", "石会镇", filled_date=date(2026, 11, 27))
    rows = read_rows(sub.path)
    assert "石会镇" in rows[1][0] and sub.rows == [] and sub.expected == []
    assert [text(c) for c in rows[2]] == [c.header for c in spec.form().columns]
    firsts = [next(text(c) for c in row if text(c)) for row in rows[3:] if any(text(c) for c in row)]
    assert firsts and all(t.startswith(tuple(spec.footer_labels())) for t in firsts)


def test_assistants_roster_leaves_the_last_villages_out(tmp_path):
    path = synth.write_assistants(tmp_path / "城西协理员.xlsx", "城西街道", missing=2)
    rows = read_rows(path, spec.assistants_table().sheet)
    assert [text(c) for c in rows[0]] == [c.header for c in spec.assistants_table().columns]
    village = spec.assistants_table().keys.index("village")
    assert [r[village] for r in rows[1:]] == list(synth.villages("城西街道")[:-2])


def test_district_writes_one_file_per_township_with_unique_ids(tmp_path):
    subs = synth.make_district(tmp_path, rows_per_township=20, fmt="mixed", seed=1,
                               errors={"城西街道": {"invalid_id": 1}})
    assert len(subs) == len(townships.listed()) == len(list(tmp_path.iterdir()))
    for sub, town in zip(subs, townships.listed()):
        assert sub.township == town.name and (town.name in sub.path.name or town.short in sub.path.name)
    ids = [p["id_number"] for s in subs for p in s.rows if isinstance(p["id_number"], str)]
    assert len(ids) == len(set(ids))
    assert [len(s.expected) for s in subs if s.expected] == [1]
    assert {s.path.suffix for s in subs} > {".xlsx"}


# --- injected errors ----------------------------------------------------------------


def _carries(code: str, key: str, value, row: list, columns: dict[str, int], earlier: list[list]) -> bool:
    """Whether a cell really holds the injected mistake."""
    shown = unicodedata.normalize("NFKC", text(value)).strip()
    if code == "required":
        return shown == ""
    if code == "invalid_value":
        if key == "township":
            return townships.canonical(shown) is None
        vocab = spec.vocabulary("methods" if key == "method" else "assistance_types")
        return vocab.canonical(shown) is None
    if code == "invalid_date":
        return shown in synth_text.BAD_DATES or "2022.13.45" in shown
    if code == "invalid_id":
        return id_problem(shown.upper()) is not None
    if code == "duplicate_row":
        def identity(r):
            number = text(r[columns["id_number"]]) if "id_number" in columns else ""
            if number:
                return number
            return tuple(text(r[columns[k]]) for k in ("township", "village", "name") if k in columns)
        return identity(row) in {identity(r) for r in earlier}
    if code == "inconsistent_result":
        day = re.search(r"(\d{4})年(\d{1,2})月(\d{1,2})日", shown)
        late = day and date(*map(int, day.groups())) > AS_OF
        return shown.startswith("纳入") and (not day or late or not text(row[columns["investigation"]]))
    raise AssertionError(code)


@pytest.mark.parametrize("suffix, options", [
    ("xlsx", {}),
    ("xls", {"headers": "short", "blank_rows": True, "extra_sheets": True}),
    ("xlsm", {"headers": "messy", "dates_as": "text", "with_visits": True}),
    ("csv", {"encoding": "gb18030"}),
    ("xlsx", {"with_ids": False, "messy": True, "blank_rows": True}),
])
def test_expected_errors_point_at_the_injected_cells(tmp_path, suffix, options):
    sub = synth.make_submission(tmp_path / f"黄溪.{suffix}", "黄溪镇", 60, seed=11, errors=ALL_ERRORS, **options)
    assert Counter(e.code for e in sub.expected) == Counter(ALL_ERRORS)
    assert len({e.row for e in sub.expected}) == sum(ALL_ERRORS.values())  # one error per row
    if suffix == "csv":
        header = line_of(sub.path, sub.header_row)
        rows = {n: line_of(sub.path, n) for n in sub.row_numbers}
    else:
        sheet = read_rows(sub.path, sub.sheet)
        header, rows = sheet[sub.header_row - 1], {n: sheet[n - 1] for n in sub.row_numbers}
    columns = columns_of(header)
    for e in sub.expected:
        row = rows[e.row]
        earlier = [rows[n] for n in sub.row_numbers if n < e.row]
        assert _carries(e.code, e.column_key, row[columns[e.column_key]], row, columns, earlier), e


def test_invalid_id_includes_a_float_number_cell(tmp_path):
    sub = synth.make_submission(tmp_path / "a.xlsx", "城东街道", 10, errors={"invalid_id": 2}, seed=1)
    rows = read_rows(sub.path)
    column = columns_of(rows[2])["id_number"]
    cells = [rows[e.row - 1][column] for e in sub.expected]
    assert any(isinstance(c, float) and c > 1e17 for c in cells)


def test_without_optional_columns_invalid_date_goes_to_the_result(tmp_path):
    sub = synth.make_submission(tmp_path / "a.xlsx", "城东街道", 10, errors={"invalid_date": 1},
                                optional_columns=False)
    assert [(e.column_key, e.code) for e in sub.expected] == [("result", "invalid_date")]
    with pytest.raises(ValueError):
        synth.make_submission(tmp_path / "b.xlsx", "城东街道", 10, errors={"invalid_id": 1}, optional_columns=False)


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(ValueError):
        synth.make_submission(tmp_path / "a.xlsx", "城东街道", 3, errors={"required": 3})
    with pytest.raises(ValueError):
        synth.make_submission(tmp_path / "a.xlsx", "城东街道", 3, errors={"typo": 1})
    with pytest.raises(ValueError):
        synth.make_people("城北街道", 3)
    with pytest.raises(ValueError):
        synth.write_submission(tmp_path / "a.ods", [])


@pytest.mark.parametrize("suffix, options", [
    ("xlsx", {"with_visits": True}),
    ("xls", {"headers": "short", "blank_rows": True, "extra_sheets": True}),
    ("xlsm", {"headers": "messy", "dates_as": "text"}),
    ("csv", {"encoding": "utf-8-sig", "messy": True}),
    ("xlsx", {"optional_columns": False, "errors": {**ALL_ERRORS, "invalid_id": 0}}),
])
def test_validator_reports_exactly_the_expected_errors(tmp_path, suffix, options):
    """The contract with pipeline.intake.check: valid rows pass, injected errors are reported where expected."""
    from pipeline.intake.check import check_file

    options = {"errors": ALL_ERRORS, **options}
    sub = synth.make_submission(tmp_path / f"濯水.{suffix}", "濯水镇", 60, seed=21, **options)
    report = check_file(sub.path, AS_OF)
    got = sorted((i.sheet, i.row, spec.form().match(i.column), i.code) for i in report.errors)
    assert got == [(e.sheet, e.row, e.column_key, e.code) for e in sub.expected]
    assert report.rows == 60 and report.township == "濯水镇"


def test_validator_accepts_clean_submissions_and_zero_reports(tmp_path):
    from pipeline.intake.check import check_file

    sub = synth.make_submission(tmp_path / "冯家.xlsx", "冯家街道", 150, seed=2, messy=True, dates_as="text",
                                with_visits=True, blank_rows=True)
    report = check_file(sub.path, AS_OF)
    assert (report.status, report.errors, report.rows) == ("accepted", [], 150)
    zero = synth.write_zero_report(tmp_path / "冯家1128.xlsx", "冯家街道")
    assert check_file(zero.path, AS_OF).status == "empty"
