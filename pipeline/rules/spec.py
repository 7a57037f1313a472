"""The form, its vocabularies, the thresholds and the bureau's words, loaded from schemas/.

Everything the bureau may change is data under schemas/; this module turns it into typed
records and the look-ups the reader and the validator need. Files are read once per
process.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path

import yaml

from pipeline.errors import SpecError

_PACKAGE = Path(__file__).resolve().parent.parent  # pipeline/


def data_dir(name: str) -> Path:
    """The shipped data folder `schemas` or `templates`: inside the wheel, or beside the package in a checkout."""
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise SpecError(f"找不到 {name} 文件夹（安装不完整），请重新安装 jiuzhu。")


# libyaml's safe loader when PyYAML was built with it: the same documents, ten times faster
# (the schemas cost 90 ms of every command with the pure-Python one).
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@cache
def load_yaml(name: str) -> dict:
    """A file of schemas/ as a mapping; a SpecError that names the file and says what to do."""
    path = data_dir("schemas") / name
    try:
        with path.open(encoding="utf-8") as fh:
            data = yaml.load(fh, Loader=_YAML_LOADER)
    except UnicodeDecodeError as exc:
        raise SpecError(f"设置文件 {path} 不是 UTF-8 编码（可能用记事本另存为了 ANSI 或 GBK）。"
                        "请用 UTF-8 编码重新保存这个文件。") from exc
    except (OSError, yaml.YAMLError) as exc:
        raise SpecError(f"设置文件 {path} 无法读取：{exc}。请改正后重新运行，或从安装包恢复原文件。") from exc
    if not isinstance(data, dict):
        raise SpecError(f"设置文件 {path} 的内容应是“名称: 值”的列表（如 overdue_workdays: 30），"
                        f"现在是{'空的' if data is None else '一段' + type(data).__name__}。请改正后重新运行，或从安装包恢复原文件。")
    return data


@lru_cache(maxsize=4096)  # asked again and again for the same few spellings (each part of 疑似符合救助)
def fold(text: str) -> str:
    """A matching key: width-folded (NFKC), without any whitespace, '*' or trailing colon."""
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"[\s*]+", "", text)
    return text.rstrip(":")


def short_label(header: str) -> str:
    """A header without its bracketed list of examples, for messages: 发现方式, 乡镇（街道）办理结果."""
    return re.sub(r"[（(][^（）()]*[、，,和][^（）()]*[）)]$", "", header) or header


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    kind: str
    required: bool
    official: bool = False
    width: int = 12
    vocabulary: str | None = None
    max_length: int | None = None
    variants: tuple[str, ...] = ()


@dataclass(frozen=True)
class Table:
    """One kind of table a workbook may hold: the form, the visits, the assistants' roster."""

    kind: str
    columns: tuple[Column, ...]
    sheet: str | None = None
    _lookup: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for col in self.columns:
            names = (col.header, *col.variants)
            for name in names:
                self._lookup.setdefault(fold(name), col.key)
                self._lookup.setdefault(fold(name).split("(")[0], col.key)

    def match(self, header_text: str) -> str | None:
        """The column key a header cell names, or None."""
        return self.match_folded(fold(header_text))

    def match_folded(self, key: str) -> str | None:
        """As match, for a text already passed through fold().

        A header reworded inside its last bracket (乡镇（街道）办理结果（…及纳入时间）) is
        matched without that bracket before it is matched by the part before its first
        bracket (办理结果（…） → 办理结果), so that 乡镇（街道）… is never taken for 乡镇.
        """
        if not key:
            return None
        found, trimmed = self._lookup.get(key), key
        while found is None and trimmed.endswith(")") and "(" in trimmed:
            trimmed = trimmed[:trimmed.rindex("(")]
            found = self._lookup.get(trimmed)
        return found or self._lookup.get(key.split("(")[0])

    @property
    def keys(self) -> list[str]:
        return [c.key for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.key for c in self.columns if c.required]

    def column(self, key: str) -> Column:
        for col in self.columns:
            if col.key == key:
                return col
        raise KeyError(key)


def _columns(raw: list[dict]) -> tuple[Column, ...]:
    cols = []
    for item in raw:
        item = dict(item)
        item["variants"] = tuple(item.get("variants") or ())
        cols.append(Column(**item))
    return tuple(cols)


@cache
def form() -> Table:
    """The official form (明细表) with its optional columns."""
    return Table("form", _columns(load_yaml("form.yaml")["columns"]))


@cache
def visits_table() -> Table:
    """The 走访记录 sheet."""
    raw = load_yaml("form.yaml")["visits"]
    return Table("visits", _columns(raw["columns"]), sheet=raw["sheet"])


@cache
def assistants_table() -> Table:
    """The 协理员名册 (assistants' roster)."""
    raw = load_yaml("form.yaml")["assistants"]
    return Table("assistants", _columns(raw["columns"]), sheet=raw["sheet"])


