"""Defaults in one place. What the bureau may change lives in schemas/, not here."""

from pathlib import Path

INBOX = Path("inbox")
OUTBOX = Path("outbox")
STORE = Path("jiuzhu.sqlite3")

ARCHIVE_DIR = "archive"        # inbox/archive/<as-of>/ after a committed run
REJECTED_DIR = "rejected"      # inbox/rejected/ for files that could not be read
FEEDBACK_DIR = "退回"          # outbox/<as-of>/退回/

SUBMISSION_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".csv")
LOCK_PREFIX = "~$"             # Excel's and WPS's own lock files are not submissions
OFFICE_LOCK_PREFIX = ".~lock."  # nor are LibreOffice's
LOCK_NAME = ".jiuzhu-lock"     # jiuzhu's own, in the inbox and the outbox while a run holds them
SYSTEM_FILES = frozenset({"Thumbs.db", "desktop.ini", ".DS_Store", LOCK_NAME})  # not submissions either

LEDGER_NAME = "全区汇总台账.xlsx"
VISIT_GAPS_NAME = "走访缺口.xlsx"
OVERDUE_NAME = "超期催办.xlsx"
SUMMARY_NAME = "汇总报告.html"
REPORT_NAME = "run-report.json"

CHROMIUM: str | None = None  # the browser that prints PDFs; None: found (reports/pdf.browser); JIUZHU_BROWSER sets it
