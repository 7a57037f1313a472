"""The Chinese sentence for each problem: what is wrong, and what to do about it."""

from __future__ import annotations

from datetime import date

import pandas as pd

from pipeline.model import sheet_place
from pipeline.rules import identity, spec, townships
from pipeline.rules.idcard import id_problem

DATE_EXAMPLE = "2026年11月20日或2026-11-20"
FORMULA_ERROR = ("「{header}」显示的是公式出错的结果「{value}」，不是实际内容（例如 VLOOKUP 没有找到对应的人）。"
                 "请检查这个单元格的公式，或直接填写实际的值。")
# Helper columns that validation adds to the frame.
IDENTITY = "_identity"
ID_SHARED = "_id_shared"  # an ID number the file gives to people of different names
RESULT_PROBLEM = "_result_problem"
RESULT_MESSAGE = "_result_message"


def _types_text() -> str:
    return "、".join(spec.vocabulary("assistance_types").values)


def _invalid_value(check: str, column: spec.Column, header: str, value: str, frame, index) -> str:
    if check == "not_in_vocabulary":
        vocab = spec.vocabulary(column.vocabulary)
        nearest = vocab.nearest(value)
        hint = f"最接近的是「{nearest}」。" if nearest else ""
        return (f"「{header}」填写为「{value}」，不在规定范围内。{hint}"
                f"请从「{'、'.join(vocab.values)}」中选择一项填写。")
    if check == "not_a_township":
        nearest = townships.nearest(value)
        hint = f"最接近的是「{nearest}」，" if nearest else ""
        return (f"「{value}」不是{townships.district_name()}的乡镇（街道）。{hint}"
                "请填写乡镇（街道）全称，如 城西街道、石会镇。")
    if check == "not_a_type":
        allowed = set(spec.vocabulary("assistance_types").values)
        clean = frame.at[index, column.key] or ""
        wrong = [p for p in clean.split("、") if p not in allowed]
        hints = spec.type_hints()
        said = [next((hints[word] for word in hints if word in w), None) for w in wrong]
        nearest = [None if s else spec.vocabulary("assistance_types").nearest(w) for w, s in zip(wrong, said)]
        hint = "；".join([s for s in dict.fromkeys(said) if s] +
                        [f"「{w}」可改为「{n}」" for w, n in zip(wrong, nearest) if n])
        return (f"「{'、'.join(wrong)}」不是规定的救助类型。{hint + '。' if hint else ''}"
                f"请从「{_types_text()}」中选择，多项用顿号（、）分隔。")
    if check == "not_a_name":
        if len(value) > 20:
            return f"「{header}」超过20个字，请只填写对象本人的姓名，其他情况写在家庭基本情况或备注中。"
        if any("a" <= c <= "z" for c in value.lower()):  # Wang Wei: two words, but one person in pinyin
            return f"「{value}」不是汉字姓名。请用汉字填写身份证上的姓名（少数民族姓名用“·”分隔）。"
        if len(value.split()) > 1 or spec.names_a_relation(value):
            return (f"「{value}」不是一个人的姓名。每行只填一个人：填对象本人的姓名，家庭成员写在家庭基本情况中；"
                    "需要救助的家庭成员各填一行。")
        return (f"「{value}」不像中文姓名。请填写身份证上的姓名（只用汉字，少数民族姓名用“·”分隔），"
                "不要填写称谓、数字或备注。")
    if check == "too_long":
        return (f"「{header}」有 {len(value)} 个字，超过上限 {column.max_length} 字。"
                "请精简内容，详细材料另行报送。")
    if check == "not_a_phone":
        return (f"联系电话「{value}」格式不对：手机号是以1开头的11位数字，固定电话请带区号，如 023-79222164；"
                "有几个号码的，用顿号（、）分隔。")
    return f"「{header}」的内容「{value}」不符合要求，请核对后重新填写。"


def _invalid_id(value: str) -> str:
    problem = id_problem(value)
    if problem == "float":
        return ("身份证号码被 Excel 存成了数字，后几位已经丢失，无法恢复。请先把该列设置为“文本”格式，"
                "再重新输入完整的18位号码（或在号码前加英文单引号 '）。")
    if problem == "length":
        return f"身份证号码应为18位，这里是{len(value)}位。请核对后填写完整的18位号码（15位旧号码请换成18位）。"
    if problem == "format":
        return "身份证号码只能是17位数字加最后一位数字或X，请核对是否混入了其他字符。"
    if problem == "birth":
        return "身份证号码中的出生日期不存在（或在今天之后、1900年之前），请对照身份证核对。"
    return "身份证号码最后一位校验码不对，号码可能抄错了一位，请对照身份证核对。"


def _where(frame: pd.DataFrame, index, other) -> str:
    """第5行, or 工作表「胜利社区」第5行 (表格2第5行 in a document) when `other` is on another sheet than `index`."""
    where = f"第{frame.at[other, '_row']}行"
    if frame.at[other, "_sheet"] != frame.at[index, "_sheet"]:
        where = f"{sheet_place(frame.at[other, '_sheet'])}{where}"
    return where


def _duplicate(frame: pd.DataFrame, index) -> str:
    key = frame.at[index, IDENTITY]
    first = frame.index[(frame[IDENTITY] == key)][0]
    where = _where(frame, index, first)
    if identity.by_id(key):
        return (f"与{where}是同一人（身份证号码和姓名都相同），同一人在一个文件中只能填一行。"
                "请删除重复的一行，或把两行内容合并。")
    village = "村（社区）、" if isinstance(frame.at[index, "village"], str) else ""
    return (f"与{where}的乡镇、{village}姓名都相同，又都没有有效的身份证号码，会被当作同一人。"
            "如果是同一人，请删除重复的一行，或把两行内容合并；如果是同名的两个人，请分别填写身份证号码"
            f"{'' if village else '（或村（社区））'}加以区分。")


def _id_shared(frame: pd.DataFrame, index) -> str:
    key = frame.at[index, ID_SHARED]
    others = [i for i in frame.index[frame[ID_SHARED] == key] if i != index]
    where = "、".join(_where(frame, index, i) for i in others)
    names = "」「".join(dict.fromkeys(frame.at[i, "name"] for i in [index, *others]))
    return (f"身份证号码与{where}相同，但姓名不同（「{names}」）。一个身份证号码只属于一个人，"
            "至少有一行填错了：请对照身份证核对这几行的号码，改正后重新报送。")


def describe(code: str, check: str, column: spec.Column, *, header: str, value: str,
             frame: pd.DataFrame, index, as_of: date) -> str:
    """The message for one failed check on one cell."""
    if code == "required":
        return f"「{header}」是必填项，这一行没有填写。请补填后重新报送。"
    if code == "invalid_value":
        return _invalid_value(check, column, header, value, frame, index)
    if code == "invalid_date":
        if check == "date_out_of_range":
            clean = frame.at[index, column.key]
            if clean > as_of.isoformat():
                return f"「{header}」{clean} 晚于 {as_of.isoformat()}（本次检查或汇总的日期），请核对年份和月份。"
            return f"「{header}」{clean} 早于2000年，请核对是否填错。"
        if column.key == "result":
            return frame.at[index, RESULT_MESSAGE]
        return f"「{header}」的「{value}」不是有效日期，请写成{DATE_EXAMPLE}。"
    if code == "invalid_id":
        return _invalid_id(frame.at[index, column.key])
    if code == "duplicate_row":
        return _id_shared(frame, index) if check == "id_shared" else _duplicate(frame, index)
    if code == "inconsistent_result":
        return frame.at[index, RESULT_MESSAGE]
    return f"「{header}」有误，请核对。"
