"""Everything a run writes, rendered from the store into one folder, and run-report.json.

Outputs depend only on the store's content, the checked files and the run date, never on
the clock or on paths, so the same inbox and date give byte-identical files. Nothing here
writes to the store: the run records what it decided before the outputs are made.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pipeline import settings
from pipeline.model import FileReport
from pipeline.roster import assistants, cases, letters, merge, scorecard, visits
from pipeline.tools import names, parallel

REPORT_KEYS = ("as_of", "files", "roster", "visits", "missing_townships", "townships", "outputs")  # §6, in its order
OUTPUT_NAMES = {"ledger": settings.LEDGER_NAME, "visit_gaps": settings.VISIT_GAPS_NAME,
                "overdue": settings.OVERDUE_NAME, "summary": settings.SUMMARY_NAME}
# A forked child that writes the ledger reads every text of the roster, and in CPython a read
# is a write (the reference count): each page it touches is copied. Measured on 300,000
# people: the run's outputs in two processes took 1.99 GB in all, one after the other
# 1.16 GB, for a few seconds more. Past this many people every output is written here.
FORK_OUTPUTS_BELOW = 100_000


@dataclass
class Built:
    report: dict
    warnings: list[str] = field(default_factory=list)


def feedback_names(reports: list[FileReport], earlier: dict[str, tuple] | None = None) -> None:
    """Give each file with problems its feedback workbook's name, 退回/<stem>_退回意见.xlsx,
    numbered （2）, （3）… where another file of this run has the same stem (附件.xlsx and
    附件.xls) or an earlier run of the same date wrote that name for another file.
    `earlier` maps the names already in the date's folder to the (file, township) they are
    for; a file sent again replaces its own. A name too long for the file system is shortened
    in its middle, keeping the township and the date (tools/names.py)."""
    earlier = earlier or {}
    used: set[str] = set()
    for report in reports:
        if not report.errors or report.status == "duplicate":
            continue
        stem, n = names.windows_safe(Path(report.file).stem), 1
        while True:
            numbered = f"{stem}{'' if n == 1 else f'（{n}）'}"
            name = f"{settings.FEEDBACK_DIR}/{names.fitted(numbered, '_退回意见.xlsx', keep=report.township)}"
            if name not in used and earlier.get(name, (report.file, report.township)) == (report.file, report.township):
                break
            n += 1
        used.add(name)
        report.feedback = name


def week_report(as_of: date, files: list[dict], standing: cases.Standing, missing: list[str],
                notes: dict[str, list[str]]) -> dict:
    """What a date's run reports: run-report.json (REPORT_KEYS, docs/design.md §6) and, kept with it
    in the store, the township table and each file's notes."""
    return {
        "as_of": as_of.isoformat(),
        "files": files,
        "roster": cases.counts(standing.people),
        "visits": visits.figures(standing.gaps),
        "missing_townships": missing,
        "outputs": dict(OUTPUT_NAMES),
        "townships": scorecard.townships_json(standing.townships),
        "notes": notes,
        "not_due_unseen": visits.not_due_unseen(standing.gaps),
    }


def own_files(reports: list[FileReport]) -> tuple[list[dict], dict[str, list[str]]]:
    """This run's files (docs/design.md §6 objects) by name, and their notes: what the store keeps of the run."""
    files = sorted(reports, key=lambda r: r.file)
    return [r.to_dict() for r in files], {r.file: list(r.notes) for r in files if r.notes}


def week_of(earlier: tuple[list[dict], dict[str, list[str]]], reports: list[FileReport]) -> tuple[list[dict], dict]:
    """The week's files, by name (earlier runs' first where a name repeats), and their notes."""
    files, notes = own_files(reports)
    week_notes = {file: list(said) for file, said in earlier[1].items()}
    for file, said in notes.items():
        week_notes.setdefault(file, []).extend(said)
    return sorted([*earlier[0], *files], key=lambda f: f["file"]), week_notes


def build(db: sqlite3.Connection, reports: list[FileReport], standing: cases.Standing, as_of: date, work: Path,
          missing: list[str], *, pdf: bool = False, mask: bool = True,
          earlier_feedback: dict[str, tuple] | None = None,
          earlier_files: tuple[list[dict], dict[str, list[str]]] = ([], {})) -> Built:
    """Write every output of a run into `work` and return run-report.json's content.

    The report and the summary describe the whole reporting week: `earlier_files` are the files
    and notes of the week's earlier runs (roster/runs.week_files), this run's come after them.
    `earlier_feedback`: see feedback_names; the earlier run's workbooks must already be in
    `work` (publish.keep_earlier_feedback), for the township packets (reports/packets.py).

    The ledger and the packets touch no store: a forked child writes them, beginning with the
    ledger, while this process writes the outputs that read the store and then joins in
    (tools/parallel.share).
    """
    from pipeline.reports import feedback, ledger, packets, reminders, summary, visit_gaps

    classified, gap_rows, table = standing.people, standing.gaps, standing.townships
    feedback_names(reports, earlier_feedback)
    for report in reports:
        if report.feedback:
            feedback.write_feedback(work / report.feedback, report, as_of=as_of)
    duplicates = merge.possible_duplicates(classified)
    roster_rows = assistants.load(db)
    vacancies = assistants.vacancies(roster_rows, classified)
    numbers = letters.numbers(db, as_of)

    def write_ledger() -> None:  # the largest output
        ledger.write_ledger(work / settings.LEDGER_NAME, classified, table, as_of=as_of,
                            duplicates=duplicates, vacancies=vacancies,
                            roster_said=assistants.roster_sentences(roster_rows))

    def write_rest() -> tuple[dict, list[str]]:
        visit_gaps.write_gaps(work / settings.VISIT_GAPS_NAME, gap_rows, as_of=as_of)
        reminders.write_reminders(work / settings.OVERDUE_NAME, classified, as_of=as_of, numbers=numbers)
        files, notes = week_of(earlier_files, reports)
        report = week_report(as_of, files, standing, missing, notes)
        warnings = summary.write_summary(work / settings.SUMMARY_NAME, db=db, report=report,
                                         classified=classified, gap_rows=gap_rows, table=table, files=files,
                                         as_of=as_of, pdf=pdf, mask=mask)
        return report, warnings

    queue = [write_ledger, *packets.jobs(work, standing, packets.owners(reports, earlier_feedback or {}), as_of,
                                         numbers)]
    if len(classified) >= FORK_OUTPUTS_BELOW:
        report, warnings = write_rest()
        for job in queue:
            job()
    else:
        report, warnings = parallel.share(queue, write_rest)
    # The file holds exactly docs/design.md §6; the store's copy also keeps the township table and the notes.
    (work / settings.REPORT_NAME).write_text(
        json.dumps({k: report[k] for k in REPORT_KEYS}, ensure_ascii=False, indent=2) + "\n",
        encoding="utf-8")
    return Built(report, warnings or [])
