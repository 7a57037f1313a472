"""The inline SVG charts: well-formed XML, accessible names, escaped labels, zero data, grayscale."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, timedelta

import pytest

from pipeline.tools import charts

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert("x")</script> & 张三\'s'
SERIES = ["新增救助群众", "救助观察群众", "不符合", "待办理"]


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # raises on anything that is not well-formed XML
    assert root.tag == f"{SVG}svg"
    return root


def texts(root: ET.Element) -> list[str]:
    return ["".join(e.itertext()) for e in root.iter(f"{SVG}text")]


def week(n: int) -> date:
    return date(2026, 11, 28) - timedelta(weeks=n)


ALL_CHARTS = {
    "bars": lambda cid: charts.bars(cid, "类型", [("城乡低保", 12), ("临时救助", 3)]),
    "stacked": lambda cid: charts.stacked_bars(cid, "乡镇", [("城西街道", [3, 2, 1, 4]), ("石会镇", [0, 1, 0, 9])],
                                               SERIES),
    "trend": lambda cid: charts.trend(cid, "趋势", [(week(2), [10, 2]), (week(1), [14, 5]), (week(0), [20, 6])],
                                      ["累计发现", "待办理"]),
    "trend-one": lambda cid: charts.trend(cid, "趋势", [(week(0), [20, 6])], ["累计发现", "待办理"]),
    "empty": lambda cid: charts.bars(cid, "类型", []),
}


@pytest.mark.parametrize("kind", sorted(ALL_CHARTS))
def test_every_chart_is_accessible_scalable_svg(kind):
    root = parse(ALL_CHARTS[kind](f"c-{kind}"))
    assert root.get("role") == "img"
    labelled = root.get("aria-labelledby").split()
    ids = {e.get("id"): e for e in root.iter() if e.get("id")}
    assert [ids[i].tag for i in labelled] == [f"{SVG}title", f"{SVG}desc"]
    assert root[0].tag == f"{SVG}title" and root[0].text
    assert root.get("viewBox").startswith(f"0 0 {charts.WIDTH} ")
    assert root.get("width") == "100%"
    assert "Noto Sans CJK SC" in root.get("font-family") and "sans-serif" in root.get("font-family")
    assert all(i.startswith(f"c-{kind}") for i in ids), "ids must not collide between charts on one page"


def test_labels_are_escaped():
    svgs = [
        charts.bars("a", HOSTILE, [(HOSTILE, 5)]),
        charts.stacked_bars("b", HOSTILE, [(HOSTILE, [1, 2])], [HOSTILE, "观察"]),
        charts.trend("c", HOSTILE, [(week(1), [1]), (week(0), [2])], [HOSTILE]),
    ]
    for svg in svgs:
        assert "<script>" not in svg
        root = parse(svg)
        assert root.find(f"{SVG}title").text == HOSTILE
        assert any(HOSTILE in t for t in texts(root))


@pytest.mark.parametrize("svg", [
    charts.bars("z", "类型", [("城乡低保", 0), ("临时救助", 0)]),
    charts.bars("z", "类型", []),
    charts.stacked_bars("z", "乡镇", [("城西街道", [0, 0, 0, 0])], SERIES),
    charts.stacked_bars("z", "乡镇", [], SERIES),
    charts.trend("z", "趋势", [(week(1), [0, 0]), (week(0), [0, 0])], ["累计", "待办理"]),
    charts.trend("z", "趋势", [(week(0), [0, 0])], ["累计", "待办理"]),
    charts.trend("z", "趋势", [], ["累计"]),
], ids=["bars-zeros", "bars-none", "stacked-zeros", "stacked-none", "trend-zeros", "trend-one-zero", "trend-none"])
def test_zero_data(svg):
    root = parse(svg)
    assert "nan" not in svg.lower() and "inf" not in svg.lower()
    for rect in root.iter(f"{SVG}rect"):
        assert float(rect.get("width", "1")) >= 0
    assert texts(root)


def test_empty_charts_say_so():
    assert "暂无数据" in texts(parse(charts.bars("z", "类型", [])))
    assert "暂无数据" in texts(parse(charts.stacked_bars("z", "乡镇", [("城西街道", [0, 0])], ["a", "b"])))


def test_a_single_run_is_shown_as_bars_with_a_note():
    root = parse(charts.trend("t", "趋势", [(date(2026, 11, 28), [20, 6])], ["累计发现", "待办理"]))
    shown = texts(root)
    assert "20人" in shown and "6人" in shown
    assert any("目前只有2026年11月28日一次汇总" in t for t in shown)


def test_bars_print_their_values_and_scale_to_the_largest():
    root = parse(charts.bars("b", "类型", [("城乡低保", 10), ("临时救助", 5)]))
    widths = [float(r.get("width")) for r in root.iter(f"{SVG}rect")]
    assert widths[0] == pytest.approx(2 * widths[1], rel=0.01)
    assert {"10人", "5人"} <= set(texts(root))


def test_stacked_bars_have_a_legend_totals_and_segment_values():
    root = parse(charts.stacked_bars("s", "乡镇", [("城西街道", [30, 20, 10, 40])], SERIES))
    shown = texts(root)
    assert all(label in shown for label in SERIES)
    assert "100人" in shown and {"30", "20", "10", "40"} <= set(shown)
    assert len(root.findall(f".//{SVG}pattern")) == sum(1 for f in charts.FILLS[:4] if f.pattern)


def test_trend_labels_every_series_at_its_last_value_without_overlap():
    series = ["累计发现", "新增救助群众", "救助观察群众", "待办理", "超期"]
    points = [(week(n), [100 - n, 50 - n, 49 - n, 48 - n, 47 - n]) for n in range(10, -1, -1)]
    root = parse(charts.trend("t", "趋势", points, series))
    labels = [e for e in root.iter(f"{SVG}text") if any("".join(e.itertext()).startswith(s + " ") for s in series)]
    assert ["".join(e.itertext()) for e in labels] == ["累计发现 100", "新增救助群众 50", "救助观察群众 49", "待办理 48",
                                                        "超期 47"]
    ys = sorted(float(e.get("y")) for e in labels)
    assert all(b - a >= 14.9 for a, b in zip(ys, ys[1:]))


def test_trend_date_labels_do_not_overlap():
    points = [(week(n), [n]) for n in range(51, -1, -1)]
    root = parse(charts.trend("t", "趋势", points, ["累计"]))
    dates = [e for e in root.iter(f"{SVG}text") if "月" in "".join(e.itertext())]
    assert "".join(dates[0].itertext()).startswith("2025年") and "".join(dates[-1].itertext()) == "2026年11月28日"
    spans = []
    for e in dates:
        x, w = float(e.get("x")), charts.text_width("".join(e.itertext()), charts.SMALL)
        left = {"start": x, "middle": x - w / 2, "end": x - w}[e.get("text-anchor")]
        spans.append((left, left + w))
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))
    assert spans[0][0] >= 0 and spans[-1][1] <= charts.WIDTH


def _luminance(color: str) -> float:
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_neighbouring_fills_differ_in_grayscale():
    """On a black-and-white printer each series still differs from the next: in lightness or by a pattern."""
    for a, b in zip(charts.FILLS, charts.FILLS[1:]):
        assert abs(_luminance(a.color) - _luminance(b.color)) >= 40 or a.pattern != b.pattern
    lines = charts.STROKES
    assert len({(s.dash, s.marker) for s in lines}) == len(lines)


@pytest.mark.parametrize("peak, step", [(0, 1), (3, 1), (10, 5), (95, 25), (681, 200), (9000, 2500), (12, 5), (7, 2)])
def test_nice_step(peak, step):
    assert charts.nice_step(peak) == step


def test_same_input_same_svg():
    for make in ALL_CHARTS.values():
        assert make("x") == make("x")


def test_trend_writes_the_year_where_it_changes():
    points = [(date(2026, 12, 19), [1]), (date(2026, 12, 26), [2]), (date(2027, 1, 2), [3])]
    shown = texts(parse(charts.trend("t", "趋势", points, ["累计"])))
    assert "2026年12月19日" in shown and "2027年1月2日" in shown
