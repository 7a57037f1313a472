"""Charts for the printed summary, as inline SVG strings: no JavaScript, no fonts, no network.

Each chart is a self-contained <svg> with a <title> and <desc> (its accessible name), a
viewBox so that it scales to the width of its container (a 390 px phone or the 180 mm of
an A4 page), and every label escaped. Values are printed beside the bars and lines, and
series differ in lightness, pattern, dash and marker as well as in hue, so a chart still
reads on a grayscale printer.

Charts are generic: callers pass labels and numbers; nothing here knows townships,
statuses or assistance types.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from xml.sax.saxutils import escape

from pipeline.tools.chinese import cn_date

WIDTH = 720
FONT_SIZE = 14
SMALL = 13  # printed on A4 (the chart 184 mm wide), 13 of 720 units is 9.4 pt: nothing below 9 pt
FONT_STACK = ("'Noto Sans CJK SC', 'Source Han Sans SC', 'Microsoft YaHei', 'PingFang SC', SimHei, "
              "'Noto Serif CJK SC', SimSun, sans-serif")
INK = "#222222"
GRID = "#d0d0d0"
MUTED = "#555555"


@dataclass(frozen=True)
class Fill:
    """How one series of bars is painted: a colour, and a pattern drawn over it (or none)."""

    color: str
    pattern: str | None = None  # "hatch", "dots", "cross"
    ink: str = "#ffffff"        # label colour on top of the fill


@dataclass(frozen=True)
class Stroke:
    """How one series of a line chart is drawn."""

    color: str
    dash: str | None
    marker: str  # "circle", "square", "diamond", "triangle", "cross"


# In order of use. Lightness steps apart (dark blue, amber, light grey, dark red) and the
# patterns keep neighbouring segments apart in grayscale.
FILLS = (
    Fill("#3a6ea5"),
    Fill("#e3a83a", "hatch", ink="#222222"),
    Fill("#cfcfcf", "dots", ink="#222222"),
    Fill("#5e1710"),
    Fill("#8fb3d9", "cross", ink="#222222"),
    Fill("#4f7f3a"),
)
STROKES = (
    Stroke("#222222", None, "circle"),
    Stroke("#2b5d8a", "7 3", "square"),
    Stroke("#a86a00", "2 3", "diamond"),
    Stroke("#7a1f16", "9 3 2 3", "triangle"),
    Stroke("#d23a2a", "12 4", "cross"),
    Stroke("#4f7f3a", "4 4", "circle"),
)


def text_width(text: str, size: float = FONT_SIZE) -> float:
    """Approximate rendered width: CJK and full-width characters are square, the rest narrower."""
    width = 0.0
    for char in text:
        if unicodedata.east_asian_width(char) in ("W", "F"):
            width += size
        else:
            width += size * 0.6
    return width


def _n(x: float) -> str:
    """A coordinate, rounded so that output is stable and short."""
    text = f"{x:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _attr(text: str) -> str:
    return escape(str(text), {'"': "&quot;"})


def _svg(chart_id: str, title: str, desc: str, height: float, body: list[str], defs: str = "") -> str:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{_attr(chart_id)}" '
            f'viewBox="0 0 {WIDTH} {_n(height)}" width="100%" preserveAspectRatio="xMidYMin meet" '
            f'role="img" aria-labelledby="{_attr(chart_id)}-t {_attr(chart_id)}-d" '
            f'font-family="{_attr(FONT_STACK)}" font-size="{FONT_SIZE}" fill="{INK}">'
            f'<title id="{_attr(chart_id)}-t">{escape(title)}</title>'
            f'<desc id="{_attr(chart_id)}-d">{escape(desc)}</desc>')
    return head + (f"<defs>{defs}</defs>" if defs else "") + "".join(body) + "</svg>"


def _patterns(chart_id: str, fills: Sequence[Fill]) -> str:
    out = []
    for index, fill in enumerate(fills):
        if not fill.pattern:
            continue
        pid = f"{chart_id}-p{index}"
        base = f'<rect width="6" height="6" fill="{fill.color}"/>'
        if fill.pattern == "hatch":
            mark = '<path d="M0 6L6 0M-1 1L1 -1M5 7L7 5" stroke="#5a3d00" stroke-width="1.2"/>'
        elif fill.pattern == "dots":
            mark = '<circle cx="3" cy="3" r="1.1" fill="#555555"/>'
        else:
            mark = '<path d="M0 3H6M3 0V6" stroke="#2b4a6a" stroke-width="0.9"/>'
        out.append(f'<pattern id="{_attr(pid)}" patternUnits="userSpaceOnUse" width="6" height="6">'
                   f"{base}{mark}</pattern>")
    return "".join(out)


def _paint(chart_id: str, fills: Sequence[Fill], index: int) -> str:
    fill = fills[index % len(fills)]
    if fill.pattern:
        return f"url(#{_attr(chart_id)}-p{index % len(fills)})"
    return fill.color


def _empty(chart_id: str, title: str, message: str = "暂无数据") -> str:
    body = [f'<rect x="0.5" y="0.5" width="{WIDTH - 1}" height="59" fill="none" stroke="{GRID}"/>',
            f'<text x="{WIDTH / 2}" y="35" text-anchor="middle" fill="{MUTED}">{escape(message)}</text>']
    return _svg(chart_id, title, message, 60, body)


def bars(chart_id: str, title: str, items: Sequence[tuple[str, int]], *, unit: str = "人",
         desc: str | None = None, note: str | None = None, fill: Fill = FILLS[0]) -> str:
    """Horizontal bars, one per (label, value), the value printed at the end of each bar;
    `note`, when given, is written under the bars.

    Example: bars("types", "疑似救助类型", [("城乡低保", 120), ("临时救助", 80)])
    """
    if not items:
        return _empty(chart_id, title)
    row, bar, top = 26, 16, 8
    label_w = max(text_width(label) for label, _ in items) + 12
    value_w = max(text_width(f"{value}{unit}", SMALL) for _, value in items) + 10
    span = WIDTH - label_w - value_w - 4
    peak = max(value for _, value in items) or 1
    body = [f'<line x1="{_n(label_w)}" y1="{top - 4}" x2="{_n(label_w)}" y2="{_n(top + row * len(items))}" '
            f'stroke="{MUTED}"/>']
    for index, (label, value) in enumerate(items):
        y = top + index * row
        length = span * value / peak
        body.append(f'<text x="{_n(label_w - 8)}" y="{_n(y + bar - 3)}" text-anchor="end">{escape(label)}</text>')
        if value:
            body.append(f'<rect x="{_n(label_w)}" y="{y}" width="{_n(max(length, 1))}" height="{bar}" '
                        f'fill="{fill.color}"><title>{escape(f"{label}：{value}{unit}")}</title></rect>')
        body.append(f'<text x="{_n(label_w + length + 5)}" y="{_n(y + bar - 3)}" font-size="{SMALL}">'
                    f"{escape(f'{value}{unit}')}</text>")
    height = top * 2 + row * len(items)
    if note:
        body.append(f'<text x="0" y="{_n(height + 10)}" font-size="{SMALL}" fill="{MUTED}">{escape(note)}</text>')
        height += 20
    summary = desc or "；".join(f"{label} {value}{unit}" for label, value in items)
    return _svg(chart_id, title, f"{summary}。{note}" if note else summary, height, body)


def _legend(chart_id: str, labels: Sequence[str], fills: Sequence[Fill], y: float) -> tuple[list[str], float]:
    """Swatches and labels in rows across the width; returns the elements and the height used."""
    out, x, line = [], 0.0, 0
    for index, label in enumerate(labels):
        w = 14 + 6 + text_width(label) + 18
        if x + w > WIDTH and x > 0:
            x, line = 0.0, line + 1
        yy = y + line * 20
        out.append(f'<rect x="{_n(x)}" y="{_n(yy)}" width="14" height="14" fill="{_paint(chart_id, fills, index)}" '
                   f'stroke="{MUTED}" stroke-width="0.6"/>')
        out.append(f'<text x="{_n(x + 20)}" y="{_n(yy + 12)}">{escape(label)}</text>')
        x += w
    return out, (line + 1) * 20


def stacked_bars(chart_id: str, title: str, rows: Sequence[tuple[str, Sequence[int]]],
                 series: Sequence[str], *, unit: str = "人", fills: Sequence[Fill] = FILLS) -> str:
    """Horizontal stacked bars: one bar per row label, one segment per series, total at the end.

    Segment values are written inside the segment when they fit, so the chart reads without
    colour. Example: stacked_bars("towns", "各乡镇分类", [("城西街道", [3, 2, 1, 4])], ["新增", "观察", "不符合", "待办"])
    """
    if not rows or not any(sum(values) for _, values in rows):
        return _empty(chart_id, title)
    legend, legend_h = _legend(chart_id, series, fills, 0)
    row, bar, top = 21, 15, legend_h + 10
    label_w = max(text_width(label) for label, _ in rows) + 12
    totals = [sum(values) for _, values in rows]
    value_w = max(text_width(f"{t}{unit}", SMALL) for t in totals) + 10
    span = WIDTH - label_w - value_w - 4
    peak = max(totals) or 1
    body = legend + [f'<line x1="{_n(label_w)}" y1="{top - 3}" x2="{_n(label_w)}" '
                     f'y2="{_n(top + row * len(rows))}" stroke="{MUTED}"/>']
    # One path per series: a pattern fill costs once per drawing, not once per bar, in a printed PDF.
    shapes: list[list[str]] = [[] for _ in series]
    labels = []
    for index, (label, values) in enumerate(rows):
        y = top + index * row
        labels.append(f'<text x="{_n(label_w - 8)}" y="{_n(y + bar - 3)}" text-anchor="end">{escape(label)}</text>')
        x = label_w
        for s, value in enumerate(values):
            if not value:
                continue
            w = span * value / peak
            fill = fills[s % len(fills)]
            shapes[s].append(f"M{_n(x)} {y}h{_n(w)}v{bar}h{_n(-w)}Z")
            if text_width(str(value), SMALL) + 4 <= w:
                halo = "" if fill.pattern is None else (' stroke="#ffffff" stroke-width="2.5" '
                                                       'paint-order="stroke"')
                labels.append(f'<text x="{_n(x + w / 2)}" y="{_n(y + bar - 3.5)}" text-anchor="middle" '
                              f'font-size="{SMALL}" fill="{fill.ink if not fill.pattern else INK}"{halo}>'
                              f"{value}</text>")
            x += w
        labels.append(f'<text x="{_n(x + 5)}" y="{_n(y + bar - 3)}" font-size="{SMALL}">'
                      f"{escape(f'{totals[index]}{unit}')}</text>")
    for s, parts in enumerate(shapes):
        if parts:
            body.append(f'<path d="{"".join(parts)}" fill="{_paint(chart_id, fills, s)}" stroke="#ffffff" '
                        f'stroke-width="0.6"><title>{escape(series[s])}</title></path>')
    body += labels
    desc = "；".join(f"{label}：" + "，".join(f"{s} {v}" for s, v in zip(series, values))
                    for label, values in rows)
    return _svg(chart_id, title, desc, top + row * len(rows) + 8, body, _patterns(chart_id, fills[:len(series)]))


def nice_step(peak: float, ticks: int = 4) -> int:
    """A round tick interval (1, 2, 2.5 or 5 × 10^k, whole numbers only) that covers `peak` in about `ticks` steps."""
    if peak <= 0:
        return 1
    raw = peak / ticks
    power = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        step = m * power
        if step >= raw and step == int(step):
            return max(1, int(step))
    return max(1, int(10 * power))


def _marker(kind: str, x: float, y: float, color: str) -> str:
    if kind == "square":
        return f'<rect x="{_n(x - 3.5)}" y="{_n(y - 3.5)}" width="7" height="7" fill="{color}"/>'
    if kind == "diamond":
        return (f'<path d="M{_n(x)} {_n(y - 4.5)}L{_n(x + 4.5)} {_n(y)}L{_n(x)} {_n(y + 4.5)}L{_n(x - 4.5)} {_n(y)}Z" '
                f'fill="{color}"/>')
    if kind == "triangle":
        return (f'<path d="M{_n(x)} {_n(y - 5)}L{_n(x + 4.5)} {_n(y + 3.5)}L{_n(x - 4.5)} {_n(y + 3.5)}Z" '
                f'fill="{color}"/>')
    if kind == "cross":
        return (f'<path d="M{_n(x - 4)} {_n(y - 4)}L{_n(x + 4)} {_n(y + 4)}M{_n(x - 4)} {_n(y + 4)}L{_n(x + 4)} '
                f'{_n(y - 4)}" stroke="{color}" stroke-width="2"/>')
    return f'<circle cx="{_n(x)}" cy="{_n(y)}" r="3.8" fill="{color}"/>'


def _spread(positions: list[float], gap: float, low: float, high: float) -> list[float]:
    """Move label positions apart (keeping their order) so that none are closer than `gap`."""
    order = sorted(range(len(positions)), key=lambda i: positions[i])
    placed = [positions[i] for i in order]
    for k in range(1, len(placed)):
        placed[k] = max(placed[k], placed[k - 1] + gap)
    overflow = placed[-1] - high if placed else 0
    if overflow > 0:
        placed = [p - overflow for p in placed]
        for k in range(len(placed) - 2, -1, -1):
            placed[k] = min(placed[k], placed[k + 1] - gap)
    placed = [max(p, low) for p in placed]
    out = [0.0] * len(positions)
    for k, i in enumerate(order):
        out[i] = placed[k]
    return out


def _date_label(day: date, previous: date | None) -> str:
    return cn_date(day, year=previous is None or previous.year != day.year)


def trend(chart_id: str, title: str, points: Sequence[tuple[date, Sequence[int]]], series: Sequence[str],
          *, unit: str = "人", strokes: Sequence[Stroke] = STROKES) -> str:
    """Lines over run dates (x spaced by date), labelled at their last point.

    With a single date there is no line to draw: the figures of that date are shown as bars.
    Example: trend("trend", "逐周变化", [(date(2026, 11, 21), [10, 4]), (date(2026, 11, 28), [12, 5])], ["累计", "待办理"])
    """
    if not points:
        return _empty(chart_id, title)
    if len({day for day, _ in points}) == 1:
        day, values = points[-1]
        note = f"目前只有{cn_date(day)}一次汇总，再汇总一次后显示变化趋势。"
        return bars(chart_id, title, list(zip(series, values)), unit=unit, note=note)
    left, top = 46, 12
    label_w = max(text_width(f"{s} {points[-1][1][i]}", SMALL) for i, s in enumerate(series)) + 42
    plot_w, plot_h = WIDTH - left - label_w, 220
    peak = max(max(values) for _, values in points)
    step = nice_step(peak)
    ceiling = step * max(1, math.ceil(peak / step))
    first, last = points[0][0].toordinal(), points[-1][0].toordinal()

    def x_of(day: date) -> float:
        return left + plot_w * (day.toordinal() - first) / (last - first)

    def y_of(value: float) -> float:
        return top + plot_h * (1 - value / ceiling)

    body = []
    for tick in range(0, ceiling + 1, step):
        y = y_of(tick)
        body.append(f'<line x1="{left}" y1="{_n(y)}" x2="{_n(left + plot_w)}" y2="{_n(y)}" '
                    f'stroke="{GRID if tick else MUTED}" stroke-width="{0.8 if tick else 1}"/>')
        body.append(f'<text x="{left - 6}" y="{_n(y + 4)}" text-anchor="end" font-size="{SMALL}">{tick}</text>')
    # Date labels: the first and the last always, the others where they fit between; the year
    # is written on the first label shown and whenever it changes.
    last_day = points[-1][0]
    last_label = _date_label(last_day, None if last_day.year != points[0][0].year else points[0][0])
    last_left = x_of(last_day) - text_width(last_label, SMALL)
    shown_right, shown_day = -1e9, None
    for index, (day, _) in enumerate(points):
        x, is_last = x_of(day), index == len(points) - 1
        label = last_label if is_last else _date_label(day, shown_day)
        w = text_width(label, SMALL)
        left_edge = x if index == 0 else (x - w if is_last else x - w / 2)
        right_edge = left_edge + w
        if not is_last and (left_edge < shown_right + 8 or right_edge > last_left - 8):
            continue
        anchor = "start" if index == 0 else ("end" if is_last else "middle")
        body.append(f'<line x1="{_n(x)}" y1="{_n(top + plot_h)}" x2="{_n(x)}" y2="{_n(top + plot_h + 4)}" '
                    f'stroke="{MUTED}"/>')
        body.append(f'<text x="{_n(x)}" y="{_n(top + plot_h + 17)}" text-anchor="{anchor}" '
                    f'font-size="{SMALL}">{escape(label)}</text>')
        shown_right, shown_day = right_edge, day
    ends = []
    for s, name in enumerate(series):
        stroke = strokes[s % len(strokes)]
        coords = [(x_of(day), y_of(values[s])) for day, values in points]
        path = "M" + "L".join(f"{_n(x)} {_n(y)}" for x, y in coords)
        dash = f' stroke-dasharray="{stroke.dash}"' if stroke.dash else ""
        body.append(f'<g><title>{escape(name)}</title><path d="{path}" fill="none" stroke="{stroke.color}" '
                    f'stroke-width="2"{dash}/>')
        for (x, y), (day, values) in zip(coords, points):
            body.append(_marker(stroke.marker, x, y, stroke.color))
        body.append("</g>")
        ends.append(coords[-1][1])
    # Direct labels beside the last points, each with a sample of its line, spread so they never overlap.
    label_y = _spread(ends, 15, top + 4, top + plot_h + 4)
    x = left + plot_w + 10
    for s, name in enumerate(series):
        stroke = strokes[s % len(strokes)]
        dash = f' stroke-dasharray="{stroke.dash}"' if stroke.dash else ""
        body.append(f'<line x1="{_n(x)}" y1="{_n(label_y[s])}" x2="{_n(x + 22)}" y2="{_n(label_y[s])}" '
                    f'stroke="{stroke.color}" stroke-width="2"{dash}/>')
        body.append(_marker(stroke.marker, x + 11, label_y[s], stroke.color))
        body.append(f'<text x="{_n(x + 27)}" y="{_n(label_y[s] + 4)}" font-size="{SMALL}">'
                    f"{escape(f'{name} {points[-1][1][s]}')}</text>")
    desc = "；".join(f"{day.isoformat()}：" + "，".join(f"{s} {v}" for s, v in zip(series, values))
                    for day, values in points)
    return _svg(chart_id, title, desc, top + plot_h + 26, body)
