"""The blank form a township fills in, as the bureau would print and send it.

明细表: title, 填报单位/填报日期, the ten official headers in the notice's order and the
optional columns, input rows with drop-down lists and date/ID checks. 走访记录: the visits
sheet. 说明: how to fill it in, in plain Chinese. 选项 (hidden): the drop-down lists.
Headers, vocabularies and townships all come from schemas/ through `spec`.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from xlsxwriter.exceptions import XlsxWriterException
from xlsxwriter.utility import quote_sheetname, xl_rowcol_to_cell

from pipeline.errors import JiuzhuError
from pipeline.reports.template_columns import (
    DATE_CHECK,
    DATE_EXAMPLE,
    ID_LENGTH,
    RESULT_EXAMPLES,
    option_lists,
    prompt,
    resolve_township,
    short_forms,
    short_header,
    source,
    validation,
)
from pipeline.rules import spec, townships
from pipeline.tools.xlsx import (
    add_validation,
    border_when_filled,
    formats,
    new_workbook,
    print_setup,
    row_height,
    text_lines,
    write_text,
)

FORM_SHEET = "明细表"
GUIDE_SHEET = "说明"
OPTIONS_SHEET = "选项"
FORM_HEADER_ROW = 2    # zero-based: title, 填报单位 line, header

BORDERED_ROWS = 20     # boxed input rows: one printed page of blank form
INPUT_ROWS = 1000      # rows with drop-downs and checks; boxed once something is typed
def _boxed(col: spec.Column, fmts: dict) -> tuple:
    """(format of a boxed input cell, column default format) for a column kind."""
    if col.kind == "date":
        return fmts["date"], fmts["plain_date"]
    if col.kind in ("id", "phone"):
        return fmts["text"], fmts["plain_text"]
    if col.key == "seq" or col.kind in ("vocab",):
        return fmts["cell_center"], fmts["plain"]
    return fmts["cell"], fmts["plain"]


def _input_table(ws, table: spec.Table, fmts: dict, *, header_row: int,
                 township: str | None) -> None:
    """Header, boxed blank rows, column formats and per-column checks of one table."""
    first, last = header_row + 1, header_row + INPUT_ROWS
    for index, col in enumerate(table.columns):
        boxed, plain = _boxed(col, fmts)
        ws.set_column(index, index, col.width, plain)
        optional = table.kind == "form" and not col.official
        ws.write_string(header_row, index, col.header,
                        fmts["header_optional"] if optional else fmts["header"])
        if optional:
            note = "选填。" + (prompt(col, township) or "")
            ws.write_comment(header_row, index, note,
                             {"width": 220, "height": 20 + 16 * text_lines(note, 28)})
        for row in range(first, first + BORDERED_ROWS):
            ws.write_blank(row, index, None, boxed)
        add_validation(ws, first, index, last, index, validation(col, township))
    ws.set_row(header_row, row_height([(c.header, c.width) for c in table.columns]))
    border_when_filled(ws, first + BORDERED_ROWS, last, len(table.columns) - 1, fmts["border"])


def _spans(widths: list[float], minimum: float) -> int:
    """How many columns from the left it takes to be at least `minimum` units wide."""
    total = 0.0
    for count, width in enumerate(widths, start=1):
        total += width
        if total >= minimum:
            return count
    return len(widths)


def _merge_or_write(ws, row: int, first: int, last: int, value, fmt) -> None:
    if last > first:
        ws.merge_range(row, first, row, last, "", fmt)
    write_text(ws, row, first, value, fmt)


def _preamble(ws, row: int, table: spec.Table, fmts: dict, township: str | None, *,
              with_date: bool) -> None:
    """填报单位：[township]（盖章）on the left, 填报日期：[date] on the right."""
    widths = [c.width for c in table.columns]
    unit_labels, date_labels = spec.preamble_labels()
    n = len(widths)
    unit_end = _spans(widths, 11) - 1
    date_start = n
    if with_date:
        date_value = n - _spans(widths[::-1], 12)
        date_start = date_value - _spans(widths[:date_value][::-1], 11)
        _merge_or_write(ws, row, date_start, date_value - 1, date_labels[0] + "：", fmts["label_right"])
        _merge_or_write(ws, row, date_value, n - 1, None, fmts["fill_in_date"])
        add_validation(ws, row, date_value, row, date_value, {
            **DATE_CHECK, "input_title": date_labels[0], "input_message": DATE_EXAMPLE})
    _merge_or_write(ws, row, 0, unit_end, unit_labels[0] + "：", fmts["label"])
    value_end = min(unit_end + _spans(widths[unit_end + 1:], 16), date_start - 1)
    _merge_or_write(ws, row, unit_end + 1, value_end, township, fmts["fill_in"])
    townships = option_lists()["township"]
    add_validation(ws, row, unit_end + 1, row, unit_end + 1, {
        "validate": "list", "source": source(townships), "error_type": "warning",
        "input_title": unit_labels[0], "input_message": "请选择本乡镇（街道）全称。",
        "error_title": "请从下拉列表选择", "error_message": "不是本区的乡镇（街道）全称，是否仍要保留？"})
    if value_end + 1 < date_start:
        write_text(ws, row, value_end + 1, "（盖章）", fmts["label"])
    ws.set_row(row, 24)


def _title(ws, row: int, text: str, last_col: int, fmts: dict) -> None:
    ws.merge_range(row, 0, row, last_col, text, fmts["title"])
    ws.set_row(row, 40)


def _options_sheet(workbook, fmts: dict) -> None:
    """The drop-down lists, one per column, hidden; each a workbook name for old Excel/WPS."""
    ws = workbook.add_worksheet(OPTIONS_SHEET)
    sheet = quote_sheetname(OPTIONS_SHEET)
    for col, option in enumerate(option_lists().values()):
        ws.set_column(col, col, 16)
        # "选项：…" so that this row is never mistaken for a header of the form.
        ws.write_string(0, col, f"选项：{option.label}", fmts["label"])
        for row, value in enumerate(option.values, start=1):
            write_text(ws, row, col, value, fmts["label"])
        first = xl_rowcol_to_cell(1, col, row_abs=True, col_abs=True)
        last = xl_rowcol_to_cell(len(option.values), col, row_abs=True, col_abs=True)
        workbook.define_name(option.name, f"={sheet}!{first}:{last}")
    ws.hide()


# --- the instructions sheet -----------------------------------------------------------

GUIDE_WIDTHS = (24, 8, 62)


def _column_rows(table: spec.Table, township: str | None) -> list[list[str]]:
    rows = []
    for col in table.columns:
        how = prompt(col, township)
        if col.kind == "types":
            shorts = "、".join(f"{s}（{v}）" for s, v in short_forms("assistance_types"))
            how += f"常用简称也可以识别：{shorts}。"
        rows.append([col.header, "必填" if col.required else "选填", how])
    return rows


def _guide_blocks(township: str | None, created: date) -> list[tuple[str, object]]:
    """The 说明 sheet as (kind, content) blocks: heading, para, table."""
    form, visits = spec.form(), spec.visits_table()
    unit_label, date_label = spec.preamble_labels()[0][0], spec.preamble_labels()[1][0]
    required = "、".join(short_header(c.header) for c in form.columns if c.required)
    official = [c for c in form.columns if c.official]
    optional = "、".join(c.header for c in form.columns if not c.official)
    header_row = FORM_HEADER_ROW + 1  # as a person sees it
    col = form.column
    result, investigation, remark = (col("result").header, short_header(col("investigation").header),
                                     col("remark").header)
    seen = visits.column("seen").header
    yes, no = spec.vocabulary("seen").values[:2]
    example = township or townships.listed()[0].name
    limits = spec.thresholds()
    return [
        ("heading", "一、基本要求"),
        ("para", f"1. 在「{FORM_SHEET}」工作表中填写，每行填写一名救助对象（一人一行），从第{header_row + 1}行"
                 f"开始填写。不要合并单元格，不要删除、修改或调换第{header_row}行表头。"),
        ("para", f"2. 「{unit_label}」填写本乡镇（街道）全称（可从下拉列表选择），「{date_label}」填写报送当天的日期。"),
        ("para", f"3. 必填列：{required}。必填列空着的行会被退回。"),
        ("para", f"4. 前{len(official)}列与区民政局通知附件的表格一致；后面的 {optional} 为选填。"
                 "建议填写身份证号码，便于核对是不是同一个人。"),
        ("para", "5. 填表人、审核人等签字信息请写在所有数据行的下面。写在签字行下面的人员仍会读取，但会提示；"
                 "「合计」「小计」行不计入人员。不要把数据放在隐藏的工作表里，隐藏工作表的内容不会被读取。"),
        ("heading", "二、各列填写方法"),
        ("table", [["列名", "必填/选填", "填写方法"], *_column_rows(form, township)]),
        ("heading", f"三、「{short_header(result)}」怎么写"),
        ("para", f"尚未办结的留空，视为“{spec.STATUS_LABELS['pending']}”。已办结的按下面的样子写："),
        *[("para", f"● {case}：{example}{after.format(remark=remark)}")
          for case, example, after, _ in RESULT_EXAMPLES],
        ("para", f"填写了办理结果的，「{investigation}」也必须填写；纳入时间不能晚于报送日期。"),
        ("heading", "四、日期和身份证号码"),
        ("para", "日期写成 2026年11月20日 或 2026-11-20 都可以。"),
        ("para", f"「{col('discovered').header}」不填的，按区民政局第一次收到该对象的日期算。从发现之日起超过"
                 f"{limits['overdue_workdays']}个工作日仍没有办理结果的，列入超期催办。"),
        ("para", f"身份证号码为{ID_LENGTH}位，最后一位可以是X。本列已设为文本格式，请直接输入；不要改成数字格式，"
                 "也不要从别的表格粘贴成数值，否则后几位会变成0，号码就无法识别。"),
        ("heading", f"五、「{visits.sheet}」工作表"),
        ("para", f"重点人群（{spec.STATUS_LABELS['pending']}的和列入观察的救助对象）每月至少走访"
                 f"{limits['visits_per_month']}次，自列入名单后的第一个完整月起（1日列入的当月起，"
                 f"其他日期列入的下个月起），每个月都要有见到本人的走访记录。每走访一次填一行：{'、'.join(c.header for c in visits.columns if c.required)}"
                 f"必填，{'、'.join(c.header for c in visits.columns if not c.required)}选填。"),
        ("para", f"「{seen}」填“{yes}”或“{no}”。填“{no}”的不算走访（走访到户不见人不放过），"
                 "要再次上门，见到本人后再填一行。"),
        ("heading", "六、报送"),
        ("para", "每周报送一次。本周没有新发现对象的，也要报送本表：填写填报单位和填报日期，表格中不填任何行（零报告）。"),
        ("para", f"报送前请先检查文件：运行 jiuzhu check 文件名.xlsx，提示全部通过后再报送；有问题的按提示修改。"
                 f"文件名最好写上单位和日期，如 {example}{created:%m%d}.xlsx。"),
        ("para", "最好保持 .xlsx 格式。也能读取的有：.xls、.xlsm、.csv，WPS 表格（.et），用 Word 或 WPS 文字填写的通知附件"
                 "表格（.docx、.doc、.wps），业务系统导出的“.xls”表格（网页或 Excel 2003 XML 格式），以及把这些文件压缩成的 "
                 ".zip 压缩包（不要压缩包套压缩包）。PDF、图片、.rar 和 .7z 压缩包不能读取。不要给文件、工作表或压缩包设置密码。"),
    ]


def _guide_sheet(workbook, fmts: dict, township: str | None, created: date) -> None:
    ws = workbook.add_worksheet(GUIDE_SHEET)
    total = sum(GUIDE_WIDTHS)
    last_col = len(GUIDE_WIDTHS) - 1
    for index, width in enumerate(GUIDE_WIDTHS):
        ws.set_column(index, index, width)
    _title(ws, 0, f"{spec.form_title()}填表说明", last_col, fmts)
    row = 1
    for kind, content in _guide_blocks(township, created):
        row += 1
        if kind == "heading":
            ws.merge_range(row, 0, row, last_col, content, fmts["heading"])
            ws.set_row(row, 24)
        elif kind == "para":
            ws.merge_range(row, 0, row, last_col, content, fmts["note"])
            ws.set_row(row, row_height([(content, total)]))
        else:
            header, *body = content
            for index, text in enumerate(header):
                ws.write_string(row, index, text, fmts["header"])
            for values in body:
                row += 1
                for index, text in enumerate(values):
                    write_text(ws, row, index, text, fmts["cell_center"] if index == 1 else fmts["cell"])
                ws.set_row(row, row_height(zip(values, GUIDE_WIDTHS)))
    print_setup(ws, header_rows=None, last_col=last_col, landscape=False)


# --- the workbooks --------------------------------------------------------------------


def _output(path: Path) -> Path:
    """Where to save a template: .xlsx added to a name without one; any other suffix refused,
    since only an .xlsx keeps the drop-down lists (a .csv or .xls would hold xlsx bytes)."""
    path = Path(path)
    if not path.suffix:
        return path.with_name(path.name + ".xlsx")
    if path.suffix.lower() != ".xlsx":
        raise JiuzhuError(f"模板只能保存为 .xlsx 文件（下拉选项和填表说明只有 .xlsx 能保留），"
                          f"请把「{path.name}」改为「{path.stem}.xlsx」。")
    return path


def _close(workbook, path: Path) -> Path:
    try:
        workbook.close()
    except (OSError, XlsxWriterException) as exc:
        cause = exc.args[0] if exc.args and isinstance(exc.args[0], OSError) else exc  # xlsxwriter wraps it
        if isinstance(cause, FileNotFoundError):
            raise JiuzhuError(f"文件夹「{path.parent}」不存在，无法保存 {path.name}。"
                              "请先建立这个文件夹，或换一个保存位置。") from exc
        if isinstance(cause, PermissionError):
            raise JiuzhuError(f"没有权限写入 {path}。如果这个文件正在 Excel 或 WPS 中打开，请先关闭；"
                              "否则请换一个保存位置。") from exc
        raise JiuzhuError(f"无法写入 {path}（{cause}）。请换一个保存位置后再试。") from exc
    return path


def write_template(path: Path, *, township: str | None = None, created: date | None = None) -> Path:
    """Write the blank 明细表 with 走访记录, 说明 and the hidden drop-down lists.

    Example: write_template(Path("城西街道明细表.xlsx"), township="城西")  # 填报单位：城西街道
    """
    path = _output(path)
    township = resolve_township(township)
    created = created or date.today()
    form, visits = spec.form(), spec.visits_table()
    workbook = new_workbook(path, created=created, title=spec.form_title())
    fmts = formats(workbook)

    ws = workbook.add_worksheet(FORM_SHEET)
    last_col = len(form.columns) - 1
    _title(ws, 0, spec.form_title(), last_col, fmts)
    _preamble(ws, 1, form, fmts, township, with_date=True)
    _input_table(ws, form, fmts, header_row=FORM_HEADER_ROW, township=township)
    print_setup(ws, header_rows=(FORM_HEADER_ROW, FORM_HEADER_ROW), last_col=last_col)
    ws.activate()

    ws = workbook.add_worksheet(visits.sheet)
    _input_table(ws, visits, fmts, header_row=0, township=township)
    print_setup(ws, header_rows=(0, 0), last_col=len(visits.columns) - 1,
                page_title=f"{township or ''}{visits.sheet}")

    _guide_sheet(workbook, fmts, township, created)
    _options_sheet(workbook, fmts)
    return _close(workbook, path)


def write_assistants_template(path: Path, *, township: str | None = None,
                              created: date | None = None) -> Path:
    """Write a blank 社会救助协理员名册 with the township drop-down.

    Example: write_assistants_template(Path("协理员名册.xlsx"), township="城西街道")
    """
    path = _output(path)
    township = resolve_township(township)
    created = created or date.today()
    table = spec.assistants_table()
    title = f"{townships.district_name()}社会救助{table.sheet}"
    workbook = new_workbook(path, created=created, title=title)
    fmts = formats(workbook)
    ws = workbook.add_worksheet(table.sheet)
    last_col = len(table.columns) - 1
    _title(ws, 0, title, last_col, fmts)
    _preamble(ws, 1, table, fmts, township, with_date=False)
    _input_table(ws, table, fmts, header_row=FORM_HEADER_ROW, township=township)
    print_setup(ws, header_rows=(FORM_HEADER_ROW, FORM_HEADER_ROW), last_col=last_col, landscape=False)
    ws.activate()
    _options_sheet(workbook, fmts)
    return _close(workbook, path)
