"""The 催办通知 as an official letter (GB/T 9704-2012 党政机关公文格式): its words, shared by the
超期催办 workbook, the township packets and the HTML summary, and its layout on a worksheet.

The parts, in the standard's order: 发文机关标志 (the organ's name in red 小标宋), 发文字号
(黔江民政催〔2026〕N号, a yearly sequence: roster/letters.numbers), the red rule, the title (二号
小标宋), 主送 (the township), 正文 (三号仿宋, 16 pt), the 附件 line, 发文机关署名 and 成文日期 with
room for the seal above them, 联系人 and 电话 as the 附注; then, from a new page, 附件 with the
table of cases. Everything the bureau may reword is in schemas/letterhead.yaml.

Example: words = letter("城东街道", cases, date(2026, 11, 28), number=3); words.number
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import pandas as pd

from pipeline.rules import overdue, spec, workdays
from pipeline.tools.chinese import cn_date
from pipeline.tools.xlsx import FORMAT_PROPERTIES, display_width, write_merged

BODY_FONT = "仿宋"
TITLE_FONT = "方正小标宋简体"
MARK_FONT = "黑体"
BODY_SIZE = 16     # 三号
TITLE_SIZE = 22    # 二号
ORGAN_SIZE = 26
ORGAN_RED = "#FF0000"
# The standard's page: 版心 156 mm × 225 mm, 22 lines of 28 characters; margins in inches.
MARGINS = {"left": 28 / 25.4, "right": 26 / 25.4, "top": 37 / 25.4, "bottom": 35 / 25.4}
# Points from one line of 正文 to the next: the standard's 22 lines a page would be 28.9; it allows a
# closer spacing so that 署名 and 成文日期 stay on the letter's page (GB/T 9704-2012, 7.3.5.1).
LINE_PITCH = 24
LINE_CHARS = 26                      # 三号 characters on a line of the letter's width (reminders.LETTER_COLUMNS)
TITLE_CHARS = 19                     # 二号 characters on a line


@dataclass(frozen=True)
class Letter:
    """The words of one township's 催办通知, in the order they are printed."""
    organ: str
    number: str
    title: str
    addressee: str
    opening: str
    ask: str
    attachment: str        # 附件说明: 　　附件：城东街道超期未办理事项明细表
    attachment_title: str
    signature: str
    dated: str
    contact: str           # 附注, two characters in: 　　（联系人：社会救助科，电话：79222164）


def number_text(year: int, n: int | None) -> str:
    """发文字号: 黔江民政催〔2026〕3号; without a number, a blank to fill in by hand."""
    return f"{spec.letterhead().number_prefix}〔{year}〕{n if n else '　　'}号"


def letter(township: str, cases: pd.DataFrame, as_of: date, number: int | None = None) -> Letter:
    """The 催办通知 to one township about its overdue cases (as reminders.overdue_cases gives them)."""
    words, limits = spec.letterhead(), spec.thresholds()
    result = spec.short_label(spec.form().column("result").header)
    still = int(cases["still_overdue"].astype(bool).sum())
    attachment_title = f"{township}超期未办理事项明细表"
    opening = (f"　　根据{words.notice}要求，各乡镇（街道）对主动发现的困难群众应及时入户调查、及时办理。"
               f"经区民政局汇总，截至{cn_date(as_of)}，你单位有{len(cases)}名主动发现对象自发现之日起已超过"
               f"{limits['overdue_workdays']}个工作日仍未办理（名单见附件）")
    opening += f"，其中{still}名在区民政局书面提醒后仍未办理。" if still else "。"
    if not workdays.calendar_known(as_of):  # the count may take holidays for working days: say so
        opening += f"（{as_of.year}年放假安排尚未更新，工作日暂按周一至周五计算，如有出入请说明。）"
    ask = (f"　　请你单位接此通知后抓紧入户调查、办理，于{cn_date(overdue.deadline(as_of))}前将办理结果填入明细表"
           f"「{result}」栏报送区民政局。按照通知要求，凡经书面提醒后无正当理由仍未办理的，"
           f"视为未做到“应保尽保、应救尽救”，将追究相关人员责任。")
    return Letter(words.organ, number_text(as_of.year, number), words.title, f"{township}{words.addressee}：",
                  opening, ask, f"　　附件：{attachment_title}", attachment_title, words.signature, cn_date(as_of),
                  f"　　（联系人：{words.contact}，电话：{words.phone}）")