def form_title() -> str:
    return load_yaml("form.yaml")["title"]


def preamble_labels() -> tuple[list[str], list[str]]:
    raw = load_yaml("form.yaml")["preamble"]
    return raw["unit_labels"], raw["date_labels"]


def footer_labels() -> list[str]:
    return load_yaml("form.yaml")["footer_labels"]


@cache
def result_date_headers() -> frozenset[str]:
    return frozenset(fold(h) for h in load_yaml("form.yaml")["result_date_headers"])


def feedback_columns() -> dict[str, str]:
    return load_yaml("form.yaml")["feedback_columns"]


def prefilled_columns() -> frozenset[str]:
    return frozenset(load_yaml("form.yaml")["prefilled_columns"])


def auxiliary_sheets() -> frozenset[str]:
    return frozenset(load_yaml("form.yaml")["auxiliary_sheets"])


def joined_when_repeated() -> frozenset[str]:
    return frozenset(load_yaml("form.yaml")["joined_when_repeated"])


def subtotal_labels() -> list[str]:
    return load_yaml("form.yaml")["subtotal_labels"]


@cache
def nothing_to_report() -> frozenset[str]:
    return frozenset(load_yaml("form.yaml")["nothing_to_report"])


@cache
def nothing_to_report_initials() -> frozenset[str]:
    """The first characters a cell saying there is no one to report can start with."""
    return frozenset(word[0] for word in nothing_to_report())


def compound_surnames() -> list[str]:
    return load_yaml("form.yaml")["compound_surnames"]


def names_a_relation(name: str) -> bool:
    """刘德明夫妇, 李四之妻, 吴春燕户: a 对象姓名 naming more than one person, or a relation."""
    return _relation_pattern().search(name) is not None


@cache
def _relation_pattern() -> re.Pattern:
    return re.compile("|".join(map(re.escape, load_yaml("form.yaml")["name_relation_words"])) + "|.{3,}户$")


def correction_markers() -> list[str]:
    return load_yaml("form.yaml")["correction_markers"]


def says_nothing(text: str) -> bool:
    """Whether a cell says there is no one to report: 无, 本周无新增, 本周无新增发现对象。"""
    return _nothing_pattern().fullmatch(text) is not None


@cache
def _nothing_pattern() -> re.Pattern:
    def either(words) -> str:
        return "|".join(map(re.escape, sorted(words, key=len, reverse=True)))

    tails = load_yaml("form.yaml")["nothing_to_report_tails"]
    return re.compile(rf"\s*(?:{either(nothing_to_report())})(?:{either(tails)})?[。.！!]*\s*")


@cache
def unknown_placeholders() -> frozenset[str]:
    return frozenset(load_yaml("form.yaml")["unknown_placeholders"])


@cache
def thresholds() -> dict:
    """schemas/thresholds.yaml, each limit checked against THRESHOLD_RANGES."""
    values = load_yaml("thresholds.yaml")
    path = data_dir("schemas") / "thresholds.yaml"
    for key, (low, high, meaning) in THRESHOLD_RANGES.items():
        value = values.get(key)
        if value is None:
            raise SpecError(f"设置文件 {path} 缺少 {key}（{meaning}），应为 {low:,} 到 {high:,} 之间的整数。")
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise SpecError(f"设置文件 {path} 中 {key}（{meaning}）为「{value}」，应为 {low:,} 到 {high:,} 之间的整数。")
    return values


# key → (least, most, what it is): a limit outside these is a typing mistake, not a choice.
THRESHOLD_RANGES = {
    "overdue_workdays": (1, 365, "超期的工作日数"),
    "visits_per_month": (1, 31, "重点人群每月走访次数"),
    "missing_window_days": (1, 31, "统计未报送的天数"),
    "reminder_workdays": (1, 60, "催办通知的办理期限（工作日）"),
    "max_file_bytes": (1 << 20, 2 << 30, "文件大小上限（字节）"),
    "max_unpacked_bytes": (1 << 20, 8 << 30, "解压后大小上限（字节）"),
    "max_unpack_ratio": (10, 100_000, "压缩比上限"),
    "max_cells": (10_000, 200_000_000, "一个工作表的单元格上限"),
    "max_text_length": (50, 32_767, "一个文字单元格的字数上限"),
    "header_scan_rows": (5, 1_000, "查找表头的行数"),
    "future_days": (0, 366, "汇总日期可以晚于今天的天数（超过时要加 --yes）"),
    "keep_snapshots": (1, 1_000, "保留的运行前快照个数（jiuzhu undo 用）"),
}


