"""A submission held in memory rather than on disk: a workbook unpacked from a .zip, or the
.docx / .xlsx LibreOffice made of a .doc, .wps or .et. Members are never written out (the
rows of a township's people do not belong in a temporary folder); guard and read take a
Blob wherever they take a path, and ask it only what they ask a path.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Union


@dataclass(frozen=True)
class Blob:
    """A file's bytes and the name a person knows it by (城西街道.zip/城西街道1128.xlsx)."""

    path: PurePosixPath
    data: bytes

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def stem(self) -> str:
        return self.path.stem

    @property
    def suffix(self) -> str:
        return self.path.suffix

    def open(self, mode: str = "rb") -> BinaryIO:
        return io.BytesIO(self.data)

    def read_bytes(self) -> bytes:
        return self.data


Source = Union[Path, Blob]


def opened(source: Source) -> BinaryIO | Path:
    """What zipfile and calamine open: the path itself, or the bytes as a file."""
    return source.open() if isinstance(source, Blob) else source
