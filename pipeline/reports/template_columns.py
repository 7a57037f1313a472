"""What the blank form asks for in each column: its drop-down list, its check and the prompt
shown when a cell is selected, and the examples the 说明 sheet gives."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.errors import JiuzhuError
from pipeline.rules import spec, townships
from pipeline.rules.dates import EARLIEST_DATE

DATE_EXAMPLE = "如 2026-11-20"
# A date check: from EARLIEST_DATE to today. A warning, not a stop: 2026.11.20 typed as
# text is still accepted by the reader.
DATE_CHECK = {"validate": "date", "criteria": "between", "minimum": EARLIEST_DATE,
              "maximum": "=TODAY()", "error_type": "warning", "error_title": "日期有误",
              "error_message": "请填写不晚于今天的日期，如 2026-11-20。是否仍要保留？"}
ID_LENGTH = 18

# What to write in a column, by column key; a key not listed here gets only 必填/选填.
HINTS = {
    "seq": "可留空。",
    "finder": "填写发现人的姓名。",
    "name": "填写救助对象姓名，一人一行。",
    "household": "简要写明家庭人口、收入、困难原因等。",
    "investigation": "入户调查核实的情况；尚未调查的留空。",
    "result": "尚未办结的留空（视为待办理）。纳入救助的写明纳入时间，如：纳入城乡低保，2026年11月20日。",
    "remark": "不符合救助条件但生活确有困难的，写明困难原因。",
    "village": "填写所在村（社区）的名称。",
    "phone": "手机或座机号码，按文本填写。",
    "visitor": "填写走访人的姓名。",
    "notes": "简要写明走访中了解到的情况。",
    "assistant": "填写社会救助协理员的姓名，每个村（社区）至少一名；暂无协理员的村（社区）也列出，姓名留空。",
}


# How to write 办理结果, for the 说明 sheet: (case, example, what follows, the status the
# example is read as). tests/test_template.py reads every example with classify.parse_result.
RESULT_EXAMPLES = (
    ("纳入救助的，写明救助类别和纳入时间，如", "纳入城乡低保，2026年11月20日", "", "new_assisted"),
    ("纳入低收入人口动态监测的，也要写时间，如", "纳入低收入人口动态监测，2026年11月25日", "",
     "new_assisted"),
    ("转介其他部门救助的，如", "转介区医保局医疗救助", "（可以不写时间）", "new_assisted"),
    ("不符合救助条件、也没有实际困难的", "不符合救助条件", "", "closed"),
    ("不符合救助条件，但基本生活确有困难、列入观察名单的", "不符合救助条件，列入观察",
     "（在「{remark}」中写明困难原因）", "observation"),
)


@dataclass(frozen=True)
class OptionList:
    """A drop-down list kept on the hidden 选项 sheet under a workbook name."""

    name: str
    label: str
    values: tuple[str, ...]


def option_lists() -> dict[str, OptionList]:
    """The drop-down lists by column kind/vocabulary, in the 选项 sheet's column order."""
    return {
        "methods": OptionList("jiuzhu_methods", "发现方式", spec.vocabulary("methods").values),
        "township": OptionList("jiuzhu_townships", "乡镇（街道）", tuple(t.name for t in townships.listed())),
        "seen": OptionList("jiuzhu_seen", "是否见到本人", spec.vocabulary("seen").values),
    }


def list_for(col: spec.Column) -> OptionList | None:
    lists = option_lists()
    if col.kind == "township":
        return lists["township"]
    if col.kind == "vocab" and col.vocabulary in lists:
        return lists[col.vocabulary]
    return None


def source(option: OptionList) -> str:
    return f"={option.name}"


def short_header(header: str) -> str:
    """发现方式（走访发现、…） → 发现方式: the header without a trailing bracketed list."""
    return re.sub(r"（[^（）]*、[^（）]*）$", "", header)


def resolve_township(text: str | None) -> str | None:
    """The canonical township name, or a JiuzhuError that names the nearest one."""
    if text is None or not text.strip():
        return None
    name = townships.canonical(text)
    if name:
        return name
    nearest = townships.nearest(text)
    hint = f"，是否是「{nearest}」？" if nearest else "。"
    raise JiuzhuError(f"「{text}」不是{townships.district_name()}的乡镇（街道）{hint}"
                      "请写乡镇（街道）全称或简称，如 "
                      f"{townships.listed()[0].name} 或 {townships.listed()[0].short}。")


def types_text() -> str:
    return "、".join(spec.vocabulary("assistance_types").values)


def short_forms(vocabulary: str) -> list[tuple[str, str]]:
    """(first short form, value) of each value of a vocabulary: 低保 → 城乡低保."""
    vocab = spec.vocabulary(vocabulary)
    shorts: dict[str, str] = {}
    for spelling, value in vocab.forms.items():
        if spelling != spec.fold(value) and value not in shorts:
            shorts[value] = spelling
    return [(shorts[v], v) for v in vocab.values if v in shorts]


def prompt(col: spec.Column, township: str | None) -> str:
    """The input message shown when a cell of the column is selected (≤255 characters)."""
    option = list_for(col)
    if col.kind == "township":
        text = "请从下拉列表选择乡镇（街道）全称。"
        if township:
            text = f"本单位：{township}。" + text
    elif option is not None:
        text = "请从下拉列表选择：" + "、".join(option.values) + "。"
    elif col.kind == "types":
        text = f"可填：{types_text()}。可填多项，用顿号、分隔。"
    elif col.kind == "date":
        text = DATE_EXAMPLE + "（也可写 2026年11月20日）"
    elif col.kind == "id":
        text = f"{ID_LENGTH}位，最后一位可以是X。本列为文本格式，直接输入即可。"
    else:
        text = HINTS.get(col.key, "")
    if col.key == "seen":
        text += "没见到本人的走访不算，须再次走访。"
    return text


def validation(col: spec.Column, township: str | None) -> dict:
    title = f"{short_header(col.header)}（{'必填' if col.required else '选填'}）"
    options = {"input_title": title[:32], "input_message": prompt(col, township) or title}
    option = list_for(col)
    if option is not None:
        listed = "、".join(option.values)
        message = f"只能填写下拉列表中的内容：{listed}"
        if len(message) > 255:
            message = "只能填写下拉列表中的内容，请点单元格右边的箭头选择。"
        options.update(validate="list", source=source(option), error_type="stop",
                       error_title="请从下拉列表选择", error_message=message)
    elif col.kind == "date":
        options.update(DATE_CHECK)
    elif col.kind == "id":
        options.update(validate="length", criteria="equal to", value=ID_LENGTH, error_type="stop",
                       error_title="身份证号码位数不对",
                       error_message=f"身份证号码应为{ID_LENGTH}位（最后一位可以是X），请核对后重新输入。")
    else:
        options.update(validate="any")
    return options
