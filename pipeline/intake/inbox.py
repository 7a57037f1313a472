"""What in a folder is a submission: every entry but Excel's lock files, the system's own
files and our own folders. Every entry is accounted for: a hidden file, a link or anything
else that is not a plain file is still a submission, which the guard refuses with a reason.
"""

from __future__ import annotations

import os
from pathlib import Path

from pipeline import settings


def is_submission(path: Path) -> bool:
    """An entry a township sent: anything but a lock file (~$…), a file the system leaves in a
    folder (Thumbs.db, .DS_Store), jiuzhu's own lock, and a folder (a link to one is an entry)."""
    name = path.name
    if name.startswith((settings.LOCK_PREFIX, settings.OFFICE_LOCK_PREFIX)) or name in settings.SYSTEM_FILES:
        return False
    return path.is_symlink() or not path.is_dir()


def list_submissions(folder: Path) -> list[Path]:
    """The submissions directly in a folder (archive/ and rejected/ are not looked into), by name."""
    return sorted((p for p in Path(folder).iterdir() if is_submission(p)), key=lambda p: p.name)


def shown_name(path: Path) -> str:
    """A file's name as a person reads it. A name that is not UTF-8 (a GBK name from a zip made
    on Chinese Windows) reaches Python with its bytes escaped: it is read as GB18030, or, when
    even that fails, with each undecodable byte replaced."""
    name = path.name
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        raw = os.fsencode(name)
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace")


def unread_folders(folder: Path) -> str | None:
    """A warning naming the folders of the inbox (other than archive/ and rejected/) that hold
    submissions, which a run does not look into; None when there are none."""
    ours = {settings.ARCHIVE_DIR, settings.REJECTED_DIR}
    found = []
    for sub in sorted(p for p in Path(folder).iterdir() if p.is_dir() and not p.is_symlink() and p.name not in ours
                      and not p.name.startswith(".")):
        count = sum(1 for p in sub.rglob("*") if is_submission(p))
        if count:
            found.append(f"「{shown_name(sub)}」（{count} 个文件）")
    if not found:
        return None
    return (f"收件箱里的文件夹{'、'.join(found)}中的文件没有读取：只读取直接放在收件箱中的文件。"
            "如果是乡镇报来的明细表，请把它们移到收件箱中（不要放在文件夹里）后重新运行。")


def nothing_to_check(paths) -> str:
    """Why the files and folders given to `jiuzhu check` hold no submission."""
    why = []
    for path in map(Path, paths):
        if path.is_dir():
            why.append(f"文件夹「{path}」里没有 .xlsx、.xlsm、.xls 或 .csv 文件（子文件夹里的不读取）")
        elif path.name.startswith(settings.LOCK_PREFIX):
            why.append(f"「{shown_name(path)}」是 Excel 或 WPS 打开文件时自动生成的临时文件，不是明细表，"
                       f"请检查原文件「{shown_name(path)[len(settings.LOCK_PREFIX):]}」")
    return "没有可以检查的明细表文件。" + "；".join(why) + ("。" if why else "")


def expand(paths) -> list[Path]:
    """Files as given, folders replaced by the submissions in them."""
    out: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            out.extend(list_submissions(path))
        elif not path.name.startswith(settings.LOCK_PREFIX):
            out.append(path)
    return out
