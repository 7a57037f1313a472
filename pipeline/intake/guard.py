"""Look at an inbox file before any parser does: its real type, or why it cannot be read.

Townships e-mail workbooks; some arrive truncated, password-protected, mislabelled or
hostile (zip bombs, XML entity bombs, external entities). `inspect` decides from the
content (magic bytes, then the container's own structure), never from the extension
alone, and raises `InputFileError` with a file-level code (docs/design.md §2) and a Chinese sentence for
the bureau's staff. Every check is bounded: files are read in chunks, sizes a zip
declares are verified rather than trusted, and no XML is parsed with entity expansion
(intake/guard_xlsx.py).

Example:
    >>> inspect(Path("inbox/城西街道1128.xlsx"))
    'xlsx'
"""

from __future__ import annotations

import codecs
import hashlib
import stat
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import InputFileError
from pipeline.intake import guard_xlsx, markup
from pipeline.intake.blob import Blob, Source
from pipeline.intake.refusals import (  # noqa: F401
    ACCEPTED,
    AGAIN,
    CORRUPT,
    ENCRYPTED,
    FOREIGN_MAGIC,
    LINK,
    RESAVE,
    SUFFIX_MESSAGES,
    UNOPENABLE,
    UNZIP,
    megabytes,
)
from pipeline.rules import spec
from pipeline.settings import SUBMISSION_SUFFIXES

# Read besides the workbooks: the form filled in Word or WPS (.doc, .wps and .et through
# LibreOffice), and a .zip of several files (intake/archives.py).
READ_SUFFIXES = (*SUBMISSION_SUFFIXES, ".docx", ".doc", ".wps", ".et", ".zip")

CHUNK = 64 * 1024
HEAD_BYTES = 2048
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
RTF_MAGIC = b"{\\rtf"


@dataclass
class Examined:
    """What guard found: the file's real `kind`, and for an .xlsx the cells that show a
    formula's error, by sheet name: {sheet: {(row index, column index): "#N/A"}}.

    Kinds: xlsx, xlsm, xls, csv; docx; doc, wps, rtf and et (read once LibreOffice converts them);
    html and xml2003 (an export named .xls: a web page's tables, Excel 2003 XML); zip."""

    kind: str
    error_cells: dict[str, dict[tuple[int, int], str]] = field(default_factory=dict)


def inspect(path: Path | str | Blob) -> str:
    """The real type of a submission: "xlsx", "xlsm", "xls", "csv", "docx", "html" …; see examine."""
    return examine(path).kind


def examine(path: Path | str | Blob) -> Examined:
    """The real type of a submission (see Examined), and its error cells.

    Raises InputFileError with code unreadable, encrypted, too_large or unsupported_type.
    Reads at most a bounded amount at a time; never expands XML entities or opens any
    other file.

    Example:
        >>> examine("inbox/城西街道1128.xls").kind   # even when it is named .xlsx
        'xls'
    """
    path = path if isinstance(path, Blob) else Path(path)
    head, size = _head(path)
    foreign = _foreign(head)
    if foreign:
        raise InputFileError("unsupported_type", foreign)
    suffix = path.suffix.lower()
    if suffix not in READ_SUFFIXES:
        raise InputFileError("unsupported_type", _suffix_message(suffix))
    limit = spec.thresholds()["max_file_bytes"]
    if size > limit:
        raise InputFileError("too_large", (
            f"文件太大（{megabytes(size)}，上限 {megabytes(limit)}）。明细表通常不到 1 MB，"
            "请删除表中的图片、多余的工作表和空白行列，重新保存后再发送。"))
    try:
        if head.startswith(ZIP_MAGIC):
            return Examined(*guard_xlsx.inspect_zip(path))
        if head.startswith(CFB_MAGIC):
            return Examined(_inspect_cfb(path, suffix))
        if kind := markup.sniff(head):  # a business system's "xls": a web page or Excel 2003 XML
            return Examined(kind)
        if head.startswith(RTF_MAGIC):  # Word saves RTF under a .doc name; LibreOffice converts it
            return Examined("rtf")
        if suffix == ".csv" or _looks_like_csv(head):  # a CSV saved under the name .xlsx is read as one
            return Examined(_inspect_csv(path))
    except InputFileError:
        raise
    except Exception as exc:
        # zipfile, zlib, olefile and msoffcrypto raise a dozen exception types on damaged
        # or crafted input (BadZipFile, zlib.error, EOFError, struct.error, assertions...).
        # Whatever they raise, the file cannot be read, and one bad file must not stop the run.
        raise InputFileError("unreadable", CORRUPT) from exc
    raise InputFileError("unreadable", CORRUPT)


def sha256(path: Path | str | Blob) -> str:
    """The hex SHA-256 of a file, read in chunks (a re-dropped identical file is a no-op)."""
    if isinstance(path, Blob):
        return hashlib.sha256(path.data).hexdigest()
    path = Path(path)
    _regular_size(path)
    digest = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(1024 * 1024):
                digest.update(chunk)
    except OSError as exc:
        raise InputFileError("unreadable", UNOPENABLE) from exc
    return digest.hexdigest()


