"""The district's townships (乡镇、街道) from schemas/townships.yaml: their names, their order,
and how a written name is read (城西 → 城西街道, 太极乡 → 太极镇, 黔江区城西街道办事处 → 城西街道).

The order of the file is the district's official order: every list and table that shows
townships follows it (`order`, `rank`).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import cache

from pipeline.rules.spec import fold, load_yaml


@dataclass(frozen=True)
class Township:
    name: str
    type: str
    short: str
    code: str | None = None
    legacy_code: str | None = None
    former: tuple[str, ...] = ()


@cache
def listed() -> tuple[Township, ...]:
    """The district's 30 townships in the order of schemas/townships.yaml."""
    out = []
    for item in load_yaml("townships.yaml")["townships"]:
        item = dict(item)
        item["former"] = tuple(item.get("former") or ())
        out.append(Township(**item))
    return tuple(out)


@cache
def names() -> tuple[str, ...]:
    """The townships' names, in the district's order."""
    return tuple(t.name for t in listed())


@cache
def order() -> dict[str, int]:
    """Township name → its place in the district's order (0 for the first)."""
    return {name: n for n, name in enumerate(names())}


def rank(name) -> int:
    """A township's place in the district's order; any other name after them all."""
    return order().get(name, len(order()))


def district_name() -> str:
    return load_yaml("townships.yaml")["district"]["name"]


@cache
def _forms() -> dict[str, str]:
    forms: dict[str, str] = {}
    for t in listed():
        for spelling in (t.name, t.short, *t.former):
            forms[fold(spelling)] = t.name
    return forms


def canonical(text: str) -> str | None:
    """城西 → 城西街道, 太极乡 → 太极镇, 黔江区城西街道办事处 → 城西街道; None when not a township."""
    key = fold(text)
    forms = _forms()
    if key in forms:
        return forms[key]
    places = load_yaml("townships.yaml")
    for prefix in places["unit_prefixes"]:
        if key.startswith(prefix) and key[len(prefix):]:
            key = key[len(prefix):]
            break
    for _ in range(2):
        for suffix in places["unit_suffixes"]:
            if key.endswith(suffix) and key[: -len(suffix)]:
                key = key[: -len(suffix)]
    return forms.get(key)


def named_in(text: str) -> str | None:
    """The township named anywhere in a text such as a file name or a 填报单位 cell."""
    key = fold(text)
    for spelling in sorted(_forms(), key=len, reverse=True):
        if spelling in key:
            return _forms()[spelling]
    return None


# A place outside the district named first: 石柱县…, 渝中区…, 万州… 市 (黔江区 itself is stripped).
_OTHER_PLACE = re.compile(r"^.{2,}?[县市州]|^.{2,}?区(?!.*区)")
NEAREST_CUTOFF = 0.4
NEAREST_MARGIN = 0.1  # 城区 is as near to 城东、城南、城西街道: none of them is named


def nearest(text: str) -> str | None:
    """The township a wrong spelling most likely means (成西街道 → 城西街道); None when the text
    names a place outside the district, or no township is clearly nearer than the others."""
    key = fold(text)
    district = district_name()
    if key.startswith(district):
        key = key[len(district):]
    elif _OTHER_PLACE.match(key):
        return None
    best: dict[str, float] = {}
    for spelling, township in _forms().items():
        ratio = difflib.SequenceMatcher(None, key, spelling).ratio()
        best[township] = max(best.get(township, 0.0), ratio)
    ranked = sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))
    if not ranked or ranked[0][1] < NEAREST_CUTOFF:
        return None
    if len(ranked) > 1 and ranked[0][1] - ranked[1][1] < NEAREST_MARGIN:
        return None
    return ranked[0][0]
