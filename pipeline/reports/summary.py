"""The printable weekly summary (汇总报告.html): one self-contained page for the bureau.

It shows the week's figures, the townships that sent nothing, the per-township table and
the scorecard, three inline SVG charts, the overdue and visit-gap lists and the data
quality of the submissions. Everything comes from the run's report, the classified
roster and the store's history; nothing from the clock, so the same store and date give
byte-identical HTML. Every submitted text is escaped (jinja2 autoescape), and a
Content-Security-Policy forbids scripts and any request in case something slips through.

Example: rebuild(Path("outbox"), Path("jiuzhu.sqlite3"), date(2026, 11, 28))
"""

from __future__ import annotations

import os
import sqlite3
from collections import Counter
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
from markupsafe import Markup

from pipeline import model as issues
from pipeline.reports import letter, quality, reminders
from pipeline.reports.masking import mask_id, mask_name
from pipeline.reports.pdf import print_pdf
from pipeline.roster import assistants, audit, cases, letters, merge, runs, scorecard
from pipeline.roster.overrides import change_text
from pipeline.rules import dates, spec, townships
from pipeline.tools import charts, frames
from pipeline.tools.chinese import cn_date

TEMPLATE = "summary.html.j2"
TREND_POINTS = 52          # the trend chart shows at most this many runs (a year of weeks)
TREND_KEYS = ("total", "new_assisted", "observation", "pending", "overdue")
TREND_LABELS = {"total": "累计发现", "new_assisted": spec.STATUS_LABELS["new_assisted"],
                "observation": spec.STATUS_LABELS["observation"], "pending": spec.STATUS_LABELS["pending"],
                "overdue": "超期"}


# --- small formatting helpers --------------------------------------------------------


def period_label(as_of: date) -> str:
    """The reporting week: 2026年11月22日—11月28日 (the year repeated only when it changes)."""
    start = dates.week_start(as_of)
    return f"{cn_date(start)}—{cn_date(as_of, year=start.year != as_of.year)}"


