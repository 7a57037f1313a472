"""Files that are text markup, not a workbook, whatever their name says: business systems
export "xls" files that are a web page's tables (HTML) or Excel 2003 XML (SpreadsheetML).
This module says which a file is from its first bytes and decodes it with the charset it
declares (GB2312 and GBK read as GB18030, their superset); read_html and read_xml2003 read
its tables, every cell kept as the text it shows (an 18-digit ID keeps its digits).
"""

from __future__ import annotations

import codecs
import re

from pipeline.errors import InputFileError
from pipeline.intake.refusals import RESAVE

SPREADSHEET_NS = b"urn:schemas-microsoft-com:office:spreadsheet"
_HTML_MARKS = (b"<html", b"<table", b"<!doctype html", b"<head", b"<body", b"<meta")
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_META_CHARSET = re.compile(rb"""<meta[^>]{0,300}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{1,40})""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9_.:-]{1,40})["']""")
# What Chinese Windows and business systems declare for GBK text; GB18030 reads all of it.
_GB = {"gb2312", "gbk", "gb_2312-80", "x-gbk", "cp936", "936", "gb18030", "euc-cn", "x-euc-cn", "hz-gb-2312"}


def sniff(head: bytes) -> str | None:
    """"html", "xml2003" or None, from a file's first bytes."""
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            head = head[len(bom):]
            if encoding != "utf-8":
                head = head[: len(head) // 2 * 2].decode(encoding, "ignore").encode("utf-8")
            break
    text = head.lstrip(b" \t\r\n").lower()
    if not text.startswith(b"<"):
        return None
    if SPREADSHEET_NS in text and b"<html" not in text:
        return "xml2003"
    if any(mark in text for mark in _HTML_MARKS):
        return "html"
    return None


def decode(data: bytes, kind: str) -> str:
    """The text of an HTML or XML file: its BOM, else the charset it declares, else UTF-8,
    else GB18030. Raises InputFileError (unreadable) when none of them reads it."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _decoded(data[len(bom):], [encoding])
    found = (_XML_ENCODING if kind == "xml2003" else _META_CHARSET).search(data[:4096])
    declared = found[1].decode("ascii").lower() if found else None
    if declared in _GB:
        declared = "gb18030"
    return _decoded(data, [e for e in (declared, "utf-8", "gb18030") if e])


def _decoded(data: bytes, encodings: list[str]) -> str:
    for encoding in dict.fromkeys(encodings):
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    raise InputFileError("unreadable", f"文件的文字编码无法识别，中文会变成乱码。{RESAVE}")
