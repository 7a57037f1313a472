"""Find the tables inside sheets: the header row below the title and 填报单位 rows, the
columns it names, and the data rows between it and the footer.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime

from pipeline.intake.read import Sheet
from pipeline.rules import spec

MIN_HEADER_MATCHES = 3


@dataclass
class Located:
    """A table found in a sheet: which kind, where its header is, and its data rows.

    `cells[i]` holds the raw cell values of data row `rows[i]` (Excel row); `columns` maps
    each column key found in the header to its index in those lists. normalise.prepare
    replaces the cells with `prepared`: per column key, (each cell's text, its clean value).
    """

    kind: str  # "form" | "visits" | "assistants"
    sheet: str
    visible: bool
    header_row: int
    headers: dict[str, str]  # key -> header text as written in the file
    columns: dict[str, int]  # key -> column index
    missing: list[str]  # required keys with no column
    unknown: list[str] = field(default_factory=list)  # header texts that name no column
    rows: list[int] = field(default_factory=list)
    cells: list[list] = field(default_factory=list)
    prepared: dict[str, tuple[list, list]] | None = None
    unit: str | None = None  # text of the 填报单位 cell
    filled_date: str | date | None = None
    below_footer: list[int] = field(default_factory=list)  # Excel rows of people read below a footer
    result_dates: int | None = None  # index of a 纳入时间 column beside 办理结果 (see normalise.prepare)
    # key -> indexes of further columns whose header names a column found already (a second 备注)
    repeated: dict[str, list[int]] = field(default_factory=dict)
    returned: bool = False  # the header has the columns of a 退回意见 workbook (原行号, 问题说明)


def cell_text(value) -> str:
    """A cell as a person reads it: 3.0 → "3", a date → 2022-11-20, None → ""."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value) if abs(value) >= 1e15 else str(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d") if not (value.hour or value.minute or value.second) \
            else value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _tables() -> list[spec.Table]:
    return [spec.form(), spec.visits_table(), spec.assistants_table()]


# No header cell is longer than this; longer cells are data and need no matching.
MAX_HEADER_LENGTH = 120


def _match_row(folded: list[tuple[int, str]], table: spec.Table) -> dict[int, str]:
    found: dict[int, str] = {}
    for index, key in ((i, table.match_folded(f)) for i, f in folded):
        if key and key not in found.values():
            found[index] = key
    return found


def find_header(sheet: Sheet) -> tuple[int, spec.Table, dict[int, str]] | None:
    """(row index, table kind, column index → key) of the best header in the first rows."""
    best = None
    best_score = MIN_HEADER_MATCHES - 1
    limit = spec.thresholds()["header_scan_rows"]
    misses = 0
    for index, row in enumerate(sheet.rows[:limit]):
        folded = [(i, spec.fold(v)) for i, v in enumerate(row)
                  if isinstance(v, str) and 0 < len(v) <= MAX_HEADER_LENGTH]
        row_best = 0
        for table in _tables():
            found = _match_row(folded, table) if len(folded) >= MIN_HEADER_MATCHES else {}
            score = len(found)
            # The sheet name breaks a tie between the form and the visit sheet.
            if score and table.sheet and table.sheet in sheet.name:
                score += 0.5
            row_best = max(row_best, score)
            if score > best_score:
                best, best_score = (index, table, found), score
        # Data rows follow the header: once a header is found, a few rows without any
        # header text end the search.
        misses = misses + 1 if best and row_best == 0 else 0
        if misses >= 3:
            break
    return best


