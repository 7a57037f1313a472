"""Word 97-2003 (.doc), Kingsoft's .wps and .et, read once LibreOffice has converted them: the
same rows and problems as the .docx or .xlsx they were made from. Without LibreOffice the
file is refused with a sentence naming what to install; a conversion that hangs is killed.
These tests make their .doc, .wps and .et with LibreOffice itself, and skip without it
(unless JIUZHU_REQUIRE_TOOLS=1)."""

from __future__ import annotations

import subprocess
from datetime import date
from pathlib import Path

import pytest

from pipeline.demo import synth
from pipeline.intake import convert, guard
from pipeline.intake.check import check_file
from pipeline.rules import spec
from tests import hostile
from tests.browser import require
from tests.intake import formats

AS_OF = date(2026, 11, 28)


def _soffice_convert(source: Path, to: str, folder: Path) -> Path:
    """`source` saved by LibreOffice as `to` (doc; wps and et: Word 97 and Excel 97 under Kingsoft's names)."""
    soffice = require("soffice")
    subprocess.run([soffice, f"-env:UserInstallation={(folder / 'profile').as_uri()}", "--headless",
                    "--convert-to", to, "--outdir", str(folder / "made"), str(source)],
                   check=True, capture_output=True, timeout=240)
    return folder / "made" / f"{source.stem}.{to}"


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """One township's form as .docx and .xlsx, and LibreOffice's .doc, .wps and .et of them."""
    folder = tmp_path_factory.mktemp("converted")
    sub = synth.make_submission(folder / "城西街道1128.xlsx", "城西街道", 12, seed=5, as_of=AS_OF,
                                errors={"invalid_id": 1, "required": 1}, with_visits=False)
    above, table = formats.split_table(formats.workbook_rows(sub.path))
    word = formats.write_docx(folder / "城西街道1128.docx", table, above=above)
    rtf = _soffice_convert(word, "rtf", folder)  # and saved under a .doc name, as Word lets one do
    return {"xlsx": sub.path, "docx": word, "doc": _soffice_convert(word, "doc", folder),
            "wps": _soffice_convert(word, "wps", folder), "et": _soffice_convert(sub.path, "et", folder),
            "rtf": rtf.rename(rtf.with_name("城西街道1128（RTF）.doc"))}


def _seen(report) -> list[tuple]:
    return sorted((e.sheet, e.row, spec.form().match(e.column), e.code) for e in report.errors)


@pytest.mark.parametrize("kind, original", [("doc", "docx"), ("wps", "docx"), ("rtf", "docx"), ("et", "xlsx")])
def test_libreoffice_converts_and_the_rows_are_the_originals(made, kind: str, original: str):
    assert guard.inspect(made[kind]) == kind
    report, source = check_file(made[kind], AS_OF), check_file(made[original], AS_OF)
    assert (report.kind, report.status, report.rows, report.rejected, report.township) == \
        (kind, source.status, source.rows, source.rejected, "城西街道")
    assert _seen(report) == _seen(source) and report.errors[0].file == made[kind].name
    fields = [c for c in source.records.columns if not c.startswith("_")]
    assert report.records[fields].fillna("").values.tolist() == source.records[fields].fillna("").values.tolist()


@pytest.mark.parametrize("kind", ["doc", "wps", "rtf", "et"])
def test_without_libreoffice_the_message_names_what_to_install(kind: str, tmp_path: Path, monkeypatch):
    # Made without LibreOffice: an OLE2 file with a WordDocument stream (.doc, .wps) or a Workbook (.et).
    made = (hostile.et_file(tmp_path) if kind == "et" else hostile.doc_named_xlsx(tmp_path) if kind != "rtf"
            else hostile._write(tmp_path / "x", b"{\\rtf1\\ansi {\\fonttbl}\\par }"))
    path = made.rename(tmp_path / f"城西街道1128.{'doc' if kind == 'rtf' else kind}")
    monkeypatch.setenv("PATH", str(tmp_path))  # a machine where LibreOffice is not installed
    assert convert.soffice() is None and guard.inspect(path) == kind
    report = check_file(path, AS_OF)
    assert [e.code for e in report.errors] == ["unsupported_type"] and report.township == "城西街道"
    message = report.errors[0].message
    assert "LibreOffice" in message and "apt-get install" in message and "另存为" in message
    if kind == "et":
        assert message.startswith("这是 WPS 表格专用格式（.et）")


def test_a_conversion_that_hangs_is_killed(made, monkeypatch):
    limits = dict(spec.thresholds(), convert_seconds=0.2)
    monkeypatch.setattr(convert.spec, "thresholds", lambda: limits)
    report = check_file(made["doc"], AS_OF)
    assert [e.code for e in report.errors] == ["unreadable"] and "已停止" in report.errors[0].message
    assert _converting() == []  # the whole process group went


def _converting() -> list[str]:
    """The processes still running a conversion of ours (their command names our temporary folder)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if b"jiuzhu-convert-" in (proc / "cmdline").read_bytes():
                found.append(proc.name)
        except OSError:
            continue  # ended meanwhile
    return found


def test_a_web_page_libreoffice_exported_named_xls_reads_as_its_workbook(made, tmp_path: Path):
    # A business system's export as another program writes it: <col>, styles, <font> around the text.
    soffice = require("soffice")
    subprocess.run([soffice, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
                    "--convert-to", "html", "--outdir", str(tmp_path), str(made["xlsx"])],
                   check=True, capture_output=True, timeout=240)
    page = (tmp_path / f"{made['xlsx'].stem}.html").rename(tmp_path / "系统导出.xls")
    report, source = check_file(page, AS_OF), check_file(made["xlsx"], AS_OF)
    assert (report.kind, report.status, report.rows, report.rejected) == ("html", source.status, 12, source.rejected)
    fields = [c for c in source.records.columns if not c.startswith("_")]
    assert report.records[fields].fillna("").values.tolist() == source.records[fields].fillna("").values.tolist()
    assert all(len(i) == 18 for i in report.records["id_number"] if i)
