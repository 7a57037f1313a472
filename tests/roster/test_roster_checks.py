"""协理员空缺 (villages without an assistant) and 疑似重复 (one ID number, two townships),
through real runs: the ledger's sheets, the summary's sections, and the rules themselves."""

from __future__ import annotations

import html
import re
from datetime import date
from pathlib import Path

import openpyxl
import pandas as pd

from pipeline import settings
from pipeline.demo import synth
from pipeline.reports import ledger
from pipeline.roster import assistants, merge
from pipeline.run import run

AS_OF = date(2026, 11, 28)


def sheet_rows(path: Path, sheet: str) -> list[tuple]:
    book = openpyxl.load_workbook(path, read_only=True)
    rows = [tuple(c for c in row) for row in book[sheet].iter_rows(values_only=True)]
    book.close()
    return rows


def page_text(path: Path) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8"))))


def write_roster(path: Path, township: str, rows: list[tuple[str, str | None]]) -> None:
    """A 协理员名册 as a township types it: (village, assistant or None for none yet)."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "协理员名册"
    ws.append(["所属乡镇（街道）", "村（社区）", "协理员姓名", "联系电话"])
    for village, name in rows:
        ws.append([township, village, name, "13800138000" if name else None])
    book.save(path)


def test_vacancies_rule():
    roster_rows = pd.DataFrame([
        {"township": "石会镇", "village": "中元村", "assistant": "赵敏", "phone": None},
        {"township": "石会镇", "village": "关后村", "assistant": "", "phone": None},
        {"township": "城西街道", "village": "一村", "assistant": "钱亮", "phone": None},
    ])
    classified = pd.DataFrame([
        {"township": "石会镇", "village": "中元村", "status": "pending"},
        {"township": "石会镇", "village": "武陵村", "status": "observation"},
        {"township": "石会镇", "village": "武陵村", "status": "closed"},
        {"township": "黎水镇", "village": "黎水村", "status": "pending"},  # sent no roster: not judged
    ])
    out = assistants.vacancies(roster_rows, classified)
    assert out.to_dict("records") == [
        {"township": "石会镇", "village": "关后村", "people": 0, "key_population": 0, "listed": True},
        {"township": "石会镇", "village": "武陵村", "people": 2, "key_population": 1, "listed": False},
    ]
    assert assistants.vacancies(roster_rows.iloc[0:0], classified).empty


def test_villages_without_an_assistant_are_listed(tmp_path: Path):
    inbox = tmp_path / "inbox"
    people = synth.make_people("石会镇", 6, seed=4, as_of=AS_OF, mix={"pending": 0.5, "observation": 0.5})
    villages = sorted({p["village"] for p in people})
    assert len(villages) >= 2
    synth.write_submission(inbox / "石会镇1128.xlsx", people, township="石会镇", filled_date=AS_OF)
    # The first village has an assistant, 新建村 is listed with none; the rest are not listed.
    write_roster(inbox / "石会镇协理员名册.xlsx", "石会镇", [(villages[0], "赵敏"), ("新建村", None)])
    result = run(inbox, tmp_path / "outbox", tmp_path / "jiuzhu.sqlite3", AS_OF)

    rows = sheet_rows(result.outdir / settings.LEDGER_NAME, ledger.VACANCIES_SHEET)
    assert rows[2] == ("序号", "所属乡镇（街道）", "村（社区）", "已发现对象", "其中重点人群", "名册中")
    expected = [("石会镇", "新建村", 0, 0, "已列出，未填写协理员")]
    for village in villages[1:]:
        found = sum(p["village"] == village for p in people)
        expected.append(("石会镇", village, found, found, "未列出（该村有已发现对象）"))
    expected.sort(key=lambda r: r[1])
    assert [r[1:] for r in rows[3:]] == expected
    assert [r[0] for r in rows[3:]] == list(range(1, len(expected) + 1))

    text = page_text(result.outdir / settings.SUMMARY_NAME)
    assert f"九、社会救助协理员空缺（{len(expected)}个村（社区））" in text
    assert "新建村 0 0 已列出，未填写协理员" in text
    assert "尚未报送协理员名册的乡镇（街道）（29个）" in text  # the others: not judged, and named


def test_no_roster_no_verdict(tmp_path: Path):
    inbox = tmp_path / "inbox"
    synth.write_submission(inbox / "石会镇1128.xlsx", synth.make_people("石会镇", 3, seed=5), township="石会镇",
                           filled_date=AS_OF)
    result = run(inbox, tmp_path / "outbox", tmp_path / "jiuzhu.sqlite3", AS_OF)
    rows = sheet_rows(result.outdir / settings.LEDGER_NAME, ledger.VACANCIES_SHEET)
    # No roster received is not full coverage: said so, in the ledger and the summary.
    assert rows[1][0] == "尚未收到任何乡镇（街道）的协理员名册，协理员空缺无法统计；请督促各乡镇（街道）报送。"
    assert len(rows) == 2
    assert "尚未收到任何乡镇（街道）的协理员名册" in page_text(result.outdir / settings.SUMMARY_NAME)


def test_same_id_in_two_townships_is_listed_as_a_possible_duplicate(tmp_path: Path):
    inbox = tmp_path / "inbox"
    west = synth.make_people("城西街道", 3, seed=6, as_of=AS_OF)
    stone = synth.make_people("石会镇", 3, seed=7, as_of=AS_OF)
    twin = dict(stone[0])
    stone[0]["id_number"] = west[1]["id_number"]  # a person who moved, reported by both
    synth.write_submission(inbox / "城西街道1128.xlsx", west, township="城西街道", filled_date=AS_OF)
    synth.write_submission(inbox / "石会镇1128.xlsx", stone, township="石会镇", filled_date=AS_OF)
    result = run(inbox, tmp_path / "outbox", tmp_path / "jiuzhu.sqlite3", AS_OF)

    rows = sheet_rows(result.outdir / settings.LEDGER_NAME, ledger.DUPLICATES_SHEET)
    assert rows[2][:7] == ("序号", "疑似原因", "公民身份号码", "所属乡镇（街道）", "村（社区）", "对象姓名", "类别")
    number = west[1]["id_number"]
    assert [r[:6] for r in rows[3:]] == [
        (1, merge.SAME_ID, number, "城西街道", west[1]["village"], west[1]["name"]),
        (2, merge.SAME_ID, number, "石会镇", twin["village"], twin["name"]),
    ]
    assert all(isinstance(r[2], str) for r in rows[3:])  # the ID stays text, all 18 digits

    text = page_text(result.outdir / settings.SUMMARY_NAME)
    assert "八、疑似重复报送（1组）" in text
    assert f"身份证号 {number[:6]}{'*' * 8}{number[-4:]}" in text  # masked on the printed page
    assert number not in text


def test_a_name_under_a_new_id_number_in_the_same_township_is_listed(tmp_path: Path):
    # Week 1 gives 李娜 a wrong ID number; week 2 the corrected one: two records, one stale.
    # 王芳 of two villages is two people, and not listed.
    inbox, outbox, store = tmp_path / "inbox", tmp_path / "outbox", tmp_path / "s.sqlite3"
    people = synth.make_people("城西街道", 3, seed=8, as_of=AS_OF)
    people[0]["name"] = "李娜"
    people[1]["name"] = people[2]["name"] = "王芳"
    people[1]["village"], people[2]["village"] = "正阳村", "新安村"
    synth.write_submission(inbox / "城西街道1121.xlsx", people, township="城西街道", filled_date=date(2026, 11, 21))
    run(inbox, outbox, store, date(2026, 11, 21))
    corrected = dict(people[0], id_number=synth.make_people("城西街道", 1, seed=9, as_of=AS_OF)[0]["id_number"])
    synth.write_submission(inbox / "城西街道1128.xlsx", [corrected], township="城西街道", filled_date=AS_OF)
    result = run(inbox, outbox, store, AS_OF)

    rows = sheet_rows(result.outdir / settings.LEDGER_NAME, ledger.DUPLICATES_SHEET)
    assert sorted((r[1], r[2], r[5]) for r in rows[3:]) == sorted([
        (merge.SAME_NAME, people[0]["id_number"], "李娜"), (merge.SAME_NAME, corrected["id_number"], "李娜")])
    text = page_text(result.outdir / settings.SUMMARY_NAME)
    assert f"城西街道 李*：{merge.SAME_NAME}" in text and corrected["id_number"] not in text