def _labelled(rows: list[list], labels: list[str], all_labels: list[str]):
    """The value after a label such as 填报单位：, in the same cell or the next filled one."""
    for row in rows:
        for index, value in enumerate(row):
            compact = re.sub(r"\s+", "", cell_text(value))
            label = next((lb for lb in labels if lb in compact), None)
            if label is None:
                continue
            rest = compact.split(label, 1)[1]
            if bracket := _BRACKETED.match(rest):  # 填报单位（盖章）：, 填报日期（年月日）：
                rest = rest[bracket.end():]
            rest = rest.lstrip(":：")
            # Another label on the same line ends the value: 填报单位：… 填报日期：…
            ends = [rest.find(lb) for lb in all_labels if lb in rest]
            rest = rest[: min(ends)] if ends else rest
            if rest:
                return rest
            for after in row[index + 1:]:
                if isinstance(after, (date, datetime)):
                    return after
                if cell_text(after).strip():
                    return cell_text(after).strip()
    return None


_FOOTER_INITIALS = {label[0] for label in spec.footer_labels() + spec.subtotal_labels()}
_TOTALS = tuple(spec.subtotal_labels())  # need no colon after them
_BRACKETED = re.compile(r"[（(][^）)]{0,8}[）)]")     # （签字）, (盖章)


def _is_footer(first: str, labels: tuple[str, ...]) -> bool:
    """A row that starts with 填表人：, 填表人（签字）：, 填表人 王五, 审核：, 合计, 小计 …"""
    folded = re.sub(r"\s+", "", first)
    if not folded.startswith(labels):
        return False
    lead = first.lstrip()
    for label in labels:
        if folded.startswith(label):
            rest = folded[len(label):]
            if bracket := _BRACKETED.match(rest):
                rest = rest[bracket.end():]
            if not rest or rest[0] in ":：" or label in _TOTALS:
                return True
            if lead.startswith(label) and lead[len(label):len(label) + 1].isspace():
                return True  # a space for the colon
    return False


_CHINESE_NUMBERS = {c: n for n, c in enumerate("零一二三四五六七八九十", start=0)}
_NUMBER_MARKS = re.compile(r"^[(（\[【]?(.+?)[)）\]】]?[.、．]?$")
_NUMBERY = re.compile("[0-9０-９()（）\\[\\]【】.、．\u2460-\u2473零一二三四五六七八九十 ]{1,8}")  # a quick no


def _column_number(text: str) -> int | None:
    """1, (1), （1）, 1., ①, 一 or 十四 as a number; None for anything else."""
    if not _NUMBERY.fullmatch(text):
        return None
    text = unicodedata.normalize("NFKC", text.strip())  # full-width digits, ① → 1
    marked = _NUMBER_MARKS.match(text)
    core = marked[1] if marked else text
    if core.isascii() and core.isdigit():
        return int(core)
    if core and all(c in _CHINESE_NUMBERS for c in core) and len(core) <= 3:
        if core == "十":
            return 10
        if core.startswith("十"):
            core = "一" + core
        tens, _, ones = core.partition("十")
        if not _:
            return _CHINESE_NUMBERS[core] if len(core) == 1 else None
        return _CHINESE_NUMBERS[tens] * 10 + (_CHINESE_NUMBERS[ones] if ones else 0)
    return None


def _is_column_numbers(row: list) -> bool:
    """A row of four or more filled cells that count 1, 2, 3 … (or 0, 1, 2 …) from left to right,
    as a printed form numbers its columns: 1, (1), ①, 一 …"""
    numbers = []
    for value in filter(_filled, row):
        number = _column_number(cell_text(value))
        if number is None:
            return False
        numbers.append(number)
    return len(numbers) >= 4 and numbers[0] <= 1 and numbers == list(range(numbers[0], numbers[0] + len(numbers)))


def _filled(value) -> bool:
    """Only None and blank text are empty: any number, date or truth value shows something."""
    return value is not None and (value.__class__ is not str or bool(value.strip()))


def _text_row(row: list) -> bool:
    """A row of text only (no number or date): it may be part of a header, never a person."""
    return all(v is None or v.__class__ is str for v in row)


