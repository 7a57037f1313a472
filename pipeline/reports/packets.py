"""Each township's packet, outbox/<date>/乡镇/<township>/: what concerns that township alone,
to be mailed to it (mail/send.py) or handed over as it is.

A packet holds the township's own 催办通知 (when it has overdue cases), its own 走访缺口 (when
it has a key population) and copies of the date's 退回意见 of the files it sent; no other
township's people are in any of them. The district-wide files stay where they are. Written
into the run's work folder after the feedback workbooks, so it is published with them.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

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


def write_packets(work: Path, standing: cases.Standing, feedback_owners: dict[str, str | None],
                  as_of: date, numbers: dict[str, int] | None = None) -> dict[str, list[str]]:
    """Write every township's packet under work/乡镇/; township → its files' names, in the
    district's order. A township with nothing of its own gets no folder. `numbers`: the
    发文字号 sequence of each township's letter (roster/letters.numbers).

    Example: write_packets(work, cases.standing(db, as_of), owners(reports, {}), as_of, letters.numbers(db, as_of))
    """
    late = set(reminders.overdue_cases(standing.people)["township"])
    key_people = set(standing.gaps["township"]) if len(standing.gaps) else set()
    written: dict[str, list[str]] = {}
    for township in townships.names():
        folder = work / PACKETS_DIR / township
        names = []
        if township in late:
            folder.mkdir(parents=True, exist_ok=True)
            names.append(letter_name(township, as_of))
            reminders.write_letter(folder / names[-1], township, standing.people, as_of=as_of,
                                   number=(numbers or {}).get(township))
        if township in key_people:
            folder.mkdir(parents=True, exist_ok=True)
            names.append(gaps_name(township, as_of))
            mine = standing.gaps[standing.gaps["township"] == township]
            visit_gaps.write_gaps(folder / names[-1], mine, as_of=as_of, unit=township)
        for name, owner in sorted(feedback_owners.items()):
            source = work / name
            if owner == township and source.is_file():
                folder.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, folder / source.name)
                names.append(source.name)
        if names:
            written[township] = names
    return written


def packet_files(outdir: Path, township: str) -> list[Path]:
    """The files of a township's packet in a date's outbox folder, by name."""
    folder = Path(outdir) / PACKETS_DIR / township
    return sorted((p for p in folder.iterdir() if p.is_file()), key=lambda p: p.name) if folder.is_dir() else []

