"""guard.inspect on ordinary, broken, mislabelled and hostile files.

Every case also proves the guard stayed cheap: under 3 s and a few MB of allocations,
whatever the file claims to contain.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import resource
import subprocess
import sys
import time
import tracemalloc
import zipfile
from datetime import date
from pathlib import Path

import pytest

from pipeline.errors import InputFileError
from pipeline.intake import guard, guard_xlsx
from tests import hostile

MAX_SECONDS = 3.0
MAX_TRACED_BYTES = 16 * 1024 * 1024
MAX_RSS_GROWTH_KB = 64 * 1024
HAN = re.compile(r"[\u4e00-\u9fff]")

# Files the process opens while a check runs, seen through the interpreter's audit hook:
# proof that an external entity did not make anything read /etc/passwd.
_opened: list[str] | None = None


def _audit(event: str, args: tuple) -> None:
    if event == "open" and _opened is not None:
        _opened.append(str(args[0]))


sys.addaudithook(_audit)


def run_guard(path: Path) -> tuple[str, str, list[str]]:
    """(type or error code, message, files opened), asserting time and memory bounds."""
    global _opened
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    _opened = []
    tracemalloc.start()
    start = time.perf_counter()
    try:
        outcome, message = guard.inspect(path), ""
    except InputFileError as exc:
        outcome, message = exc.code, exc.message
    finally:
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        opened, _opened = _opened, None
    rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    assert elapsed < MAX_SECONDS, f"{path.name}: {elapsed:.2f} s"
    assert peak < MAX_TRACED_BYTES, f"{path.name}: {peak / 1e6:.1f} MB allocated"
    assert rss_growth < MAX_RSS_GROWTH_KB, f"{path.name}: RSS grew {rss_growth} KB"
    return outcome, message, opened


CASES = [
    # accepted: the type comes from the content
    (hostile.rows_xlsx, "xlsx"),
    (hostile.long_cell, "xlsx"),
    (hostile.wide_sheet, "xlsx"),
    (hostile.formula_cells, "xlsx"),
    (hostile.macro_workbook, "xlsm"),
    (hostile.xls, "xls"),
    (hostile.real_xls_named_xlsx, "xls"),
    (hostile.xlsx_named_xls, "xlsx"),
    (hostile.csv_utf8, "csv"),
    (hostile.csv_utf8_bom, "csv"),
    (hostile.csv_gb18030, "csv"),
    # read since issue 19: Word, Kingsoft's files, exports named .xls, archives
    (hostile.docx_named_xlsx, "docx"),
    (hostile.doc_named_xlsx, "doc"),
    (hostile.plain_zip_named_xlsx, "zip"),
    (hostile.html_named_xls, "html"),
    (hostile.et_file, "et"),
    # broken
    (hostile.zero_byte, "unreadable"),
    (hostile.random_bytes, "unreadable"),
    (hostile.random_bytes_xls, "unreadable"),
    (hostile.truncated_zip, "unreadable"),
    (hostile.corrupt_member, "unreadable"),
    (hostile.zip_without_workbook, "unreadable"),
    (hostile.zip_without_relationships, "unreadable"),
    (hostile.workbook_without_sheets, "unreadable"),
    (hostile.empty_zip, "unreadable"),
    (hostile.broken_cfb, "unreadable"),
    (hostile.csv_utf16, "unreadable"),
    (hostile.csv_undecodable, "unreadable"),
    # password-protected
    (hostile.encrypted_xlsx, "encrypted"),
    (hostile.encrypted_xls, "encrypted"),
    (hostile.zip_password_member, "encrypted"),
    # not a spreadsheet we read
    (hostile.pdf_named_xlsx, "unsupported_type"),
    (hostile.png_named_xlsx, "unsupported_type"),
    (hostile.rar_named_xlsx, "unsupported_type"),
    (hostile.ods_named_xlsx, "unsupported_type"),
    (hostile.xlsb_named_xlsx, "unsupported_type"),
    (hostile.txt_file, "unsupported_type"),
    # hostile XML
    (hostile.entity_bomb, "unreadable"),
    (hostile.external_entity, "unreadable"),
    (hostile.padded_doctype, "unreadable"),
    (hostile.utf16_part, "unreadable"),
    # too large
    (hostile.oversized, "too_large"),
    (hostile.many_entries, "too_large"),
    (hostile.stray_far_cell, "too_large"),
]


@pytest.mark.parametrize("build, expected", CASES, ids=[build.__name__ for build, _ in CASES])
def test_inspect(build, expected, tmp_path):
    outcome, message, _ = run_guard(build(tmp_path))
    assert outcome == expected, message
    if expected not in ("xlsx", "xlsm", "xls", "csv", "docx", "doc", "zip", "html", "et"):
        assert HAN.search(message), "the message is for the bureau's staff: Chinese"


@pytest.mark.parametrize("build, words", [
    (hostile.pdf_named_xlsx, ["这是一个 PDF 文件，不是 Excel 表格。请把明细表以 .xlsx、.xls 或 .csv 格式发送。"]),
    (hostile.png_named_xlsx, ["图片"]),
    (hostile.txt_file, [".txt", ".xlsx", ".xls", ".csv"]),
    (hostile.truncated_zip, ["损坏或不完整", "重新发送"]),
    (hostile.zero_byte, ["0 字节"]),
    (hostile.encrypted_xlsx, [guard.ENCRYPTED]),
    (hostile.oversized, ["50 MB"]),
])
def test_message_says_what_to_do(build, words, tmp_path):
    _, message, _ = run_guard(build(tmp_path))
    for word in words:
        assert word in message


def test_external_entity_reads_nothing(tmp_path):
    path = hostile.external_entity(tmp_path)
    outcome, message, opened = run_guard(path)
    assert outcome == "unreadable"
    assert not [name for name in opened if "passwd" in name]
    assert "root:" not in message


# --- zip bombs: built once, they take a few seconds to write -----------------------------


@pytest.fixture(scope="session")
def bomb(tmp_path_factory) -> Path:
    return hostile.zip_bomb(tmp_path_factory.mktemp("bomb"))


def _ratio_limit(bomb: Path) -> int:
    """The largest size the sheet may declare and still pass the declared-ratio check."""
    compressed = zipfile.ZipFile(bomb).getinfo(hostile.SHEET).compress_size
    return guard.spec.thresholds()["max_unpack_ratio"] * compressed


@pytest.mark.parametrize("variant", ["honest", "lies_small", "lies_10mb", "lies_at_ratio_limit"])
def test_zip_bomb(variant, bomb, tmp_path):
    assert bomb.stat().st_size < 4 * 1024 * 1024
    assert sum(i.file_size for i in zipfile.ZipFile(bomb).infolist()) > hostile.GIGABYTE
    declared = {"lies_small": 5000, "lies_10mb": 10 * 1024 * 1024,
                "lies_at_ratio_limit": _ratio_limit(bomb)}
    path = bomb if variant == "honest" else hostile.lying_zip_bomb(tmp_path, bomb, declared[variant])
    outcome, message, _ = run_guard(path)
    assert outcome == "too_large", message
    assert "压缩炸弹" in message


def test_limits_come_from_thresholds(tmp_path, monkeypatch):
    path = hostile.rows_xlsx(tmp_path, rows=50)
    limits = dict(guard.spec.thresholds(), max_unpacked_bytes=10_000)
    monkeypatch.setattr(guard.spec, "thresholds", lambda: limits)
    assert run_guard(path)[0] == "too_large"


def test_not_a_regular_file(tmp_path):
    folder = tmp_path / "文件夹.xlsx"
    folder.mkdir()
    assert run_guard(folder)[0] == "unreadable"
    with pytest.raises(InputFileError):
        guard.sha256(folder)
    with pytest.raises(InputFileError):
        guard.inspect(tmp_path / "不存在.xlsx")


def test_guard_is_cheap_next_to_reading(tmp_path):
    """On an ordinary 10,000-row form the guard's one inflate pass costs a fraction of a read."""
    python_calamine = pytest.importorskip("python_calamine")
    path = hostile.rows_xlsx(tmp_path, rows=10_000)
    guard_times, read_times = [], []
    for _ in range(3):
        start = time.perf_counter()
        assert guard.inspect(path) == "xlsx"
        guard_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        rows = python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
        read_times.append(time.perf_counter() - start)
    assert len(rows) == 10_001
    guard_ms, read_ms = min(guard_times) * 1000, min(read_times) * 1000
    print(f"\n10,000 rows: guard {guard_ms:.0f} ms, calamine read {read_ms:.0f} ms, "
          f"ratio {guard_ms / read_ms:.2f}")
    assert guard_ms < read_ms / 2