def _header_paths(upper: list, lower: list) -> list[tuple[str, str]]:
    """(upper text, lower text) of each column of a two-row header. A group label merged across
    its columns (发现情况 over 发现方式 | 发现人 | 所属乡镇（街道）) is written in its first column
    only: it heads the columns to its right whose upper cell is empty and lower cell is not."""
    width = max(len(upper), len(lower))
    texts = [[re.sub(r"\s+", "", cell_text(row[i])) if i < len(row) and row[i].__class__ is str else ""
              for i in range(width)] for row in (upper, lower)]
    paths, group = [], ""
    for up, low in zip(*texts):
        if up:
            group = up if low else ""  # a label with nothing under it heads no group
        paths.append((up or (group if low else ""), low))
    return paths


def _match_paths(paths: list[tuple[str, str]], table: spec.Table) -> dict[int, tuple[str, str]]:
    """Column index → (key, header text) of a two-row header, each column matched by its full
    path, the lower cell first: the lower cell alone, then upper and lower together (乡镇（街道）
    over 调查情况), then the upper cell alone (a header merged down, or written in the upper row
    only). Each key goes to one column, so a group label (乡镇（街道） over 调查情况 | 办理结果) is
    never taken for 所属乡镇（街道） when a column names that below."""
    found: dict[int, tuple[str, str]] = {}
    taken: set[str] = set()
    for candidates in (lambda up, low: low,
                       lambda up, low: up + low if up and low and up != low else "",
                       lambda up, low: up if not low or up == low else ""):
        for i, (up, low) in enumerate(paths):
            text = candidates(up, low)
            if i in found or not text or len(text) > MAX_HEADER_LENGTH:
                continue
            key = table.match_folded(spec.fold(text))
            if key and key not in taken:
                found[i] = (key, text)
                taken.add(key)
    return found


def _two_row_header(sheet: Sheet, header_index: int, table: spec.Table,
                    columns: dict[int, str]) -> tuple[dict[int, str], dict[int, str], int, list]:
    """The header's columns, their header texts, the header's last row and its cells as one row.

    The printed form groups columns in a row above their own headers (乡镇（街道） over 调查情况
    and 办理结果; some add 发现情况 over 发现方式, 发现人 and 所属乡镇（街道）), its other headers
    merged down both rows or written in one of them. When the row just above or below the header
    is text only and the two rows read as one header (`_match_paths`) name more columns than the
    header row alone, they are that header."""
    header = sheet.rows[header_index]
    single = {i: re.sub(r"\s+", "", cell_text(header[i])) for i in columns}
    best = (columns, single, header_index, header)
    for upper, lower in ((header_index - 1, header_index), (header_index, header_index + 1)):
        if upper < 0 or lower >= len(sheet.rows):
            continue
        if not _text_row(sheet.rows[lower if upper == header_index else upper]):
            continue
        paths = _header_paths(sheet.rows[upper], sheet.rows[lower])
        found = _match_paths(paths, table)
        if len(found) > len(best[0]):
            merged = [low or up for up, low in paths]
            best = ({i: key for i, (key, _) in found.items()}, {i: text for i, (_, text) in found.items()},
                    lower, merged)
    return best


