"""Each township's packet, outbox/<date>/乡镇/<township>/: what concerns that township alone,
to be mailed to it (mail/send.py) or handed over as it is.

A packet holds the township's own 催办通知 (when it has overdue cases), its own 走访缺口 (when
it has a key population) and copies of the date's 退回意见 of the files it sent; no other
township's people are in any of them. The district-wide files stay where they are. Written
into the run's work folder after the feedback workbooks, so it is published with them.
"""

from __future__ import annotations

import functools
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pandas as pd

from pipeline.model import FileReport
from pipeline.reports import reminders, visit_gaps
from pipeline.roster import cases
from pipeline.rules import townships

PACKETS_DIR = "乡镇"


def letter_name(township: str, as_of: date) -> str:
    return f"{township}催办通知{as_of:%Y%m%d}.xlsx"


def gaps_name(township: str, as_of: date) -> str:
    return f"{township}走访缺口{as_of:%Y%m%d}.xlsx"


def owners(reports: list[FileReport], earlier: dict[str, tuple]) -> dict[str, str | None]:
    """The township each feedback workbook of the date goes back to (退回/<name> → township): the
    township that sent the file (its 填报单位 when its rows are another's). `earlier`: the
    workbooks of an earlier run of the same date, name → (file, township)."""
    out = {name: township for name, (_, township) in earlier.items()}
    for report in reports:
        if report.feedback:
            out[report.feedback] = report.sender or report.township
    return out


def jobs(work: Path, standing: cases.Standing, feedback_owners: dict[str, str | None], as_of: date,
         numbers: dict[str, int] | None = None) -> list[Callable[[], None]]:
    """One job per township with something of its own, in the district's order: writing its
    packet under work/乡镇/<township>/. A township with nothing of its own gets no folder. The
    jobs are independent of each other and of the store (build.py shares them between two
    processes); the feedback workbooks must be in `work` before they run. `numbers`: the
    发文字号 sequence of each township's letter (roster/letters.numbers).

    Example: for job in jobs(work, cases.standing(db, as_of), owners(reports, {}), as_of, letters.numbers(db, as_of)): job()
    """
    late = _by_township(reminders.overdue_cases(standing.people))
    key_people = _by_township(visit_gaps.ordered(standing.gaps)) if len(standing.gaps) else {}
    copies: dict[str, list[str]] = {}
    for name, owner in sorted(feedback_owners.items()):
        copies.setdefault(owner, []).append(name)
    return [functools.partial(_write_packet, work / PACKETS_DIR / township, township, as_of, late.get(township),
                              (numbers or {}).get(township), key_people.get(township),
                              [work / name for name in copies.get(township, [])])
            for township in townships.names() if township in late or township in key_people or township in copies]


def _write_packet(folder: Path, township: str, as_of: date, late: pd.DataFrame | None, number: int | None,
                  key_people: pd.DataFrame | None, feedback: list[Path]) -> None:
    if late is not None:
        folder.mkdir(parents=True, exist_ok=True)
        reminders.write_letter(folder / letter_name(township, as_of), township, late, as_of=as_of, number=number)
    if key_people is not None:
        folder.mkdir(parents=True, exist_ok=True)
        visit_gaps.write_people(folder / gaps_name(township, as_of), key_people, as_of=as_of, unit=township)
    for source in feedback:
        if source.is_file():
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, folder / source.name)


def _by_township(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """township → its rows, in the frame's order, numbered from 0: sorting or selecting the
    district's rows once and slicing them is the same as doing it for each township's alone."""
    return {township: frame.take(rows).reset_index(drop=True)
            for township, rows in frame.groupby("township", sort=False).indices.items()}


def packet_files(outdir: Path, township: str) -> list[Path]:
    """The files of a township's packet in a date's outbox folder, by name."""
    folder = Path(outdir) / PACKETS_DIR / township
    return sorted((p for p in folder.iterdir() if p.is_file()), key=lambda p: p.name) if folder.is_dir() else []

