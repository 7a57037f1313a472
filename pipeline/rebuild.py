"""`jiuzhu report`: the summary page of a date written again from the store, without the inbox."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pipeline import settings
from pipeline.errors import JiuzhuError
from pipeline.reports import build, summary
from pipeline.roster import cases, runs, store, submissions
from pipeline.tools.chinese import cn_date


def rebuild(outbox: Path, store_path: Path, as_of: date, *, pdf: bool = False,
            mask: bool = True) -> tuple[Path, list[str]]:
    """Write outbox/<as-of>/汇总报告.html again; (its path, warnings for the operator).

    The roster is classified as of the date; the file list is that of the reporting week's runs
    up to it (roster/runs.week_files), as the run that day wrote it. Example: rebuild(Path("outbox"), Path("jiuzhu.sqlite3"), date(2026, 11, 28))
    """
    store_path = Path(store_path)
    if not store_path.is_file():
        raise JiuzhuError(f"找不到台账数据库 {store_path}。请先运行 jiuzhu run 汇总，或用 --store 指定数据库文件。")
    db = store.connect(store_path)
    try:
        if runs.stored_report(db, as_of) is None:
            raise JiuzhuError(f"台账数据库 {store_path.name} 中没有 {cn_date(as_of)} 当天或之前的汇总记录，"
                              "无法生成报告。请先用 jiuzhu run 汇总，或换一个日期。")
        runs.refuse_earlier(db, as_of, "生成报告")
        files, notes, run_day = runs.week_files(db, as_of)
        standing = cases.standing(db, as_of)
        report = build.week_report(as_of, sorted(files, key=lambda f: f["file"]), standing,
                                   submissions.missing_townships(db, as_of), notes)
        path = Path(outbox) / as_of.isoformat() / settings.SUMMARY_NAME
        warnings = summary.write_summary(path, db=db, report=report, classified=standing.people,
                                         gap_rows=standing.gaps, table=standing.townships, files=report["files"],
                                         as_of=as_of, pdf=pdf, mask=mask,
                                         files_from=run_day if run_day not in (as_of, None) else None)
    finally:
        db.close()
    return path, warnings
