"""The same submission in the formats townships really send: the form filled in Word (python-
docx), an export named .xls that is a web page or Excel 2003 XML, and a .zip with GBK names.
Each is made from a workbook that pipeline.demo.synth wrote, cell for cell as its text, so
that a test can compare what the reader makes of both. Nothing binary is committed.
"""

from __future__ import annotations

import html
import zipfile
from pathlib import Path

import docx
import python_calamine
from docx.shared import Pt

from pipeline.intake.tables import cell_text

NOTICE_BEFORE = ["重庆市黔江区民政局", "关于进一步完善社会救助主动发现工作机制的通知",
                 "各乡镇人民政府、街道办事处：", "为切实兜住兜牢民生底线，现将有关事项通知如下。",
                 "附件：黔江区社会救助主动发现救助对象明细表"]
NOTICE_AFTER = ["重庆市黔江区民政局", "2022年11月9日"]


def workbook_rows(path: Path) -> list[list[str]]:
    """The first sheet of a workbook as text, as a person reads it (a date as 2026-11-20)."""
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    rows = book.get_sheet_by_index(0).to_python(skip_empty_area=False)
    return [[cell_text(v) for v in row] for row in rows]


def split_table(rows: list[list[str]]) -> tuple[list[str], list[list[str]]]:
    """(the lines above the table: title, 填报单位 …; the table from its header down)."""
    start = next(i for i, row in enumerate(rows) if sum(bool(v.strip()) for v in row) >= 3)
    return [" ".join(v for v in row if v.strip()) for row in rows[:start]], rows[start:]


def write_docx(path: Path, table: list[list[str]], *, above: list[str] = (), notice: bool = True,
               merges: list[tuple[int, int, int, int]] = ()) -> Path:
    """The form as a Word document: the notice's text around it (when `notice`), the lines
    `above` it, and `table`; `merges` are (row, column, last row, last column) cell ranges."""
    document = docx.Document()
    document.styles["Normal"].font.size = Pt(10)
    for line in NOTICE_BEFORE if notice else []:
        document.add_paragraph(line)
    for line in above:
        document.add_paragraph(line)
    width = max(len(row) for row in table)
    grid = document.add_table(rows=len(table), cols=width)
    for r, row in enumerate(table):
        cells = grid.rows[r].cells
        for c, value in enumerate(row):
            if value:
                cells[c].text = value
    for top, left, bottom, right in merges:
        grid.cell(top, left).merge(grid.cell(bottom, right))
    for line in NOTICE_AFTER if notice else []:
        document.add_paragraph(line)
    document.save(path)
    return path


def write_html(path: Path, table: list[list[str]], *, above: list[str] = (), charset: str = "gb2312",
               spans: dict[tuple[int, int], tuple[int, int]] | None = None) -> Path:
    """An "xls" as business systems export it: a web page in `charset` with one table.
    `spans` maps (row, column) to (rowspan, colspan); the cells they cover are left out."""
    spans = spans or {}
    covered = {(r + dr, c + dc) for (r, c), (down, across) in spans.items()
               for dr in range(down) for dc in range(across) if dr or dc}
    lines = [f'<html xmlns:x="urn:schemas-microsoft-com:office:excel"><head>'
             f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">'
             "<style>td {mso-number-format:'\\@';}</style></head><body>"]
    lines += [f"<p>{html.escape(line)}</p>" for line in above]
    lines.append('<table border="1">')
    for r, row in enumerate(table):
        cells = []
        for c, value in enumerate(row):
            if (r, c) in covered:
                continue
            down, across = spans.get((r, c), (1, 1))
            attrs = (f' rowspan="{down}"' if down > 1 else "") + (f' colspan="{across}"' if across > 1 else "")
            cells.append(f"<td{attrs} x:str>{html.escape(value).replace(chr(10), '<br>')}</td>")
        lines.append(f"<tr>{''.join(cells)}</tr>")
    lines.append("</table></body></html>")
    path.write_bytes("\n".join(lines).encode("gb18030" if charset.lower() in ("gb2312", "gbk") else charset))
    return path


def write_xml2003(path: Path, rows: list[list[str]], *, sheet: str = "明细表", encoding: str = "utf-8",
                  merge_down: dict[tuple[int, int], int] | None = None) -> Path:
    """Excel 2003 XML: every cell a String, blank rows skipped with ss:Index, as Excel writes it."""
    merge_down = merge_down or {}
    covered = {(r + d, c) for (r, c), n in merge_down.items() for d in range(1, n + 1)}
    out = [f'<?xml version="1.0" encoding="{encoding}"?>', '<?mso-application progid="Excel.Sheet"?>',
           '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
           'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet">',
           f'<Worksheet ss:Name="{html.escape(sheet)}"><Table>']
    write_index = False
    for r, row in enumerate(rows):
        if not any(v.strip() for v in row):
            write_index = True
            continue
        out.append(f'<Row ss:Index="{r + 1}">' if write_index else "<Row>")
        write_index, skip = False, False
        for c, value in enumerate(row):
            if (r, c) in covered or not value:
                skip = True
                continue
            index = f' ss:Index="{c + 1}"' if skip else ""
            down = f' ss:MergeDown="{merge_down[(r, c)]}"' if (r, c) in merge_down else ""
            out.append(f'<Cell{index}{down}><Data ss:Type="String">{html.escape(value)}</Data></Cell>')
            skip = False
        out.append("</Row>")
    out.append("</Table></Worksheet></Workbook>")
    path.write_bytes("\n".join(out).encode("gb18030" if encoding.lower() in ("gb2312", "gbk") else encoding))
    return path


class _GbkName(zipfile.ZipInfo):
    """An entry whose name is written in GBK without the UTF-8 flag, as Chinese Windows does
    (zipfile itself writes any name that is not ASCII in UTF-8, flagged)."""

    def _encodeFilenameFlags(self):  # noqa: N802 - zipfile's own name
        return self.filename.encode("gbk"), self.flag_bits & ~0x800


def write_zip(path: Path, files: dict[str, bytes], *, names: str = "gbk") -> Path:
    """A zip as Chinese Windows makes one: names in GBK without the UTF-8 flag (`names`="gbk"),
    or in UTF-8 with it ("utf-8")."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            info = (_GbkName if names == "gbk" else zipfile.ZipInfo)(name, date_time=(2026, 11, 28, 9, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return path
