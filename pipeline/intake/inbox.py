"""What in a folder is a submission: every file but Excel's lock files and our own folders."""

from __future__ import annotations

from pathlib import Path

from pipeline import settings


def is_submission(path: Path) -> bool:
    """A file a township sent: not a lock file (~$…), not hidden, not a folder."""
    name = path.name
    return path.is_file() and not name.startswith(settings.LOCK_PREFIX) and not name.startswith(".")


def list_submissions(folder: Path) -> list[Path]:
    """The submissions directly in a folder (archive/ and rejected/ are not looked into), by name."""
    return sorted((p for p in Path(folder).iterdir() if is_submission(p)), key=lambda p: p.name)


def unread_folders(folder: Path) -> str | None:
    """A warning naming the folders of the inbox (other than archive/ and rejected/) that hold
    submissions, which a run does not look into; None when there are none."""
    ours = {settings.ARCHIVE_DIR, settings.REJECTED_DIR}
    found = []
    for sub in sorted(p for p in Path(folder).iterdir() if p.is_dir() and p.name not in ours
                      and not p.name.startswith(".")):
        count = sum(1 for p in sub.rglob("*") if is_submission(p))
        if count:
            found.append(f"「{sub.name}」（{count} 个文件）")
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
            why.append(f"「{path.name}」是 Excel 或 WPS 打开文件时自动生成的临时文件，不是明细表，"
                       f"请检查原文件「{path.name[len(settings.LOCK_PREFIX):]}」")
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