DATE_INDENT = 4  # 成文日期右空四字


def signature_pad(words: Letter) -> int:
    """Characters of room right of the 署名, so that it stands centred over the 成文日期, which
    stands DATE_INDENT characters from the right margin."""
    return max(0, round(DATE_INDENT + (_ems(words.dated) - _ems(words.signature)) / 2))


def signature_lines(words: Letter) -> tuple[str, str]:
    """署名 and 成文日期 for a right-aligned cell: full-width spaces after each."""
    return words.signature + "　" * signature_pad(words), words.dated + "　" * DATE_INDENT


def _ems(text: str) -> float:
    return display_width(text) / 2.1


def lines(text: str) -> int:
    """Lines of 三号 text on the 版心's width."""
    return max(1, math.ceil(_ems(text) / LINE_CHARS))


def formats(workbook) -> dict:
    body = {"font_name": BODY_FONT, "font_size": BODY_SIZE, "font_charset": 134, "text_wrap": True}
    return {
        "organ": workbook.add_format({**body, "font_name": TITLE_FONT, "font_size": ORGAN_SIZE, "font_color": ORGAN_RED,
                                      "align": "center", "valign": "vcenter"}),
        "number": workbook.add_format({**body, "align": "center", "valign": "bottom"}),
        "rule": workbook.add_format({"bottom": 2, "bottom_color": ORGAN_RED}),
        "title": workbook.add_format({**body, "font_name": TITLE_FONT, "font_size": TITLE_SIZE, "align": "center",
                                      "valign": "vcenter"}),
        "body": workbook.add_format({**body, "align": "left", "valign": "vjustify"}),
        "sign": workbook.add_format({**body, "align": "right", "valign": "vcenter"}),
        "mark": workbook.add_format({**body, "font_name": MARK_FONT, "align": "left", "valign": "vcenter"}),
        "attachment_title": workbook.add_format({**FORMAT_PROPERTIES["title"], "font_name": TITLE_FONT,
                                                 "text_wrap": True}),
    }


def write_letter_sheet(ws, words: Letter, last_col: int, fmts: dict) -> int:
    """The letter's page on rows 0…, its 附件 from a new page; the row the case table's header goes on."""
    signed, dated = signature_lines(words)
    body = [(words.organ, "organ", 40), (words.number, "number", 30), ("", "rule", 8), ("", None, 14),
            (words.title, "title", 32 * max(1, math.ceil(_ems(words.title) / TITLE_CHARS))), ("", None, 12),
            (words.addressee, "body", LINE_PITCH * lines(words.addressee)),
            (words.opening, "body", LINE_PITCH * lines(words.opening)),
            (words.ask, "body", LINE_PITCH * lines(words.ask)), ("", None, LINE_PITCH),
            (words.attachment, "body", LINE_PITCH), ("", None, LINE_PITCH),  # the seal comes down on 署名 and date
            (signed, "sign", LINE_PITCH), (dated, "sign", LINE_PITCH),
            (words.contact, "body", LINE_PITCH)]
    for row, (text, fmt, height) in enumerate(body):
        if fmt is None:
            ws.set_row(row, height)
        else:
            write_merged(ws, row, last_col, text, fmts[fmt], height=height)
    row = len(body)
    ws.set_h_pagebreaks([row])  # 附件 starts a page
    write_merged(ws, row, last_col, "附件", fmts["mark"], height=LINE_PITCH)
    write_merged(ws, row + 1, last_col, words.attachment_title, fmts["attachment_title"], height=40)
    return row + 3
