"""Cells into comparable text (pipeline/intake/normalise.py): each clean_* function on the
spellings townships type, clean_column equal to its cleaner cell by cell, prepare on a
located table, and the raw and clean frames of normalise."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from pipeline.demo import synth
from pipeline.intake import normalise as n
from pipeline.intake.read import read_sheets
from pipeline.intake.tables import cell_text, locate
from pipeline.rules import spec

FORM = spec.form()
HEADER = [c.header for c in FORM.columns]
KEYS = [c.key for c in FORM.columns]


def row(name: str = "张三", **values) -> list:
    base = {"seq": 1, "method": "走访发现", "finder": "网格员甲", "township": "城东街道", "name": name,
            "household": "本人患病，无劳动能力", "suspected": "城乡低保", "village": "新安村"}
    base.update(values)
    return [base.get(k) for k in KEYS]


def located_from(tmp_path: Path, rows: list[list], header: list[str] = HEADER, name: str = "城东.xlsx"):
    book = openpyxl.Workbook()
    for cells in [header, *rows]:
        book.active.append(cells)
    book.save(tmp_path / name)
    return locate(read_sheets(tmp_path / name)[0])


# --- one cell ----------------------------------------------------------------------------


@pytest.mark.parametrize("fn, value, clean", [
    (n.clean_text, " 户籍人口 3人 ", "户籍人口 3人"),
    (n.clean_text, "户籍人口\u3000３人", "户籍人口 3人"),  # full-width space and digit
    (n.clean_text, "a  \t b", "a b"),
    (n.clean_text, "\u200b\ufeff张三", "张三"),  # characters that show nothing
    (n.clean_text, "\n多行\n文本\n", "多行\n文本"),
    (n.clean_text, "   ", None), (n.clean_text, None, None), (n.clean_text, 3.0, "3"), (n.clean_text, True, "是"),
    (n.clean_name, "张 三", "张三"), (n.clean_name, "张\u3000三", "张三"), (n.clean_name, "欧阳 娜娜", "欧阳娜娜"),
    (n.clean_name, "刘一二 陈三四", "刘一二 陈三四"),  # two people: left for validation to say
    (n.clean_name, "阿依古丽•买买提", "阿依古丽·买买提"), (n.clean_name, "阿依古丽.买买提", "阿依古丽·买买提"),
    (n.clean_name, "'张三", "张三"), (n.clean_name, " '李四 ", "李四"), (n.clean_name, "'", None),
    (n.clean_township, "城西", "城西街道"), (n.clean_township, "黔江区城西街道", "城西街道"),
    (n.clean_township, "城西街道办事处", "城西街道"), (n.clean_township, "太极乡", "太极镇"),
    (n.clean_township, "城西街道。", "城西街道"), (n.clean_township, "城北街道", "城北街道"),  # not one: as written
    (n.clean_types, "低保", "城乡低保"), (n.clean_types, "低保、临时救助等", "城乡低保、临时救助"),
    (n.clean_types, "低保，特困/临时救助", "城乡低保、特困供养、临时救助"), (n.clean_types, "城乡低保和医疗救助", "城乡低保、医疗救助"),
    (n.clean_types, "低保、养老保险", "城乡低保、养老保险"), (n.clean_types, "等", None),
    (n.clean_date, "2026年11月2日", "2026-11-02"), (n.clean_date, "2026.11.2", "2026-11-02"),
    (n.clean_date, "20261102", "2026-11-02"), (n.clean_date, "２０２６年１１月２日", "2026-11-02"),
    (n.clean_date, datetime(2026, 11, 2), "2026-11-02"), (n.clean_date, date(2026, 11, 2), "2026-11-02"),
    (n.clean_date, 46328.0, "2026-11-02"),  # an Excel serial number
    (n.clean_date, "2026.13.45", "2026.13.45"), (n.clean_date, "去年冬天", "去年冬天"),  # kept for the message
    (n.clean_id, "500114 19600304 9715", "500114196003049715"), (n.clean_id, "50011419600304971x", "50011419600304971X"),
    (n.clean_id, "50011419600304971Ｘ", "50011419600304971X"), (n.clean_id, "'500114196003049715", "500114196003049715"),
    (n.clean_id, "500114196003049715.0", "500114196003049715"),
    (n.clean_id, 5.00114196003049e17, "5.00114196003049E+17"),  # a float keeps its spelling, so that it fails
    (n.clean_phone, "138 0000 0000", "13800000000"), (n.clean_phone, 13800000000.0, "13800000000"),
    (n.clean_phone, "１３８００００００００", "13800000000"),
])
def test_clean_functions(fn, value, clean):
    assert fn(value) == clean


@pytest.mark.parametrize("table, key, value, clean", [
    (FORM, "method", "走访", "走访发现"), (FORM, "method", "信息推送", "信息推送发现"),
    (FORM, "method", "走访发现。", "走访发现"), (FORM, "method", "走访发现（入户）", "走访发现"),
    (FORM, "method", "'工作发现", "工作发现"), (FORM, "method", "电话发现", "电话发现"),
    (spec.visits_table(), "seen", "见到", "是"), (spec.visits_table(), "seen", "是（在家）", "是"),
    (spec.visits_table(), "seen", "未见到", "否"), (spec.visits_table(), "seen", "不在家", "否"),
])
def test_vocabulary_cleaners(table, key, value, clean):
    assert n.cleaner(table.column(key))(value) == clean


def test_split_types_keeps_what_it_does_not_know():
    assert n.split_types("城乡低保、临时救助等") == ["城乡低保", "临时救助"]
    assert n.split_types("低保户、养老保险、低保") == ["低保户", "养老保险", "城乡低保"]


# --- a whole column ----------------------------------------------------------------------


TRICKY = [None, "", " ", "张 三", "欧阳 娜娜", "  李•四 ", "'500114196003049715", "５００１１４ １９６０",
          "5001141960030497 1x", 3.0, 13800000000.0, 5.00114196003049e17, True, datetime(2026, 11, 20),
          date(2026, 1, 2), "2026.11.20", "城西", "黔江区城西街道", "走访", "低保、临时救助等", "是（在家）",
          "\u200b张三", "'", "无", "a\tb  c", "\n多行\n"]


@pytest.mark.parametrize("column", [*FORM.columns, *spec.visits_table().columns], ids=lambda c: c.key)
def test_clean_column_equals_its_cleaner_cell_by_cell(column):
    texts = [cell_text(v) for v in TRICKY]
    assert n.clean_column(TRICKY, texts, column) == [n.cleaner(column)(v) for v in TRICKY]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_clean_column_equals_its_cleaner_on_a_messy_submission(tmp_path: Path, seed: int):
    sub = synth.make_submission(tmp_path / "城西.xlsx", "城西街道", 40, seed=seed, headers="messy", messy=True,
                                dates_as="text")
    located = locate(read_sheets(sub.path)[0])
    for column in FORM.columns:
        cells = [cells[located.columns[column.key]] for cells in located.cells]
        texts = [cell_text(v) for v in cells]
        assert n.clean_column(cells, texts, column) == [n.cleaner(column)(v) for v in cells], column.key


# --- prepare and normalise -------------------------------------------------------------


def test_prepare_gives_each_columns_texts_and_clean_values(tmp_path: Path):
    located = located_from(tmp_path, [
        row("张 三", township="城东", id_number="不详", discovered="2026.11.2", phone="/"),
        row("李四", method="走访", suspected="低保等", id_number=" 500114 19600304 9715", discovered=datetime(2026, 11, 3))])
    n.prepare(located, FORM)
    assert located.cells == [] and list(located.prepared) == KEYS
    picked = {k: located.prepared[k] for k in ("method", "township", "name", "suspected", "id_number", "discovered",
                                               "phone")}
    assert picked == {
        "method": (["走访发现", "走访"], ["走访发现", "走访发现"]),
        "township": (["城东", "城东街道"], ["城东街道", "城东街道"]),
        "name": (["张 三", "李四"], ["张三", "李四"]),
        "suspected": (["城乡低保", "低保等"], ["城乡低保", "城乡低保"]),
        "id_number": (["不详", " 500114 19600304 9715"], [None, "500114196003049715"]),  # 不详: not known
        "discovered": (["2026.11.2", "2026-11-03"], ["2026-11-02", "2026-11-03"]),
        "phone": (["/", ""], [None, None]),
    }
    texts, clean = located.prepared["household"]
    assert clean[0] is texts[0]  # unchanged by cleaning: the same string, not an equal copy
    n.prepare(located, FORM)  # once prepared, a table is not prepared again
    assert located.prepared["name"] == (["张 三", "李四"], ["张三", "李四"])


def test_a_required_column_keeps_what_says_not_known(tmp_path: Path):
    located = located_from(tmp_path, [row("无", finder="不详")])
    n.prepare(located, FORM)
    assert (located.prepared["name"][1], located.prepared["finder"][1]) == (["无"], ["不详"])


def test_prepare_joins_a_second_remark_and_adds_the_result_date_column(tmp_path: Path):
    header = HEADER + ["纳入时间", "备注"]
    located = located_from(tmp_path, [
        row("张三", result="纳入城乡低保", remark="已建立台账") + [datetime(2026, 11, 20), "协理员持续跟进"],
        row("李四", result="纳入临时救助，2026年11月12日") + ["2026-11-20", None],
        row("王五", remark="已告知") + ["2026-11-20", "已告知"]], header)
    n.prepare(located, FORM)
    assert located.prepared["result"][1] == ["纳入城乡低保，2026-11-20", "纳入临时救助，2026年11月12日", None]
    assert located.prepared["remark"][1] == ["已建立台账；协理员持续跟进", None, "已告知"]


def test_normalise_gives_raw_and_clean_frames_of_several_files(tmp_path: Path):
    first = located_from(tmp_path, [row("张 三", township="城东")], name="城东.xlsx")
    second = located_from(tmp_path, [row("李四"), [None] * 14, row("王五", method="走访")], name="城东2.xlsx")
    raw, clean = n.normalise([("城东.xlsx", first), ("城东2.xlsx", second)], FORM)
    assert list(clean.columns) == [*KEYS, "_file", "_sheet", "_row"] == list(raw.columns)
    assert clean[["_file", "_sheet", "_row", "name", "method", "township"]].values.tolist() == [
        ["城东.xlsx", "Sheet", 2, "张三", "走访发现", "城东街道"],
        ["城东2.xlsx", "Sheet", 2, "李四", "走访发现", "城东街道"],
        ["城东2.xlsx", "Sheet", 4, "王五", "走访发现", "城东街道"]]
    assert raw[["name", "method", "township", "remark"]].values.tolist() == [
        ["张 三", "走访发现", "城东", ""], ["李四", "走访发现", "城东街道", ""], ["王五", "走访", "城东街道", ""]]
    assert clean["remark"].tolist() == [None, None, None] and str(clean["_row"].dtype) == "int64"