def percent(share: Any) -> str:
    if share is None or (isinstance(share, float) and pd.isna(share)):
        return "—"
    # Half up, as a spreadsheet shows the same figure in the ledger (0.8125 → 81.3%, not 81.2%).
    tenths = Decimal(repr(float(share) * 100)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{tenths}%"


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return str(value)


@cache
class _Compiled(jinja2.FileSystemBytecodeCache):
    """The templates' compiled code, kept between runs in the temporary folder (jinja2's own
    place for it: a folder only this user can write), keyed by the template's text, so that a
    changed template is compiled again. Compiling the summary's takes ~45 ms of every run. A
    cache that cannot be read or written is no cache."""

    def load_bytecode(self, bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:
            bucket.reset()

    def dump_bytecode(self, bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


@cache
def _compiled() -> jinja2.BytecodeCache | None:
    try:
        return _Compiled()
    except (OSError, RuntimeError):  # no safe temporary folder
        return None


def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(spec.data_dir("templates")), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True, bytecode_cache=_compiled())
    env.filters["cn_date"] = cn_date
    env.filters["percent"] = percent
    return env


# --- the parts of the page ------------------------------------------------------------


def _file_dict(f: Any) -> dict:
    return f.to_dict() if hasattr(f, "to_dict") else dict(f)


def headline(report: dict, table: pd.DataFrame, files: list[dict]) -> dict:
    """The big numbers; the keys are the data-figure names (paths into run-report.json)."""
    roster, visits_ = report["roster"], report["visits"]
    statuses = Counter(f["status"] for f in files)
    return {
        "townships.found_week": int(table["found_week"].sum()) if len(table) else 0,
        **{f"roster.{k}": int(v) for k, v in roster.items()},
        **{f"visits.{k}": int(v) for k, v in visits_.items()},
        "files.count": len(files),
        "missing_townships.count": len(report["missing_townships"]),
        "file_statuses": [(label, statuses.get(status, 0)) for status, label in issues.STATUS_LABELS.items()
                          if statuses.get(status)],
        "coverage": percent(_share(int(visits_["seen_this_month"]), int(visits_["key_population"]))),
    }


def new_assisted_in_week(classified: pd.DataFrame, as_of: date) -> int:
    """新增救助群众 whose 纳入时间 falls in the week ending on the run date; a 转介 without a
    date counts in the week its decision was reported."""
    days = classified["result_date"].where(classified["result_date"].notna(), classified["decided_on"])
    return sum(1 for status, day in zip(classified["status"].tolist(), days.tolist())
               if status == "new_assisted" and dates.in_week(day, as_of))


def township_rows(table: pd.DataFrame, gap_rows: pd.DataFrame, missing: list[str]) -> tuple[list[dict], dict]:
    """The per-township table and scorecard rows, and the district total."""
    rows = []
    for row in table.to_dict("records"):
        row = {k: (None if isinstance(v, float) and pd.isna(v) else v) for k, v in row.items()}
        row["missing"] = row["township"] in missing
        rows.append(row)
    total: dict[str, Any] = {"township": "全区合计", "missing": False}
    for key in ("found_week", "total", *spec.STATUS_LABELS, "overdue", "still_overdue", "key_population", "due",
                "seen_this_month", "seen_due", "gaps", "decided", "handled_in_time", "rows_rejected_week",
                "rows_rejected", "files_week"):
        total[key] = int(sum(r[key] or 0 for r in rows))
    total.update(scorecard.rates(total.get))
    return rows, total


def _group(records: list[dict], key: str = "township") -> list[dict]:
    groups: list[dict] = []
    for record in records:
        if not groups or groups[-1]["name"] != record[key]:
            groups.append({"name": record[key], "rows": []})
        groups[-1]["rows"].append(record)
    return groups


def overdue_groups(classified: pd.DataFrame, mask: bool) -> list[dict]:
    """超期 cases by township (in the roster's print order), with the reminder already sent."""
    columns = ["township", "name", "village", "suspected", "discovered", "age_workdays", "reminded_on", "still_overdue"]
    cases = classified.loc[classified["overdue"].astype(bool), columns]
    records = []
    for row in frames.records(cases):
        records.append({
            "township": row["township"], "name": mask_name(row["name"]) if mask else _text(row["name"]),
            "village": _text(row.get("village")), "suspected": _text(row.get("suspected")),
            "discovered": row["discovered"], "age": int(row["age_workdays"]),
            "reminded_on": row["reminded_on"] if row["still_overdue"] else None})
    groups = _group(records)
    for g in groups:
        g["still"] = sum(1 for r in g["rows"] if r["reminded_on"])
    return groups


def gap_groups(gap_rows: pd.DataFrame, mask: bool) -> tuple[list[dict], list[dict]]:
    """(people due a visit this month and not yet seen, people whose last visit did not see them)."""
    gaps, returns = [], []
    columns = ["township", "name", "village", "status_label", "last_seen", "days_since", "gap", "unseen_visits"]
    for row in frames.records(gap_rows.reindex(columns=columns)):
        record = {"township": row["township"], "name": mask_name(row["name"]) if mask else _text(row["name"]),
                  "village": _text(row.get("village")), "status": _text(row.get("status_label")),
                  "last_seen": row["last_seen"] if isinstance(row["last_seen"], str) else None,
                  "days": int(row["days_since"]), "unseen": list(row["unseen_visits"] or [])}
        if row["gap"]:
            gaps.append(record)
        if record["unseen"]:
            returns.append(record)
    return _group(gaps), _group(returns)


def duplicate_groups(classified: pd.DataFrame, mask: bool) -> list[dict]:
    """Records that may be one person twice (merge.possible_duplicates), one group per ID
    number or per township and name."""
    records = []
    for row in merge.possible_duplicates(classified).to_dict("records"):
        number = mask_id(row["id_number"]) if mask else _text(row["id_number"])
        name = mask_name(row["name"]) if mask else _text(row["name"])
        group = (f"身份证号 {number}：{row['reason']}" if row["reason"] == merge.SAME_ID
                 else f"{row['township']} {name}：{row['reason']}")
        records.append({"group": group, "id": number, "township": row["township"],
                        "village": _text(row.get("village")), "name": name,
                        "status": _text(row.get("status_label")), "first_seen": row.get("first_seen")})
    return _group(records, "group")


def vacancy_groups(db: sqlite3.Connection, classified: pd.DataFrame) -> tuple[list[dict], tuple[str, str]]:
    """Villages without a 协理员, by township (only townships that sent a roster), and what to
    say of the townships that sent none (assistants.roster_sentences)."""
    rows = assistants.load(db)
    return _group(assistants.vacancies(rows, classified).to_dict("records")), assistants.roster_sentences(rows)


def notices(classified: pd.DataFrame, as_of: date, mask: bool, numbers: dict[str, int]) -> list[dict]:
    """One 催办通知 per township with overdue cases: the letter's words (with its 发文字号) and its cases."""
    out = []
    for township, late in reminders.overdue_cases(classified).groupby("township", sort=False):
        rows = [{"name": mask_name(r["name"]) if mask else _text(r["name"]), "village": _text(r.get("village")),
                 "discovered": r["discovered"], "age": r["age_workdays"], "suspected": _text(r.get("suspected")),
                 "state": r["state"], "still": bool(r["still_overdue"])}
                for r in frames.records(late)]
        words = reminders.letter(str(township), late, as_of, numbers.get(str(township)))
        out.append({"township": township, "letter": words, "pads": (letter.signature_pad(words), letter.DATE_INDENT), "rows": rows})
    return out


def correction_rows(db: sqlite3.Connection, as_of: date, mask: bool) -> list[dict]:
    """人工更正: this reporting week's corrections, merges and withdrawals (when, who, why, old → new),
    and the township rows that contradicted one (roster/audit.week_rows)."""
    hide = {"name": mask_name, "id_number": mask_id, "phone": mask_id} if mask else {}
    out = []
    for r in audit.week_rows(db, as_of.isoformat()):
        what = change_text(r, hide.get(r["field"], str))
        out.append({"at": r["at"].replace("T", " ")[:16], "who": r["who"], "kind": audit.KIND_LABELS[r["kind"]],
                    "township": r["township"] or "", "name": (mask_name if mask else str)(r["name"] or ""),
                    "what": what, "why": r["why"] or ""})
    return out


def file_rows(files: list[dict]) -> list[dict]:
    """This run's files, by township order then name, with the status in words."""
    order = townships.order()
    out = []
    for f in sorted(files, key=lambda f: (order.get(f["township"], len(order)), f["file"])):
        out.append({**f, "status_label": issues.STATUS_LABELS.get(f["status"], f["status"]),
                    "problems": len(f["errors"])})
    return out


def history(db: sqlite3.Connection, as_of: date, report: dict) -> list[tuple[date, list[int]]]:
    """Roster figures of the latest run on each date up to this one (this run's own figures last)."""
    latest = runs.roster_figures(db, as_of)
    latest[as_of.isoformat()] = report["roster"]
    points = sorted(latest.items())[-TREND_POINTS:]
    return [(date.fromisoformat(day), [int(r.get(k, 0)) for k in TREND_KEYS]) for day, r in points]


def type_counts(classified: pd.DataFrame) -> list[tuple[str, int]]:
    """People per suspected assistance type; a person with several types counts in each."""
    counter: Counter = Counter()
    for value in classified["suspected"] if len(classified) else []:
        if isinstance(value, str):
            counter.update(t for t in (p.strip() for p in value.split("、")) if t)
    order = {v: i for i, v in enumerate(spec.vocabulary("assistance_types").values)}
    return sorted(counter.items(), key=lambda kv: (-kv[1], order.get(kv[0], len(order)), kv[0]))


def chart_svgs(classified: pd.DataFrame, table: pd.DataFrame, points: list) -> dict[str, Markup]:
    classes = list(spec.STATUS_LABELS)
    types = type_counts(classified)
    by_town = [(row["township"], [int(row[c]) for c in classes]) for row in table.to_dict("records")]
    return {  # charts.py escapes every label; the strings are safe markup
        "types": Markup(charts.bars("chart-types", "疑似符合救助类型（人次）", types,
                                    desc="每人按所填的每一种救助类型各计一次：" +
                                         "；".join(f"{k} {v}人" for k, v in types))),
        "townships": Markup(charts.stacked_bars("chart-townships", "各乡镇（街道）发现对象分类", by_town,
                                                [spec.STATUS_LABELS[c] for c in classes])),
        "trend": Markup(charts.trend("chart-trend", "逐次汇总变化", points, [TREND_LABELS[k] for k in TREND_KEYS])),
    }


def context(*, db: sqlite3.Connection, report: dict, classified: pd.DataFrame, gap_rows: pd.DataFrame,
            table: pd.DataFrame, files: list[dict], as_of: date, mask: bool,
            files_from: date | None = None) -> dict:
    """Everything the template shows, as plain values."""
    rows, total = township_rows(table, gap_rows, report["missing_townships"])
    gaps, returns = gap_groups(gap_rows, mask)
    points = history(db, as_of, report)
    limits = spec.thresholds()
    return {
        "issuer": spec.letterhead().issuer,
        "title": "社会救助主动发现工作周报",
        "as_of": as_of, "period": period_label(as_of), "files_from": files_from,
        "township_count": len(townships.listed()),
        "figures": headline(report, table, files),
        "new_assisted_week": new_assisted_in_week(classified, as_of),
        "missing": list(report["missing_townships"]), "sent_unread": issues.sent_unread(report),
        "rows": rows, "total": total,
        "status_labels": spec.STATUS_LABELS,
        "charts": chart_svgs(classified, table, points),
        "trend_points": len(points),
        "overdue": overdue_groups(classified, mask),
        "gaps": gaps, "returns": returns, "returns_count": sum(len(g["rows"]) for g in returns),
        "quality": quality.quality(db, files, as_of),
        "awaiting": quality.awaiting(db, as_of, mask),
        "duplicates": duplicate_groups(classified, mask),
        **dict(zip(("vacancies", "roster_said"), vacancy_groups(db, classified))),
        "notices": notices(classified, as_of, mask, letters.numbers(db, as_of)),
        "corrections": correction_rows(db, as_of, mask),
        "files": file_rows(files),
        "file_notes": [{"file": f["file"], "township": f["township"], "notes": report.get("notes", {})[f["file"]]}
                       for f in file_rows(files) if f["file"] in report.get("notes", {})],
        "mask": mask,
        "limits": limits,
        "calendar_warning": cases.calendar_warning(as_of),
    }


def render(**kwargs) -> str:
    """The page as text (see `context` for the arguments)."""
    return environment().get_template(TEMPLATE).render(**context(**kwargs))


# --- files ------------------------------------------------------------------------------


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_summary(path: Path, *, db: sqlite3.Connection, report: dict, classified: pd.DataFrame,
                  gap_rows: pd.DataFrame, table: pd.DataFrame, files: list | None = None, as_of: date,
                  pdf: bool = False, mask: bool = True, files_from: date | None = None) -> list[str]:
    """Write 汇总报告.html (and 汇总报告.pdf when asked); return warnings for the operator.

    `files` may be FileReport objects or the docs/design.md §6 dicts; report["files"] is used when it is None.
    Example: write_summary(out / "汇总报告.html", db=db, report=report, classified=c, gap_rows=g, table=t,
                           files=report["files"], as_of=date(2026, 11, 28))
    """
    path = Path(path)
    file_dicts = [_file_dict(f) for f in (report["files"] if files is None else files)]
    text = render(db=db, report=report, classified=classified, gap_rows=gap_rows, table=table,
                  files=file_dicts, as_of=as_of, mask=mask, files_from=files_from)
    _write_atomic(path, text)
    warnings = []
    if pdf:
        warning = print_pdf(path, path.with_suffix(".pdf"))
        if warning:
            warnings.append(warning)
    return warnings


