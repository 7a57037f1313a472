"""The weekly run end to end, and the invariants of docs/design.md §7, on real files and a real store."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.demo import synth
from pipeline.errors import JiuzhuError
from pipeline.publish import Lock
from pipeline.roster import cases, merge
from pipeline.run import run

AS_OF = date(2026, 11, 28)
TOWNSHIPS = ["城西街道", "石会镇", "濯水镇", "太极镇"]


def make_week(inbox: Path, *, seed: int = 1, as_of: date = AS_OF) -> list[synth.Submission]:
    """Three townships (one with mistakes), a zero report and a PDF sent by mistake."""
    subs = synth.make_district(inbox, rows_per_township=20, seed=seed, as_of=as_of, townships=TOWNSHIPS[:3],
                               errors={"石会镇": {"invalid_id": 1, "required": 1, "duplicate_row": 1}})
    subs.append(synth.write_zero_report(inbox / "太极镇零报告.xlsx", "太极镇", filled_date=as_of))
    (inbox / "濯水镇情况说明.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    return subs


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under root (inbox or outbox) with its bytes."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def store_counts(store: Path) -> dict[str, int]:
    if not store.exists():
        return {}
    db = sqlite3.connect(store)
    try:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
    finally:
        db.close()


def test_week_run(tmp_path: Path):
    inbox, outbox, store = tmp_path / "inbox", tmp_path / "outbox", tmp_path / "jiuzhu.sqlite3"
    subs = make_week(inbox)
    result = run(inbox, outbox, store, AS_OF)
    report = json.loads((outbox / "2026-11-28" / "run-report.json").read_text(encoding="utf-8"))
    # the file is docs/design.md §6 (with its townships object); the run's own report also carries the notes for the summary
    assert report == {k: v for k, v in json.loads(json.dumps(result.report)).items()
                      if k not in ("notes", "not_due_unseen")}
    by_file = {f["file"]: f for f in report["files"]}
    statuses = {f["township"]: f["status"] for f in report["files"]}
    assert statuses["城西街道"] == "accepted" and statuses["石会镇"] == "partial" and statuses["太极镇"] == "empty"
    pdf = by_file["濯水镇情况说明.pdf"]
    assert pdf["status"] == "rejected" and pdf["errors"][0]["code"] == "unsupported_type" and pdf["rows"] == 0
    shihui = next(f for f in report["files"] if f["township"] == "石会镇")
    expected = next(s for s in subs if s.township == "石会镇").expected
    assert sorted((e["row"], e["code"]) for e in shihui["errors"]) == sorted((e.row, e.code) for e in expected)
    assert shihui["feedback"] and (outbox / "2026-11-28" / shihui["feedback"]).exists()
    assert set(report) >= {"as_of", "files", "roster", "visits", "missing_townships", "outputs"}
    assert list(report["files"][0]) == ["file", "sha256", "status", "township", "rows", "accepted", "rejected",
                                        "errors", "feedback"]
    accepted = sum(f["accepted"] for f in report["files"])
    assert report["roster"]["total"] == accepted
    assert sum(report["roster"][k] for k in ("new_assisted", "observation", "closed", "pending")) == accepted
    assert "城西街道" not in report["missing_townships"] and "太极镇" not in report["missing_townships"]
    assert "城东街道" in report["missing_townships"]
    for name in report["outputs"].values():
        assert (outbox / "2026-11-28" / name).exists()
    # Nothing is lost: every inbox file is archived, the unreadable one in rejected/.
    assert sorted(p.name for p in inbox.iterdir() if p.is_file()) == []
    archived = {p.name for p in (inbox / "archive" / "2026-11-28").iterdir()}
    assert archived == {s.path.name for s in subs}
    assert [p.name for p in (inbox / "rejected").iterdir()] == ["濯水镇情况说明.pdf"]


def test_same_files_again_change_no_count(tmp_path: Path):
    inbox, outbox, store = tmp_path / "inbox", tmp_path / "outbox", tmp_path / "s.sqlite3"
    make_week(inbox)
    first = run(inbox, outbox, store, AS_OF).report
    files_week = _township_table(store)["files_week"].tolist()
    for path in (inbox / "archive" / "2026-11-28").iterdir():
        shutil.copy(path, inbox / path.name)
    result = run(inbox, outbox, store, AS_OF)
    second = result.report
    assert {r.status for r in result.files} == {"duplicate"}
    # The week's record lists every file received, the first copies and the second (issue 16.2).
    assert second["files"] == sorted([*first["files"], *(r.to_dict() for r in result.files)], key=lambda f: f["file"])
    assert all(r.notes == [f"与2026-11-28 收到的「{r.file}」完全相同，不重复计算。"] for r in result.files)
    assert second["roster"] == first["roster"] and second["visits"] == first["visits"]
    assert second["missing_townships"] == first["missing_townships"]
    assert second["townships"] == first["townships"]
    assert _township_table(store)["files_week"].tolist() == files_week  # 本周报送文件数: one file, sent twice


def _township_table(store: Path):
    db = sqlite3.connect(store)
    try:
        return cases.standing(db, AS_OF).townships
    finally:
        db.close()


def test_same_inbox_and_date_give_identical_outputs(tmp_path: Path, monkeypatch):
    outputs, indexes = [], []
    for name in ("a", "b"):
        if name == "b":  # the second store takes the way of a large first run: indexes built afresh
            monkeypatch.setattr(merge, "REBUILD_INDEXES_AT", 1)
        inbox = tmp_path / name / "inbox"
        make_week(inbox)
        result = run(inbox, tmp_path / name / "outbox", tmp_path / name / "store.sqlite3", AS_OF)
        outputs.append(snapshot(result.outdir))
        db = sqlite3.connect(tmp_path / name / "store.sqlite3")
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        indexes.append(db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name").fetchall())
        db.close()
    assert indexes[0] == indexes[1] and ("persons_id",) in [i[:1] for i in indexes[0]]
    assert outputs[0].keys() == outputs[1].keys()
    for key in outputs[0]:
        assert outputs[0][key] == outputs[1][key], key


def test_a_second_run_refuses_while_one_holds_the_store(tmp_path: Path):
    inbox, store = tmp_path / "inbox", tmp_path / "s.sqlite3"
    make_week(inbox)
    with Lock(store):
        start = time.monotonic()
        result = CliRunner().invoke(main, ["run", "--inbox", str(inbox), "--outbox", str(tmp_path / "out"),
                                           "--store", str(store)])
        assert time.monotonic() - start < 5
    assert result.exit_code != 0 and "另一个 jiuzhu run" in result.output
    assert len(list(inbox.iterdir())) == 5


def test_run_progress_says_why_a_file_could_not_be_read(tmp_path: Path):
    inbox = tmp_path / "inbox"
    make_week(inbox)
    (inbox / "城南1128.xlsx").write_bytes(b"PK\x03\x04" + b"\x00" * 200)  # a download cut short
    result = CliRunner().invoke(main, ["run", "--inbox", str(inbox), "--outbox", str(tmp_path / "out"),
                                       "--store", str(tmp_path / "s.sqlite3"), "--as-of", "2026-11-28"])
    line = next(line for line in result.output.splitlines() if line.startswith("✗ 城南1128.xlsx"))
    assert "文件无法读取" in line and "无数据行" not in line
    assert "文件已损坏或不完整" in result.output  # and what to do, under it


def test_files_in_a_folder_of_the_inbox_are_named_not_lost(tmp_path: Path):
    inbox = tmp_path / "inbox"
    make_week(inbox)
    run(inbox, tmp_path / "out", tmp_path / "s.sqlite3", date(2026, 11, 21))  # makes archive/ and rejected/
    synth.make_district(inbox / "石会镇", rows_per_township=3, seed=4, as_of=AS_OF, townships=["石会镇"])
    result = run(inbox, tmp_path / "out", tmp_path / "s.sqlite3", AS_OF)
    folders = [w for w in result.warnings if "文件夹" in w]
    assert len(folders) == 1 and "「石会镇」（1 个文件）" in folders[0] and "archive" not in folders[0]
    assert (inbox / "石会镇").is_dir() and len(list((inbox / "石会镇").iterdir())) == 1  # left where it was


def test_a_second_run_for_the_same_date_keeps_the_first_runs_feedback(tmp_path: Path):
    inbox, outbox, store = tmp_path / "inbox", tmp_path / "outbox", tmp_path / "s.sqlite3"
    make_week(inbox)
    first = run(inbox, outbox, store, AS_OF)
    sent_back = sorted(p.name for p in (first.outdir / "退回").iterdir())
    assert sent_back
    synth.make_district(inbox, rows_per_township=5, seed=9, as_of=AS_OF, townships=["金溪镇"],
                        errors={"金溪镇": {"required": 1}})  # a late file, with its own mistake
    second = run(inbox, outbox, store, AS_OF)
    again = sorted(p.name for p in (second.outdir / "退回").iterdir())
    assert set(sent_back) < set(again) and any("金溪" in name for name in again)


def test_the_roster_holds_one_string_per_repeated_value(tmp_path: Path, monkeypatch):
    from pipeline.roster import cases as roster
    from pipeline.roster import store
    from pipeline.tools import frames

    make_week(tmp_path / "inbox")
    run(tmp_path / "inbox", tmp_path / "out", tmp_path / "s.sqlite3", AS_OF)
    db = store.connect(tmp_path / "s.sqlite3")
    shared = roster.load(db)
    monkeypatch.setattr(frames, "shared_texts", lambda frame: frame)
    plain = roster.load(db)
    db.close()
    pd.testing.assert_frame_equal(shared, plain)  # the same values, dtypes and missing cells
    townships = shared["township"].tolist()
    assert len({id(t) for t in townships}) == len(set(townships)) < len(townships)


def test_no_output_cell_is_a_formula(tmp_path: Path):
    inbox = tmp_path / "inbox"
    people = synth.make_people("城西街道", 4, seed=3, as_of=AS_OF)
    tricky = ['=HYPERLINK("http://x","y")', "+1", "@SUM(A1)", "-2"]
    for person, text in zip(people, tricky):
        person["household"] = text
        person["remark"] = text
    people[0]["name"] = tricky[0]  # rejected: goes to the feedback workbook as typed
    synth.write_submission(inbox / "城西.xlsx", people, township="城西街道", filled_date=AS_OF)
    result = run(inbox, tmp_path / "outbox", tmp_path / "s.sqlite3", AS_OF)
    books = list(result.outdir.rglob("*.xlsx"))
    assert any("退回" in str(b) for b in books)
    seen = set()
    for book in books:
        for ws in openpyxl.load_workbook(book).worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (book.name, ws.title, cell.coordinate, cell.value)
                    if cell.value in tricky:
                        seen.add(cell.value)
    assert seen == set(tricky)


STAGES = ["checked", "merged", "rendered", "published"]


@pytest.mark.parametrize("stage", STAGES)
def test_killed_at_any_point_leaves_everything_as_before(tmp_path: Path, stage: str):
    inbox, outbox, store = tmp_path / "inbox", tmp_path / "outbox", tmp_path / "s.sqlite3"
    # A first, committed week so that the store and the outbox are not empty.
    make_week(inbox, seed=1, as_of=date(2026, 11, 21))
    run(inbox, outbox, store, date(2026, 11, 21))
    make_week(inbox, seed=2)
    before = (snapshot(inbox), snapshot(outbox), store_counts(store))

    marker = tmp_path / "paused"
    env = {**os.environ, "JIUZHU_PAUSE_AT": f"{stage}:{marker}"}
    args = [sys.executable, "-m", "pipeline", "run", "--inbox", str(inbox), "--outbox", str(outbox),
            "--store", str(store), "--as-of", "2026-11-28"]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    assert marker.exists(), "the run never reached " + stage
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    if stage != "published":  # before the file moves, nothing outside the store has moved
        assert (snapshot(inbox), snapshot(outbox)) == before[:2]
    assert store_counts(store) == before[2]

    work = list(tmp_path.glob("s.sqlite3.work-*"))  # the outputs were rendered beside the store
    assert len(work) == (stage == "rendered")

    rerun = run(inbox, outbox, store, AS_OF)
    assert snapshot(inbox / "archive" / "2026-11-28")  # the rerun archived this week's files
    assert not list(tmp_path.glob("s.sqlite3.work-*"))  # nor does the killed run's copy stay behind

    # The same two weeks without a kill give the same outputs.
    clean = tmp_path / "clean"
    make_week(clean / "inbox", seed=1, as_of=date(2026, 11, 21))
    run(clean / "inbox", clean / "outbox", clean / "s.sqlite3", date(2026, 11, 21))
    make_week(clean / "inbox", seed=2)
    expected = run(clean / "inbox", clean / "outbox", clean / "s.sqlite3", AS_OF)
    assert snapshot(rerun.outdir) == snapshot(expected.outdir)
    assert snapshot(outbox) == snapshot(clean / "outbox")


def test_killed_after_moving_files_is_rolled_back_before_the_next_run(tmp_path: Path):
    inbox, outbox, store = tmp_path / "inbox", tmp_path / "outbox", tmp_path / "s.sqlite3"
    make_week(inbox)
    before = snapshot(inbox)
    marker = tmp_path / "paused"
    env = {**os.environ, "JIUZHU_PAUSE_AT": f"published:{marker}"}
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", "run", "--inbox", str(inbox), "--outbox",
                             str(outbox), "--store", str(store), "--as-of", "2026-11-28"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not marker.exists() and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    from pipeline.run import recover
    assert recover(store)
    assert snapshot(inbox) == before
    assert not (outbox / "2026-11-28").exists()
    assert store_counts(store).get("submissions", 0) == 0


def test_feedback_workbooks_of_files_with_the_same_stem_do_not_overwrite_each_other(tmp_path: Path):
    # 附件.xlsx from 城西 and 附件.csv from 石会 in one run; then 附件.xlsx from 金溪, run again
    # the same day, and 城西's 附件.xlsx sent again corrected (still with a mistake).
    inbox, outbox, store = tmp_path / "inbox", tmp_path / "outbox", tmp_path / "s.sqlite3"

    def send(township: str, name: str, seed: int) -> None:
        synth.make_submission(inbox / name, township, 4, seed=seed, as_of=AS_OF, errors={"required": 1})

    send("城西街道", "附件.xlsx", 1)
    send("石会镇", "附件.csv", 2)
    first = run(inbox, outbox, store, AS_OF)
    assert {f["township"]: f["feedback"] for f in first.report["files"]} == {  # in the inbox's order
        "石会镇": "退回/附件_退回意见.xlsx", "城西街道": "退回/附件（2）_退回意见.xlsx"}
    send("金溪镇", "附件.xlsx", 3)
    second = run(inbox, outbox, store, AS_OF)
    assert [r.feedback for r in second.files] == ["退回/附件（3）_退回意见.xlsx"]
    send("城西街道", "附件.xlsx", 4)
    third = run(inbox, outbox, store, AS_OF)
    assert [r.feedback for r in third.files] == ["退回/附件（2）_退回意见.xlsx"]  # its own, replaced
    folder = third.outdir / "退回"
    assert sorted(p.name for p in folder.iterdir()) == ["附件_退回意见.xlsx", "附件（2）_退回意见.xlsx",
                                                        "附件（3）_退回意见.xlsx"]
    towns = {}
    for path in folder.iterdir():
        book = openpyxl.load_workbook(path, read_only=True)
        towns[path.name] = {str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True)
                            for v in row if v in ("城西街道", "石会镇", "金溪镇")}
        book.close()
    assert towns == {"附件_退回意见.xlsx": {"石会镇"}, "附件（2）_退回意见.xlsx": {"城西街道"},
                     "附件（3）_退回意见.xlsx": {"金溪镇"}}


def test_a_run_for_a_date_before_the_latest_run_is_refused_and_changes_nothing(tmp_path: Path):
    inbox, outbox, store = tmp_path / "inbox", tmp_path / "outbox", tmp_path / "s.sqlite3"
    make_week(inbox)
    first = run(inbox, outbox, store, AS_OF)
    before = (first.outdir / "run-report.json").read_bytes()
    synth.make_district(inbox, rows_per_township=3, seed=4, as_of=AS_OF, townships=["金溪镇"])
    sent = sorted(p.name for p in inbox.iterdir() if p.is_file())
    with pytest.raises(JiuzhuError, match="已有 2026-11-28 的汇总，不能再按更早的日期 2026-11-21 汇总") as refused:
        run(inbox, outbox, store, date(2026, 11, 21))
    assert "这一天没有做过汇总" in str(refused.value) and "仍在输出文件夹" not in str(refused.value)
    assert sorted(p.name for p in inbox.iterdir() if p.is_file()) == sent
    assert sorted(p.name for p in outbox.iterdir()) == [AS_OF.isoformat()]
    assert (first.outdir / "run-report.json").read_bytes() == before
    assert run(inbox, outbox, store, AS_OF).files[0].status == "accepted"  # the same date again is fine


def test_a_refused_earlier_date_that_was_run_points_to_its_outputs(tmp_path: Path):
    inbox, outbox, store = tmp_path / "inbox", tmp_path / "outbox", tmp_path / "s.sqlite3"
    inbox.mkdir()
    for day in (date(2026, 11, 21), AS_OF):
        run(inbox, outbox, store, day, yes=True)  # first run on an empty inbox
    with pytest.raises(JiuzhuError, match="2026-11-21 的报表仍在输出文件夹的 2026-11-21 中"):
        run(inbox, outbox, store, date(2026, 11, 21))


def test_run_report_holds_exactly_the_design_keys(tmp_path: Path):
    inbox, outbox, store = tmp_path / "inbox", tmp_path / "outbox", tmp_path / "s.sqlite3"
    make_week(inbox)
    result = run(inbox, outbox, store, AS_OF)
    written = json.loads((result.outdir / "run-report.json").read_text(encoding="utf-8"))
    assert list(written) == ["as_of", "files", "roster", "visits", "missing_townships", "townships", "outputs"]
    assert list(written["files"][0]) == ["file", "sha256", "status", "township", "rows", "accepted", "rejected",
                                         "errors", "feedback"]
    assert list(written["roster"]) == ["total", "new_assisted", "observation", "closed", "pending", "overdue"]
    assert list(written["visits"]) == ["key_population", "seen_this_month", "gaps"]
    assert list(written["outputs"]) == ["ledger", "visit_gaps", "overdue", "summary"]
    from pipeline.rules import townships
    assert list(written["townships"]) == list(townships.names())  # every township, in the district's order
    design = {"found_week", "total", "new_assisted", "observation", "closed", "pending", "overdue", "still_overdue",
              "key_population", "seen_this_month", "gaps", "visit_coverage", "in_time_share", "rows_rejected_week",
              "files_week"}
    assert all(design <= set(figures) for figures in written["townships"].values())
    quiet = written["townships"]["黄溪镇"]  # sent nothing, has nobody: zeros, and no share without a denominator
    assert quiet["total"] == 0 and quiet["visit_coverage"] is None and quiet["in_time_share"] is None


def test_visits_to_someone_not_on_the_roster_are_told_at_the_end_of_the_run(tmp_path: Path):
    inbox, outbox, store = tmp_path / "inbox", tmp_path / "outbox", tmp_path / "s.sqlite3"
    people = synth.make_people("濯水镇", 2, seed=5, as_of=AS_OF)
    stranger = {"name": "查无此人", "id_number": None, "township": "濯水镇", "village": people[0]["village"],
                "visit_date": AS_OF, "visitor": "村协理员", "seen": "是", "notes": None}
    people[1]["finder"] = None  # her form row is sent back, so a visit to her finds no one yet
    sent_back = dict(stranger, name=people[1]["name"], id_number=people[1]["id_number"])
    synth.write_submission(inbox / "濯水1128.xlsx", people, township="濯水镇", filled_date=AS_OF,
                           visits=[stranger, sent_back])
    result = run(inbox, outbox, store, AS_OF)
    assert result.files[0].status == "partial"
    assert "濯水1128.xlsx：走访记录中另有 2 行的走访对象在名册中找不到，这些行已退回，见退回意见的「问题清单」。" \
        in result.warnings
    messages = {e.value: e.message for e in result.files[0].errors if e.sheet == "走访记录"}
    assert "新发现的对象请先填入明细表" in messages["查无此人"]
    form_row = next(e.row for e in result.files[0].errors if e.sheet != "走访记录")
    assert f"第{form_row}行，那一行有误已退回" in messages[people[1]["name"]]
