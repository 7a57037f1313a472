"""数据质量 in the weekly summary: files and rows sent back per township, this run and in
total, and the rows sent back and not sent again since, so that no one drops out unseen."""

from __future__ import annotations

import sqlite3
from collections import Counter
from datetime import date

from pipeline import model as issues
from pipeline.reports.masking import mask_name
from pipeline.roster import submissions
from pipeline.rules import townships

TOP_PROBLEMS = 3  # error types named per township in the quality table
UNKNOWN_TOWNSHIP = "（未能识别乡镇）"


def _top(counter: Counter, n: int = TOP_PROBLEMS) -> list[tuple[str, int]]:
    order = {code: i for i, code in enumerate(issues.CODE_LABELS)}
    ranked = sorted(counter.items(), key=lambda kv: (-kv[1], order.get(kv[0], len(order)), kv[0]))
    return [(issues.CODE_LABELS.get(code, code), count) for code, count in ranked[:n]]


def quality(db: sqlite3.Connection, files: list[dict], as_of: date) -> dict:
    """Files and rows rejected per township: this run (from its files) and in total (from the store)."""
    names = [t.name for t in townships.listed()]
    per: dict[str, dict] = {}

    def entry(township: str | None) -> dict:
        name = township if township in names else UNKNOWN_TOWNSHIP
        return per.setdefault(name, {"township": name, "files": 0, "files_rejected": 0, "rows_rejected": 0,
                                     "problems": Counter(), "files_total": 0, "files_rejected_total": 0,
                                     "rows_rejected_total": 0, "problems_total": Counter()})

    for t in names:
        entry(t)
    codes_run: Counter = Counter()
    for f in files:
        if f["status"] == "duplicate":
            continue
        e = entry(f["township"])
        e["files"] += 1
        e["files_rejected"] += f["status"] == "rejected"
        e["rows_rejected"] += int(f["rejected"] or 0)
        for error in f["errors"]:
            e["problems"][error["code"]] += 1
            codes_run[error["code"]] += 1
    codes_total: Counter = Counter()
    received, problems = submissions.rejections(db, as_of)
    for township, status, rejected in received:
        e = entry(township)
        e["files_total"] += 1
        e["files_rejected_total"] += status == "rejected"
        e["rows_rejected_total"] += int(rejected or 0)
    for township, code, count in problems:
        entry(township)["problems_total"][code] += count
        codes_total[code] += count
    order = {n: i for i, n in enumerate(names)}
    rows = sorted(per.values(), key=lambda e: order.get(e["township"], len(order)))
    for e in rows:
        e["top"] = _top(e["problems"])
        e["top_total"] = _top(e["problems_total"])
    total = {k: sum(e[k] for e in rows) for k in ("files", "files_rejected", "rows_rejected", "files_total",
                                                    "files_rejected_total", "rows_rejected_total")}
    code_order = list(issues.CODE_LABELS)
    codes = [{"label": issues.CODE_LABELS.get(c, c), "run": codes_run.get(c, 0), "total": codes_total.get(c, 0)}
             for c in sorted(set(codes_run) | set(codes_total),
                             key=lambda c: (-codes_run.get(c, 0), -codes_total.get(c, 0),
                                            code_order.index(c) if c in code_order else len(code_order), c))]
    return {"rows": rows, "total": total, "codes": codes}


def awaiting(db: sqlite3.Connection, as_of: date, mask: bool) -> list[dict]:
    """Rows sent back up to this run and not sent again since (no later accepted row of that
    township and name): the people still to be heard of, so that none drops out unseen."""
    out = [{"township": township or UNKNOWN_TOWNSHIP, "file": file, "received": received, "sheet": sheet, "row": row,
            "name": (mask_name(name) if mask else name) if name else "（未填姓名）",
            "problem": issues.CODE_LABELS.get(code, code or "")}
           for township, file, received, sheet, row, name, code in submissions.awaiting(db, as_of)]
    return sorted(out, key=lambda r: (townships.rank(r["township"]), r["received"], r["file"], r["row"]))
