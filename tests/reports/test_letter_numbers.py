"""The 发文字号 of the 催办通知 (roster/letters.numbers, reports/letter.py): a yearly sequence, one
number per township's letter, the same number when the week is run again, from 1 again in a new
year; the number the store gives is the one on the workbook letter and in the packet."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import openpyxl
import pytest

from pipeline import settings
from pipeline.demo import synth
from pipeline.reports import packets
from pipeline.roster import letters, store
from pipeline.rules import spec, townships
from pipeline.run import run

TOWNS = [t.name for t in townships.listed()][:4]


def _send(inbox: Path, as_of: date, seed: int, towns=TOWNS) -> None:
    for n, township in enumerate(towns):  # every case pending since long before: each township has a letter
        people = synth.make_people(township, 2, seed=seed + n, as_of=as_of - timedelta(days=70), mix={"pending": 1.0})
        synth.write_submission(inbox / f"{township}{as_of:%m%d}-{seed}.xlsx", people, township=township,
                               filled_date=as_of)


def _numbers(store_path: Path, as_of: date) -> dict[str, int]:
    db = store.connect(store_path)
    try:
        return letters.numbers(db, as_of)
    finally:
        db.close()


def _letter_number(path: Path, sheet: str) -> str:
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        prefix = spec.letterhead().number_prefix
        return next(v for r in book[sheet].iter_rows(values_only=True) for v in r
                    if isinstance(v, str) and v.startswith(prefix))
    finally:
        book.close()


def test_numbers_run_through_the_year_stay_on_a_rerun_and_start_again_in_january(tmp_path: Path):
    inbox, outbox, store_path = tmp_path / "inbox", tmp_path / "outbox", tmp_path / "jiuzhu.sqlite3"
    nov21, nov28, jan8 = date(2026, 11, 21), date(2026, 11, 28), date(2027, 1, 8)

    _send(inbox, nov21, seed=1)
    result = run(inbox, outbox, store_path, nov21)
    first = _numbers(store_path, nov21)
    assert first == {t: n for n, t in enumerate(TOWNS, 1)}  # the district's township order
    prefix = spec.letterhead().number_prefix
    for township, n in first.items():
        number = f"{prefix}〔2026〕{n}号"
        assert _letter_number(result.outdir / settings.OVERDUE_NAME, township) == number
        packet = result.outdir / packets.PACKETS_DIR / township / packets.letter_name(township, nov21)
        assert _letter_number(packet, township) == number

    _send(inbox, nov21, seed=20, towns=TOWNS[1:2])  # a late attachment: the same day is run again
    run(inbox, outbox, store_path, nov21)
    assert _numbers(store_path, nov21) == first
    # Two days on, the same reporting week: each township's letter keeps its number.
    _send(inbox, nov21 + timedelta(days=2), seed=30, towns=TOWNS[:1])
    assert _numbers_after(inbox, outbox, store_path, nov21 + timedelta(days=2)) == first

    _send(inbox, nov28, seed=40)
    run(inbox, outbox, store_path, nov28)
    assert _numbers(store_path, nov28) == {t: n for n, t in enumerate(TOWNS, len(TOWNS) + 1)}
    assert _numbers(store_path, nov21) == first  # an earlier date's numbers never change

    _send(inbox, jan8, seed=50)
    result = run(inbox, outbox, store_path, jan8, yes=True)  # ahead of today
    assert _numbers(store_path, jan8) == first  # a new year counts from 1
    assert _letter_number(result.outdir / settings.OVERDUE_NAME, TOWNS[0]) == f"{prefix}〔2027〕1号"


def _numbers_after(inbox: Path, outbox: Path, store_path: Path, as_of: date) -> dict[str, int]:
    run(inbox, outbox, store_path, as_of)
    return _numbers(store_path, as_of)


@pytest.mark.parametrize("change, expected", [
    (("phone:", None), "phone（联系电话）缺少"),
    (("signature:", "signature: []"), "signature（发文机关署名）应为一段文字，现在是「[]」"),
    (("number_prefix:", "number_prefix: 黔江民政催\nseal: 公章"), "有不认识的项 seal"),
])
def test_a_letterhead_setting_written_wrong_is_named_with_its_file_and_key(tmp_path: Path, change, expected):
    root = Path(__file__).resolve().parents[2]
    for part in ("pipeline", "schemas", "templates"):
        shutil.copytree(root / part, tmp_path / part)
    path = tmp_path / "schemas" / "letterhead.yaml"
    key, replacement = change
    lines = [replacement if line.startswith(key) else line for line in path.read_text(encoding="utf-8").splitlines()]
    path.write_text("\n".join(line for line in lines if line is not None) + "\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "pipeline", "check", str(tmp_path / "x.xlsx")], cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(tmp_path)}, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"设置文件 {path} 中" in done.stderr and expected in done.stderr


def test_a_number_once_given_never_moves(tmp_path: Path):
    """A township that drops out on a same-day rerun (its cases settled by a late file) leaves its
    number unused: the letters after it, one of which may have gone out, keep theirs."""
    import pandas as pd

    first, second, third = townships.names()[:3]

    def draft(day: date, towns: list[str]) -> dict[str, int]:
        late = pd.DataFrame({"key": [f"{t}|k" for t in towns], "township": towns, "overdue": True})
        with store.transaction(db):
            letters.draft(db, late, day)
        return {t: n for t, n in letters.numbers(db, day).items() if t in towns}

    db = store.connect(tmp_path / "s.sqlite3")
    try:
        day = date(2026, 11, 27)
        assert draft(day, [first, second, third]) == {first: 1, second: 2, third: 3}
        assert draft(day, [second, third]) == {second: 2, third: 3}  # the rerun: the first settled
        assert draft(day + timedelta(days=2), [third, first]) == {first: 1, third: 3}  # same week: kept
        assert draft(day + timedelta(days=7), [third]) == {third: 4}  # the next week: a new letter
        assert draft(date(2027, 1, 4), [second]) == {second: 1}  # a new year starts at 1
    finally:
        db.close()
