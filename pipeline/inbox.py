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


def expand(paths) -> list[Path]:
    """Files as given, folders replaced by the submissions in them."""
    out: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            out.extend(list_submissions(path))
        elif not path.name.startswith(settings.LOCK_PREFIX):
            out.append(path)
    return out
