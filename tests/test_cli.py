"""The click layer: help on every command, exit codes, and check --json equal to the library."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.demo import synth
from pipeline.intake.check import check_files

AS_OF = date(2026, 11, 28)


@pytest.mark.parametrize("name", sorted(main.commands))
def test_every_command_has_help(name: str):
    result = CliRunner().invoke(main, [name, "--help"])
    assert result.exit_code == 0
    assert main.commands[name].help and "示例" in main.commands[name].help
    assert "用法:" in result.output and "选项" in result.output


@pytest.mark.parametrize("module", ["pipeline.cli", "pipeline.run"])
def test_help_and_the_start_of_a_run_do_not_import_pandas(module: str):
    """--help stays quick; a run loads pandas and pandera while its child reads the inbox."""
    code = f"import sys, {module}; print('pandas' in sys.modules or 'pandera' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_reading_and_cleaning_a_file_does_not_import_pandas(tmp_path: Path):
    """The reading child does this while its parent is still loading pandas and pandera."""
    path = synth.make_submission(tmp_path / "城西.xlsx", "城西街道", 12, seed=1, as_of=AS_OF, with_visits=True).path
    code = ("import sys; from pathlib import Path; from pipeline.intake import check\n"
            f"done = check._read(Path({str(path)!r}))[0]\n"
            "tables = [t for ts in done.tables.values() for t in ts]\n"
            "print(len(tables), all(t.prepared and not t.cells for t in tables), "
            "'pandas' in sys.modules or 'pandera' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["2", "True", "False"]


def test_check_json_equals_the_library_report(tmp_path: Path):
    good = synth.make_submission(tmp_path / "城西.xlsx", "城西街道", 12, seed=1, as_of=AS_OF).path
    bad = synth.make_submission(tmp_path / "石会.xlsx", "石会镇", 12, seed=2, as_of=AS_OF,
                                errors={"invalid_id": 1, "required": 1}).path
    result = CliRunner().invoke(main, ["check", str(good), str(bad), "--json", "--as-of", "2026-11-28"])
    assert result.exit_code == 1
    assert json.loads(result.output) == check_files([good, bad], AS_OF).to_list()


def test_check_exit_codes_and_readable_output(tmp_path: Path):
    good = synth.make_submission(tmp_path / "城西.xlsx", "城西街道", 5, seed=1, as_of=AS_OF).path
    ok = CliRunner().invoke(main, ["check", str(good), "--as-of", "2026-11-28"])
    assert ok.exit_code == 0 and "全部合格" in ok.output
    bad = synth.make_submission(tmp_path / "石会.xlsx", "石会镇", 5, seed=2, as_of=AS_OF,
                                errors={"invalid_date": 1}).path
    result = CliRunner().invoke(main, ["check", str(bad), "--as-of", "2026-11-28"])
    assert result.exit_code == 1
    assert "第" in result.output and "日期有误" in result.output


def test_check_a_folder_and_a_missing_file(tmp_path: Path):
    synth.make_submission(tmp_path / "城西.xlsx", "城西街道", 3, as_of=AS_OF)
    result = CliRunner().invoke(main, ["check", str(tmp_path), str(tmp_path / "没有.xlsx"), "--json"])
    files = json.loads(result.output)
    assert [f["file"] for f in files] == ["城西.xlsx", "没有.xlsx"]
    assert files[1]["status"] == "rejected" and files[1]["errors"][0]["code"] == "unreadable"


def test_bad_as_of_is_explained_in_chinese(tmp_path: Path):
    result = CliRunner().invoke(main, ["check", "x.xlsx", "--as-of", "28/11/2026"])
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.output


def test_template_then_check(tmp_path: Path):
    out = tmp_path / "城西模板.xlsx"
    result = CliRunner().invoke(main, ["template", "--township", "城西", "-o", str(out)])
    assert result.exit_code == 0 and out.exists()
    checked = CliRunner().invoke(main, ["check", str(out), "--json"])
    assert checked.exit_code == 0
    assert json.loads(checked.output)[0]["status"] == "empty"
    assert json.loads(checked.output)[0]["township"] == "城西街道"


def test_template_unknown_township(tmp_path: Path):
    result = CliRunner().invoke(main, ["template", "--township", "火星乡", "-o", str(tmp_path / "x.xlsx")])
    assert result.exit_code == 1 and "火星乡" in result.output


def test_check_of_nothing_says_so_and_fails(tmp_path: Path):
    (tmp_path / "空文件夹").mkdir()
    lock = tmp_path / "~$城西街道1128.xlsx"
    lock.write_bytes(b"\x0bclerk")
    for given, said in [(tmp_path / "空文件夹", "里没有 .xlsx、.xlsm、.xls 或 .csv 文件"),
                        (lock, "是 Excel 或 WPS 打开文件时自动生成的临时文件，不是明细表，请检查原文件「城西街道1128.xlsx」")]:
        result = CliRunner().invoke(main, ["check", str(given)])
        assert result.exit_code == 1
        assert "没有可以检查的明细表文件。" in result.output and said in result.output
        assert "可以报送" not in result.output


def test_check_line_counts_bad_rows_of_the_visits_sheet(tmp_path: Path):
    import openpyxl

    path = synth.make_submission(tmp_path / "城西.xlsx", "城西街道", 4, seed=1, as_of=AS_OF, with_visits=True).path
    wb = openpyxl.load_workbook(path)
    ws = wb["走访记录"]
    column = next(c.column for c in ws[1] + ws[2] if c.value == "是否见到本人")
    header_row = next(c.row for c in ws[1] + ws[2] if c.value == "是否见到本人")
    for row in (header_row + 1, header_row + 2):
        ws.cell(row, column).value = "待定"
    wb.save(path)
    result = CliRunner().invoke(main, ["check", str(path), "--as-of", AS_OF.isoformat()])
    assert result.exit_code == 1
    assert "需修改：4 行，合格 4 行，需修改 0 行；走访记录需修改 2 行" in result.output


@pytest.mark.parametrize("args, said", [
    (["check"], "错误：缺少参数 'FILES...'"),
    (["run", "--as-of", "2026-13-01"], "错误：'--as-of' 的值不对：日期「2026-13-01」格式不对"),
    (["run", "--bogus"], "错误：没有选项 '--bogus'。"),
])
def test_usage_mistakes_are_told_in_chinese(args: list, said: str):
    result = CliRunner().invoke(main, args, prog_name="jiuzhu")
    assert result.exit_code == 2
    assert said in result.output and "可运行 'jiuzhu " in result.output
    assert "Error" not in result.output and "Usage" not in result.output