# --- first bytes ------------------------------------------------------------------------


def _regular_size(path: Source) -> int:
    """The size of a regular file; anything else is refused (a FIFO would block, a device never end)."""
    if isinstance(path, Blob):
        return len(path.data)
    try:
        info = path.lstat()
    except OSError as exc:
        raise InputFileError("unreadable", UNOPENABLE) from exc
    if stat.S_ISLNK(info.st_mode):  # never followed: it may point anywhere, out of the inbox too
        raise InputFileError("unsupported_type", LINK)
    if not stat.S_ISREG(info.st_mode):
        raise InputFileError("unreadable", "这不是一个普通文件（可能是文件夹或快捷方式），无法读取。")
    return info.st_size


def _head(path: Source) -> tuple[bytes, int]:
    """The first bytes and the size."""
    size = _regular_size(path)
    try:
        with path.open("rb") as fh:
            head = fh.read(HEAD_BYTES)
    except OSError as exc:
        raise InputFileError("unreadable", UNOPENABLE) from exc
    if not head:
        raise InputFileError("unreadable", f"文件是空的（0 字节），可能是保存时出错，或邮件附件没有下载完整。{AGAIN}")
    return head, size


def _foreign(head: bytes) -> str | None:
    """A message when the first bytes show something other than a spreadsheet we read."""
    for magic, what, advice in FOREIGN_MAGIC:
        if head.startswith(magic):
            return f"这是{what}，不是 Excel 表格。{advice}"
    return None


def _suffix_message(suffix: str) -> str:
    if suffix in SUFFIX_MESSAGES:
        return SUFFIX_MESSAGES[suffix]
    if not suffix:
        return f"文件名没有扩展名，无法确认是明细表。{ACCEPTED}"
    return f"不接受扩展名为“{suffix}”的文件。{ACCEPTED}"




# --- .xls and other OLE2 (CFB) containers -----------------------------------------------


def _inspect_cfb(path: Source, suffix: str) -> str:
    import msoffcrypto  # here, not at the top: only .xls files need them, and they take 30 ms to load
    import olefile

    with olefile.OleFileIO(path.data if isinstance(path, Blob) else str(path)) as ole:
        # An encrypted .xlsx/.docx is a CFB holding EncryptionInfo + EncryptedPackage. This
        # is the test msoffcrypto applies, asked directly because msoffcrypto would then
        # parse the EncryptionInfo XML with minidom, which expands entities.
        if ole.exists("EncryptionInfo") or ole.exists("EncryptedPackage"):
            raise InputFileError("encrypted", ENCRYPTED)
        if ole.exists("WordDocument"):  # Word 97-2003, or Kingsoft Writer's .wps: LibreOffice converts both
            return "wps" if suffix == ".wps" else "doc"
        if ole.exists("PowerPoint Document"):
            raise InputFileError("unsupported_type", f"这是一个 PowerPoint 演示文稿（.ppt），不是 Excel 表格。{ACCEPTED}")
        if ole.exists("__properties_version1.0"):
            raise InputFileError("unsupported_type", "这是一封 Outlook 邮件（.msg），不是 Excel 表格。请把邮件中的附件另存出来再放入。")
        if not ole.exists("Workbook"):
            raise InputFileError("unreadable", CORRUPT)
    with path.open("rb") as fh:
        # FILEPASS in the workbook globals: an .xls with an open password.
        if msoffcrypto.OfficeFile(fh).is_encrypted():
            raise InputFileError("encrypted", ENCRYPTED)
    return "et" if suffix == ".et" else "xls"  # Kingsoft's spreadsheet: LibreOffice knows it best


# --- .csv -------------------------------------------------------------------------------


def _looks_like_csv(head: bytes) -> bool:
    """Lines of text with a delimiter, in UTF-8 or GB18030 (the head may end inside a character)."""
    if b"\x00" in head or b"\n" not in head or not any(d in head for d in (b",", b"\t", b";")):
        return False
    for encoding in ("utf-8", "gb18030"):
        try:
            codecs.getincrementaldecoder(encoding)().decode(head)
            return True
        except UnicodeDecodeError:
            continue
    return False


def _inspect_csv(path: Source) -> str:
    """A CSV must be text in UTF-8 (Excel's "CSV UTF-8") or GB18030 (Excel's "CSV" on Chinese Windows)."""
    for encoding in ("utf-8", "gb18030"):
        if _decodes(path, encoding):
            return "csv"
    raise InputFileError("unreadable", (
        "CSV 文件的文字编码无法识别（既不是 UTF-8 也不是 GB18030/GBK），中文会变成乱码。"
        f"{RESAVE}"))


def _decodes(path: Source, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(1024 * 1024):
                if b"\x00" in chunk:
                    raise InputFileError("unreadable", (
                        "CSV 文件中含有二进制内容，可能已损坏，或是以 Unicode（UTF-16）文本保存的。"
                        f"{RESAVE}"))
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True
