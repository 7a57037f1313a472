"""A .zip attachment unpacked into the files inside it, in memory, each then checked as a
submission of its own (intake/check.py names it 城西街道.zip/城西街道1128.xlsx). Nothing is
written to disk: the archive itself is what the run archives.

`members` refuses the whole archive for what no member can be trusted after: a zip bomb
(declared or real size, ratio, number of files), a password, a name that points outside the
archive (../, /, C:), or an archive inside it. Names are read as the sender's system wrote
them: UTF-8 when the entry says so (flag 0x800) or carries an Info-ZIP Unicode path, else
GBK, as Chinese Windows writes them, read as GB18030 (per entry, which also serves Python
3.10, where ZipFile has no metadata_encoding).

Example:
    >>> [m.name for m in members(Path("inbox/城西街道.zip"))]
    ['城西街道1128.xlsx', '城西街道走访记录.xlsx']
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import PurePosixPath

from pipeline.errors import InputFileError
from pipeline.intake import guard_xlsx
from pipeline.intake.blob import Blob, Source, opened
from pipeline.intake.refusals import BOMB, CORRUPT, NESTED, megabytes
from pipeline.rules import spec

# Archives inside an archive are not opened (a bomb's favourite shape); by name or by magic.
ARCHIVE_SUFFIXES = frozenset({".zip", ".rar", ".7z", ".gz", ".tgz", ".tar", ".bz2", ".xz", ".cab", ".arj", ".lzh"})
ARCHIVE_MAGIC = (b"Rar!", b"7z\xbc\xaf\x27\x1c", b"\x1f\x8b", b"BZh", b"\xfd7zXZ", b"MSCF")
# What the sender's system adds beside the files a person put in: not submissions, not mentioned.
_SYSTEM_FILES = frozenset({"thumbs.db", "desktop.ini", ".ds_store"})
_UNICODE_PATH = 0x7075  # Info-ZIP Unicode Path extra field: version, CRC-32 of the raw name, UTF-8 name
_DRIVE = re.compile(r"^[A-Za-z]:")
OUTSIDE = ("压缩包中的文件名「{name}」指向压缩包以外的位置，这是恶意构造的压缩包才有的写法，已拒绝读取。"
           "请把明细表直接作为附件发送。")
ENCRYPTED_ZIP = ("压缩包设置了密码，无法解开。请不加密码重新压缩，或把明细表直接作为附件发送"
                 "（明细表本身也不要设置打开密码）。")


@dataclass(frozen=True)
class Member:
    """One file of an archive: its path inside it, as the sender named it, and its bytes."""

    name: str
    data: bytes


def members(path: Source) -> list[Member]:
    """The files of a .zip, in the archive's order, unpacked in memory after every check.
    `path` is a file, or a Blob of bytes already in memory (an e-mail's attachment:
    Blob(PurePosixPath("附件.zip"), data)); system files (__MACOSX/, Thumbs.db …) are left out.

    Raises InputFileError: too_large (a bomb, or more than max_archive_members files), encrypted,
    unreadable (damaged, a name outside the archive), unsupported_type (an archive inside).
    """
    guard_xlsx.check_zip_directory(path)
    limits = spec.thresholds()
    try:
        with zipfile.ZipFile(opened(path)) as zf:
            entries = [(info, _name(info)) for info in zf.infolist()]
            for _, name in entries:
                _check_name(name)
            files = [(info, name) for info, name in entries if not info.is_dir() and not _system_file(name)]
            _check_sizes([info for info, _ in files], limits)
            out = []
            for info, name in files:
                if PurePosixPath(name).suffix.lower() in ARCHIVE_SUFFIXES:
                    raise InputFileError("unsupported_type", NESTED.format(archive=path.name, member=name))
                chunks: list[bytes] = []
                guard_xlsx.inflate(zf, info, keep=chunks)
                data = b"".join(chunks)
                if data.startswith(ARCHIVE_MAGIC) or (data.startswith(b"PK\x03\x04") and _plain_zip(data)):
                    raise InputFileError("unsupported_type", NESTED.format(archive=path.name, member=name))
                out.append(Member(name, data))
    except InputFileError:
        raise
    except Exception as exc:  # zipfile and zlib raise many types on damaged or crafted input
        raise InputFileError("unreadable", f"压缩包已损坏，无法解开。{CORRUPT}") from exc
    return out


def _check_sizes(infos: list[zipfile.ZipInfo], limits: dict) -> None:
    """Refuse on what the archive declares, before anything is inflated (inflate then verifies it)."""
    if len(infos) > limits["max_archive_members"]:
        raise InputFileError("too_large", BOMB.format(
            detail=f"含 {len(infos):,} 个文件，上限 {limits['max_archive_members']} 个"))
    if any(info.flag_bits & 0x1 for info in infos):
        raise InputFileError("encrypted", ENCRYPTED_ZIP)
    declared = sum(info.file_size for info in infos)
    if declared > limits["max_unpacked_bytes"]:
        raise InputFileError("too_large", BOMB.format(
            detail=f"解压后 {megabytes(declared)}，上限 {megabytes(limits['max_unpacked_bytes'])}"))
    for info in infos:
        if info.file_size > limits["max_file_bytes"] or (
                info.file_size > guard_xlsx.LARGE_MEMBER_BYTES and
                info.file_size > limits["max_unpack_ratio"] * max(info.compress_size, 1)):
            raise InputFileError("too_large", BOMB.format(
                detail=f"其中的 {info.filename} 解压后 {megabytes(info.file_size)}"))


def _name(info: zipfile.ZipInfo) -> str:
    """The entry's name as its sender's system wrote it (see the module's docstring)."""
    if info.flag_bits & 0x800:
        return info.filename
    raw = info.orig_filename.encode("cp437")  # zipfile's reading of the raw bytes, undone
    unicode = _unicode_path(info.extra, raw)
    if unicode is not None:
        return unicode
    try:
        return raw.decode("utf-8")  # some tools write UTF-8 without saying so
    except UnicodeDecodeError:
        return raw.decode("gb18030", "replace")


def _unicode_path(extra: bytes, raw: bytes) -> str | None:
    """The UTF-8 name of an Info-ZIP Unicode Path field, when it matches the raw name's CRC."""
    at = 0
    while at + 4 <= len(extra):
        kind, size = struct.unpack_from("<HH", extra, at)
        body = extra[at + 4: at + 4 + size]
        if kind == _UNICODE_PATH and len(body) > 5 and body[0] == 1 and \
                struct.unpack_from("<L", body, 1)[0] == zlib.crc32(raw):
            try:
                return body[5:].decode("utf-8")
            except UnicodeDecodeError:
                return None
        at += 4 + size
    return None


def _check_name(name: str) -> None:
    """A name that would land outside a folder it is unpacked into: ../, /, \\, C:, or a NUL."""
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or _DRIVE.match(name) or ".." in parts or "\x00" in name:
        raise InputFileError("unreadable", OUTSIDE.format(name=name))


def _system_file(name: str) -> bool:
    """__MACOSX/…, ._x, Thumbs.db, desktop.ini, ~$ lock files: what no person put in."""
    path = PurePosixPath(name.replace("\\", "/"))
    return (path.parts[0] == "__MACOSX" or path.name.startswith((".", "~$"))
            or path.name.lower() in _SYSTEM_FILES)


def _plain_zip(data: bytes) -> bool:
    """A zip that is no Office or OpenDocument package: an archive inside the archive. A damaged
    one is for the member's own check to name."""
    try:
        guard_xlsx.check_zip_directory(Blob(PurePosixPath("member.zip"), data))
        with zipfile.ZipFile(io.BytesIO(data)) as inner:
            names = set(inner.namelist())
    except Exception:  # noqa: BLE001 - whatever it is, it is not an archive that opens
        return False
    return not names & {"[Content_Types].xml", "mimetype"}