def test_sha256(tmp_path):
    path = hostile.rows_xlsx(tmp_path)
    assert guard.sha256(path) == hashlib.sha256(path.read_bytes()).hexdigest()


def test_defusedxml_backs_up_the_scan(tmp_path, monkeypatch):
    """Were the byte scan to miss a DTD, the index parts are still parsed with DTDs forbidden."""
    monkeypatch.setattr(guard_xlsx, "DTD", re.compile(rb"(?!)"))
    outcome, message, _ = run_guard(hostile.entity_bomb(tmp_path))
    assert outcome == "unreadable"
    assert "lol" not in message


def test_a_value_typed_far_away_is_refused_before_reading_and_the_other_files_go_on(tmp_path):
    from pipeline.intake.check import check_files

    stray = hostile.stray_far_cell(tmp_path)
    (tmp_path / "near").mkdir()
    near = hostile.stray_far_cell(tmp_path / "near", cell="AZ300")
    good = hostile.rows_xlsx(tmp_path)
    report = check_files([stray, near, good], date(2026, 11, 28))
    far, close, fine = report.files
    assert [e.code for e in far.errors] == ["too_large"]
    assert "工作表「明细表」的 XFD200000 单元格有内容" in far.errors[0].message
    assert "Ctrl+End" in far.errors[0].message
    assert not any(e.code == "too_large" for e in close.errors)  # 300 rows × 52 columns is read
    assert fine.rows == 3 and not any(e.file_level for e in fine.errors)  # read, and judged row by row


