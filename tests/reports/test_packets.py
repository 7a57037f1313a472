"""Each township's packet (pipeline/reports/packets.py): its own 催办通知, 走访缺口 and 退回意见, and
no other township's people, written by the run beside the district-wide files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import openpyxl

from pipeline import settings
from pipeline.reports import packets
from pipeline.run import run
from tests.test_run import AS_OF, make_week


def _texts(path: Path) -> set[str]:
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return {str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for v in row
                if v is not None}
    finally:
        book.close()


def test_each_packet_holds_its_townships_people_and_no_one_elses(tmp_path: Path):
    inbox, outbox, store = tmp_path / "inbox", tmp_path / "outbox", tmp_path / "s.sqlite3"
    make_week(inbox)
    result = run(inbox, outbox, store, AS_OF)
    with sqlite3.connect(store) as db:
        people = db.execute("SELECT township, name FROM persons").fetchall()
        overdue = {t for (t,) in db.execute("SELECT DISTINCT township FROM reminder_letters")}
    by_township: dict[str, set[str]] = {}
    for township, name in people:
        by_township.setdefault(township, set()).add(name)
    folder = result.outdir / packets.PACKETS_DIR
    assert sorted(p.name for p in folder.iterdir()) == sorted(by_township)
    for township, names in by_township.items():
        files = packets.packet_files(result.outdir, township)
        expected = [packets.letter_name(township, AS_OF)] if township in overdue else []
        expected.append(packets.gaps_name(township, AS_OF))
        feedback = [f["feedback"] for f in result.report["files"] if f["township"] == township and f["feedback"]]
        expected += [Path(f).name for f in feedback]
        assert sorted(p.name for p in files) == sorted(expected)
        seen = set().union(*(_texts(p) for p in files))
        others = set().union(*(n for t, n in by_township.items() if t != township))
        assert not seen & others, township
        assert names & seen  # its own people are there
        for name in feedback:  # the copy is the district's 退回意见, byte for byte
            assert (folder / township / Path(name).name).read_bytes() == (result.outdir / name).read_bytes()
    # The PDF sent by 濯水镇 by mistake: its 退回意见 goes back to it, in a packet of its own.
    assert "濯水镇情况说明_退回意见.xlsx" in [p.name for p in packets.packet_files(result.outdir, "濯水镇")]
    # The district-wide files stay.
    for name in (settings.LEDGER_NAME, settings.VISIT_GAPS_NAME, settings.OVERDUE_NAME, settings.SUMMARY_NAME):
        assert (result.outdir / name).is_file()


def test_a_townships_letter_is_the_district_letter_of_that_township(tmp_path: Path):
    inbox, outbox, store = tmp_path / "inbox", tmp_path / "outbox", tmp_path / "s.sqlite3"
    make_week(inbox)
    result = run(inbox, outbox, store, AS_OF)
    district = openpyxl.load_workbook(result.outdir / settings.OVERDUE_NAME, read_only=True)
    for township in [n for n in district.sheetnames if n != "汇总"]:
        mine = openpyxl.load_workbook(result.outdir / packets.PACKETS_DIR / township
                                      / packets.letter_name(township, AS_OF), read_only=True)
        assert mine.sheetnames == [township]
        assert list(mine[township].iter_rows(values_only=True)) == list(district[township].iter_rows(values_only=True))
        mine.close()
    district.close()