def check_all() -> None:
    """Read every file of schemas/ once, so that a setting written wrong is named at the start
    of a command, not halfway through a run. Raises SpecError naming the file and the key."""
    from pipeline.rules import results, townships  # the rules made of these files

    readers = (("thresholds.yaml", thresholds), ("form.yaml", form), ("form.yaml", visits_table),
               ("form.yaml", assistants_table), ("letterhead.yaml", letterhead),
               ("townships.yaml", townships.listed), ("results.yaml", results.rules_check),
               *((("vocabularies.yaml", lambda n=name: vocabulary(n))) for name in ("methods", "assistance_types", "seen")))
    for name, read in readers:
        try:
            read()
        except SpecError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SpecError(f"设置文件 {data_dir('schemas') / name} 格式有误（{exc!r}），"
                            "请对照安装包中的原文件改正后重新运行。") from exc


# --- vocabularies -------------------------------------------------------------------


NEAREST_CUTOFF = 0.5  # difflib ratio: 走访发觉 → 走访发现 0.75, 低保户 → 低保 0.8, 养老保险 → 低保 0.33
# A spelling is never offered for a text that negates it, or the other way round: 未见到本人 is
# nearest to 见到本人 (是) by its letters, and means 否.
NEGATIONS = frozenset("未没不无否非")


@dataclass(frozen=True)
class Vocabulary:
    name: str
    values: tuple[str, ...]
    forms: dict[str, str]  # folded spelling -> canonical value

    def canonical(self, text: str) -> str | None:
        return self.forms.get(fold(text))

    def nearest(self, text: str) -> str | None:
        """The valid value closest to a wrong one, for the error message; None when none is
        close (养老保险 shares only 保 with 低保, and is no kind of it)."""
        key = fold(text)
        if not key:
            return None
        best, score = None, NEAREST_CUTOFF
        negated = not NEGATIONS.isdisjoint(key)
        for spelling, value in self.forms.items():
            if negated == NEGATIONS.isdisjoint(spelling):
                continue
            ratio = difflib.SequenceMatcher(None, key, spelling).ratio()
            if ratio > score:
                best, score = value, ratio
        return best


@cache
def vocabulary(name: str) -> Vocabulary:
    raw = load_yaml("vocabularies.yaml").get(name)
    if not isinstance(raw, dict):
        raise SpecError(f"schemas/vocabularies.yaml 缺少词表 {name}")
    forms: dict[str, str] = {}
    for value, shorts in raw.items():
        forms[fold(value)] = value
        for short in shorts or ():
            forms.setdefault(fold(str(short)), value)
    return Vocabulary(name, tuple(raw), forms)


def type_separators() -> str:
    return load_yaml("vocabularies.yaml")["type_separators"]


def type_hints() -> dict[str, str]:
    return load_yaml("vocabularies.yaml").get("type_hints", {})


def type_fillers() -> list[str]:
    return load_yaml("vocabularies.yaml").get("type_fillers", [])


# --- the bureau's words ----------------------------------------------------------


@dataclass(frozen=True)
class Letterhead:
    """schemas/letterhead.yaml: who signs, how a township is addressed, the notice cited, the 催办通知's parts."""
    issuer: str
    addressee: str
    notice: str
    organ: str          # 发文机关标志
    signature: str      # 发文机关署名
    number_prefix: str  # 发文字号 before 〔year〕
    title: str
    contact: str        # 联系人
    phone: str          # 联系电话


LETTERHEAD_KEYS = {"issuer": "署名（简称）", "addressee": "主送后缀", "notice": "引用的通知", "organ": "发文机关标志",
                   "signature": "发文机关署名", "number_prefix": "发文字号前缀", "title": "催办通知标题",
                   "contact": "联系人", "phone": "联系电话"}


@cache
def letterhead() -> Letterhead:
    raw, path = load_yaml("letterhead.yaml"), data_dir("schemas") / "letterhead.yaml"  # each key named when wrong
    if unknown := sorted(raw.keys() - LETTERHEAD_KEYS.keys()):
        raise SpecError(f"设置文件 {path} 中有不认识的项 {unknown[0]}，可用的项：{'、'.join(LETTERHEAD_KEYS)}。")
    values = {}
    for key, meaning in LETTERHEAD_KEYS.items():
        value = raw.get(key)
        value = str(value) if isinstance(value, int) and not isinstance(value, bool) else value  # 79222164 unquoted
        if not isinstance(value, str) or not value.strip():
            said = "缺少" if value is None else f"应为一段文字，现在是「{value}」"
            raise SpecError(f"设置文件 {path} 中 {key}（{meaning}）{said}，请改正后重新运行，或从安装包恢复原文件。")
        values[key] = value.strip()
    return Letterhead(**values)


STATUS_LABELS = {
    "new_assisted": "新增救助群众",
    "observation": "救助观察群众",
    "closed": "不符合",
    "pending": "待办理",
}
KEY_STATUSES = ("pending", "observation")  # 重点人群: visited every month (docs/design.md §3)