def test_cells_without_their_position_are_counted_as_the_reader_counts_them(tmp_path):
    # Each cell without r= is the one after the previous: 400 of them on row 200,000 reach
    # 200,000 × 400 cells, which calamine would allocate (13 GB) and abort the process.
    started, before = time.monotonic(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    outcome, message, _ = run_guard(hostile.implicit_far_cells(tmp_path))
    assert outcome == "too_large"
    assert "200,000 行 × 400 列" in message and "「明细表」的 OJ200000 单元格有内容" in message
    assert time.monotonic() - started < 5
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # KB


def test_a_form_written_without_positions_reads_as_with_them(tmp_path):
    from pipeline.intake.check import check_file

    (tmp_path / "with").mkdir()
    plain = check_file(hostile.rows_xlsx(tmp_path / "with", rows=4), date(2026, 11, 28))
    bare = check_file(hostile.without_positions(tmp_path, rows=4), date(2026, 11, 28))
    assert bare.rows == plain.rows == 4
    assert bare.raw.drop(columns="_file", errors="ignore").equals(plain.raw.drop(columns="_file", errors="ignore"))


def test_a_run_goes_on_past_a_workbook_of_implicit_far_cells(tmp_path):
    from pipeline.demo import synth

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    hostile.implicit_far_cells(inbox)
    synth.make_submission(inbox / "城西街道1128.xlsx", "城西街道", 5, seed=3, as_of=date(2026, 11, 28))
    env = {**os.environ, "JIUZHU_WORKERS": "1"}
    done = subprocess.run([sys.executable, "-m", "pipeline", "run", "--inbox", str(inbox), "--outbox",
                           str(tmp_path / "outbox"), "--store", str(tmp_path / "s.sqlite3"), "--as-of", "2026-11-28"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "outbox" / "2026-11-28" / "run-report.json").read_text(encoding="utf-8"))
    statuses = {f["file"]: (f["status"], [e["code"] for e in f["errors"]]) for f in report["files"]}
    assert statuses == {"隐式位置.xlsx": ("rejected", ["too_large"]), "城西街道1128.xlsx": ("accepted", [])}


@pytest.mark.parametrize("build", [hostile.real_xls_named_xlsx, hostile.xlsx_named_xls])
def test_a_workbook_under_the_other_suffix_is_read_as_what_it_is(build, tmp_path):
    from pipeline.intake.check import check_file

    report = check_file(build(tmp_path), date(2026, 11, 28))
    assert report.rows > 0 and not any(e.file_level for e in report.errors), report.errors


@pytest.mark.parametrize("xml", ['<c r="{cell}" s="1"/>', '<c r="{cell}" s="1" t="n" />', '<c r="{cell}" s="1"></c>', ""],
                         ids=["styled", "openpyxl", "open-close", "row height"])
def test_formatting_far_away_is_no_content_and_the_file_is_read(tmp_path, xml):
    # A border or a row height on row 1,048,576 holds nothing: calamine skips it, so must the guard.
    from pipeline.intake.check import check_file

    report = check_file(hostile.stray_far_cell(tmp_path, cell="N1048576", xml=xml), date(2026, 11, 28))
    assert not any(e.file_level for e in report.errors), report.errors
    assert report.rows == 2


def test_a_csv_saved_under_the_name_xlsx_is_read_as_csv(tmp_path):
    from pipeline.demo import synth
    from pipeline.intake.check import check_file

    sub = synth.make_submission(tmp_path / "城南.csv", "城南街道", 5, seed=2, as_of=date(2026, 11, 28), encoding="gb18030")
    misnamed = sub.path.rename(tmp_path / "城南.xlsx")
    assert guard.inspect(misnamed) == "csv"
    report = check_file(misnamed, date(2026, 11, 28))
    assert (report.status, report.rows, report.township) == ("accepted", 5, "城南街道")
    (tmp_path / "乱码.xlsx").write_bytes(bytes(range(1, 256)) * 40)  # not text: still corrupt
    assert run_guard(tmp_path / "乱码.xlsx")[0] == "unreadable"
