"""Defaults in one place. What the bureau may change lives in schemas/, not here."""

from pathlib import Path

INBOX = Path("inbox")
OUTBOX = Path("outbox")
STORE = Path("jiuzhu.sqlite3")

ARCHIVE_DIR = "archive"        # inbox/archive/<as-of>/ after a committed run
REJECTED_DIR = "rejected"      # inbox/rejected/ for files that could not be read
FEEDBACK_DIR = "退回"          # outbox/<as-of>/退回/

SUBMISSION_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".csv")
LOCK_PREFIX = "~$"             # Excel's own lock files are not submissions

LEDGER_NAME = "全区汇总台账.xlsx"
VISIT_GAPS_NAME = "走访缺口.xlsx"
OVERDUE_NAME = "超期催办.xlsx"
SUMMARY_NAME = "汇总报告.html"
REPORT_NAME = "run-report.json"

CHROMIUM = "/usr/bin/chromium"