def locate(sheet: Sheet) -> Located | None:
    """The table in a sheet, or None when no row of its first rows looks like a header.

    Example: locate(read_sheets(path)[0]).rows  # Excel rows of the data
    """
    found = find_header(sheet)
    if found is None:
        return None
    header_index, table, columns = found
    columns, texts, last_header, header = _two_row_header(sheet, header_index, table, columns)
    located = Located(
        kind=table.kind, sheet=sheet.name, visible=sheet.visible,
        header_row=sheet.row_numbers[header_index],
        headers={key: texts[i] for i, key in columns.items()},
        columns={key: i for i, key in columns.items()},
        missing=[key for key in table.required if key not in columns.values()],
        unknown=[text for i, v in enumerate(header)
                 if i not in columns and (text := re.sub(r"\s+", "", cell_text(v))) and not text.isdigit()
                 and text not in spec.feedback_columns().values()],
    )
    located.returned = any(cell_text(v).strip() in spec.feedback_columns().values() for v in header)
    for i, v in enumerate(header):
        if i not in columns and v.__class__ is str and (key := table.match_folded(spec.fold(v))) in located.columns:
            located.repeated.setdefault(key, []).append(i)
            if (text := re.sub(r"\s+", "", v)) in located.unknown:
                located.unknown.remove(text)
    if table.kind == "form" and "result" in located.columns:
        dated = [i for i, v in enumerate(header)
                 if i not in columns and spec.fold(cell_text(v)) in spec.result_date_headers()]
        if dated:
            located.result_dates = dated[0]
            located.unknown.remove(re.sub(r"\s+", "", cell_text(header[dated[0]])))
    unit_labels, date_labels = spec.preamble_labels()
    above = sheet.rows[:header_index]
    located.unit = _labelled(above, unit_labels, unit_labels + date_labels)
    located.filled_date = _labelled(above, date_labels, unit_labels + date_labels)

    footers, subtotals = tuple(spec.footer_labels()), tuple(spec.subtotal_labels())
    preamble = tuple(unit_labels + date_labels)
    preamble_initials = {label[0] for label in preamble}
    header_texts = {t for t in (cell_text(v).strip() for v in header) if t}
    prefilled = spec.prefilled_columns()
    content = [i for i, key in columns.items() if key not in prefilled]
    probe = content[:2]
    merged = sheet.merged
    footer = below = False  # a footer seen; a footer, total or subtotal seen
    nothing_initials = spec.nothing_to_report_initials()
    # The loop below runs once per row of every sheet: its tests are written out inline, cheapest
    # first, since most rows are people and pass them all.
    rows, cells, below_footer, numbers = located.rows, located.cells, located.below_footer, sheet.row_numbers
    for offset, row in enumerate(sheet.rows[last_header + 1:], start=last_header + 1):
        for first in row:  # the first filled cell (_filled, written out)
            if first is not None and (first.__class__ is not str or first.strip()):
                break
        else:
            continue
        if first.__class__ is str:  # a footer, a total or a 填报单位 row starts with its label, never a number
            initial = first.lstrip()[:1]
            if initial in _FOOTER_INITIALS:
                if _is_footer(first, subtotals):
                    below = True
                    continue  # a village's subtotal between its people, a total
                if _is_footer(first, footers):
                    footer = below = True
                    continue
            if initial in preamble_initials and _is_footer(first, preamble):
                continue  # 填报单位：… of a block pasted again below
        width = len(row)
        # The row's own cells (not merged down from above) in the columns a person fills.
        own = 0  # how many, up to two; `first_own` the first
        for i in content:
            if i < width and (v := row[i]) is not None and (v.__class__ is not str or v.strip()) \
                    and (not merged or (offset, i) not in merged):
                own += 1
                if own == 1:
                    first_own = i
                else:
                    break
        if not own:
            continue  # blank, only columns filled down in advance (序号, 乡镇 …), or cells merged down
        if below and own < 2:
            continue  # under a footer or a total, a single cell is a note, a signature or a date
        # Each test below needs its first own cell to pass it: most rows are let through there.
        text = v if (v := row[first_own]).__class__ is str else cell_text(v)
        if _NUMBERY.fullmatch(text) and _is_column_numbers(row):
            continue  # 1 2 3 … under the header, as printed forms number their columns
        if text.lstrip()[:1] in nothing_initials and spec.says_nothing(text) and \
                all(spec.says_nothing(cell_text(row[i])) for i in content if i < width and _filled(row[i])):
            continue  # 无 / 本周无新增 written into the table: a zero report
        # A header repeated further down (pasted pages) is not a person.
        for i in probe:  # a loop, not any(): no generator made for each row
            if i < width and (v if (v := row[i]).__class__ is str else cell_text(v)).strip() in header_texts:
                break
        else:
            i = None
        if i is not None and sum(cell_text(v).strip() in header_texts for v in row) >= MIN_HEADER_MATCHES:
            continue
        rows.append(numbers[offset])
        cells.append(row)
        if footer:
            below_footer.append(numbers[offset])
    return located
