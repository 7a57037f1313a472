"""What the operator and the township clerk see on the terminal."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from pipeline import settings
from pipeline.intake.inbox import shown_name
from pipeline.model import CODE_LABELS, STATUS_LABELS, FileReport, Report, sent_unread, sheet_place
from pipeline.rules import spec, townships

PROGRESS_NOTES = 3  # notes shown under a file's line as a run reads the inbox
_MARKS = {"accepted": "✓", "empty": "✓", "duplicate": "•", "partial": "!", "rejected": "✗"}


class _Console(Console):
    def on_broken_pipe(self) -> None:
        """The reader has gone (`jiuzhu run | head`): say nothing more; the run goes on (rich's own
        answer is SystemExit(1), which would stop a run over its progress lines)."""
        self.quiet = True


def console() -> Console:
    return _Console(highlight=False, soft_wrap=True)  # a path is never cut in two


# How a township checking its own file reads its verdict: nothing is sent back yet.
CHECK_LABELS = {"accepted": "全部合格", "partial": "需修改", "rejected": "需修改", "duplicate": "重复文件",
                "empty": "零报告"}


def file_line(f: FileReport, *, self_check: bool = False) -> str:
    """One line per file: mark, name, township, status and counts (in a self-check's words
    for `jiuzhu check`: 需修改 N 行, not 退回)."""
    township = f.township or "乡镇未识别"
    whole = next((e for e in f.errors if e.file_level), None)
    bad = "需修改" if self_check else "有误"
    counts = (f"{f.rows} 行，合格 {f.accepted} 行，{bad} {f.rejected} 行" if f.rows
              else CODE_LABELS.get(whole.code, whole.code) if whole
              else "与已收到的文件相同" if f.status == "duplicate" else "无数据行")
    counts += "".join(f"；{label}{bad} {n} 行" for label, n in f.other_rejected.items())
    label = (CHECK_LABELS if self_check else STATUS_LABELS).get(f.status, f.status)
    return f"{_MARKS.get(f.status, '?')} {f.file}（{township}）{label}：{counts}"


def print_issues(out: Console, f: FileReport) -> None:
    """Each problem as two lines: where and what was written, then what to do."""
    for e in f.errors:
        where = "，".join(x for x in (sheet_place(e.sheet) if e.sheet else "",
                                       f"第{e.row}行" if e.row else "",
                                       spec.short_label(e.column) if e.column else "") if x)
        value = e.value if len(e.value) <= 40 else e.value[:40] + "…"
        shown = f"：「{value}」" if value else ""
        out.print(escape(f"  [{where or '整个文件'}]{shown}"))
        out.print(escape(f"      {CODE_LABELS.get(e.code, e.code)}——{e.message}"), style="red")


def print_check(report: Report) -> None:
    """A readable block per file, then one summary line."""
    out = console()
    for f in report.files:
        out.print(escape(file_line(f, self_check=True)), style="bold")
        print_issues(out, f)
        for note in f.notes:
            out.print(escape(f"  注意：{note}"))
    s = report.stats
    verdict = "全部合格，可以报送。" if report.valid else "有需要修改的内容，请按上面的提示修改后再报送。"
    out.print(f"共检查 {s['files']} 个文件，{s['rows']} 行：合格 {s['accepted']} 行，"
              f"需修改 {s['rejected']} 行，问题 {s['errors']} 处。{verdict}")


def print_file_progress(f: FileReport) -> None:
    """One line as each inbox file is read; why a file could not be read, and its notes."""
    out = console()
    out.print(escape(file_line(f)))
    for e in f.errors:
        if e.file_level:
            out.print(escape(f"      {e.message}"), style="red")
    for note in f.notes[:PROGRESS_NOTES]:
        out.print(escape(f"      注意：{note}"))
    if len(f.notes) > PROGRESS_NOTES:
        out.print(escape(f"      （另有 {len(f.notes) - PROGRESS_NOTES} 条注意事项，见 jiuzhu check 的结果）"))


def print_run(result) -> None:
    """The Chinese summary at the end of a run. Its last lines, what a screen of 80×24 keeps in
    view, say which townships need a call: sent back, partly sent back, unreadable, missing."""
    out = console()
    s, r = result.stats, result.report
    roster, visits = r["roster"], r["visits"]
    out.print(f"\n[bold]{r['as_of']} 汇总完成[/bold]")
    for warning in result.warnings:
        out.print(escape(f"注意：{warning}"), style="yellow")
    outdir = result.outdir
    out.print(escape(f"输出在 {outdir}/："))
    for label, key in (("全区汇总台账", "ledger"), ("走访缺口", "visit_gaps"), ("超期催办", "overdue"),
                       ("汇总报告", "summary")):
        out.print(escape(f"  {label}：{outdir / r['outputs'][key]}"))
    pdf = (outdir / r["outputs"]["summary"]).with_suffix(".pdf")
    if pdf.is_file():
        out.print(escape(f"  汇总报告 PDF：{pdf}"))
    feedback = [f for f in r["files"] if f["feedback"]]
    if feedback:
        out.print(escape(f"  退回意见（{len(feedback)} 个文件）：{outdir / settings.FEEDBACK_DIR}"))
    out.print(f"本次收到 {s['files']} 个文件：全部通过 {s['files_accepted']}，部分退回 {s['files_partial']}，"
              f"退回 {s['files_rejected']}，零报告 {s['files_empty']}，重复 {s['files_duplicate']}；"
              f"共 {s['rows']} 行，合格 {s['accepted']} 行，有误 {s['rejected']} 行。")
    out.print(f"全区名册 {roster['total']} 人：新增救助群众 {roster['new_assisted']}，"
              f"救助观察群众 {roster['observation']}，不符合 {roster['closed']}，"
              f"待办理 {roster['pending']}（其中超期 {roster['overdue']}）。")
    out.print(visit_line(visits, r.get("not_due_unseen")))
    late = [t for t, figures in r.get("townships", {}).items() if figures.get("overdue")]
    if late:  # a reminder counts only once it went out (docs/design.md §8)
        out.print(escape(f"催办通知待发出（{len(late)} 个乡镇）：用 jiuzhu mail send 发出，或纸质送出后运行 "
                         f"jiuzhu reminders sent --as-of {r['as_of']}。"))
    for label, names in calls(r):
        out.print(escape(f"{label}（{len(names)}）：{'、'.join(names) if names else '无'}"),
                  style="bold" if names else None)


def visit_line(visits: dict, waiting: int | None = None) -> str:
    """重点人群 N 人 = 本月已见面 S + 走访缺口 G + 本月未到期 U, so that the figures add up for a reader."""
    key, seen, gaps = visits["key_population"], visits["seen_this_month"], visits["gaps"]
    if waiting is not None and seen + gaps + waiting == key:
        return (f"重点人群 {key} 人 = 本月已见面 {seen} 人 + 走访缺口 {gaps} 人 + 本月未到期 {waiting} 人"
                "（本月新列入重点人群的，下月起每月走访）。")
    return f"重点人群 {key} 人，本月已见面走访 {seen} 人，走访缺口 {gaps} 人。"


def calls(report: dict) -> list[tuple[str, list[str]]]:
    """The townships of the week that need a call, by why: each township once, at its worst file."""
    files = report["files"]
    worst: dict[str, str] = {}
    rank = {"rejected": 3, "unreadable": 4, "partial": 2}
    for f in files:
        township = f["township"]
        if not township:
            continue
        why = "unreadable" if f["status"] == "rejected" and not f["rows"] else f["status"]
        if why in rank and rank[why] > rank.get(worst.get(township, ""), 0):
            worst[township] = why
    def named(why: str) -> list[str]:
        return [t for t in townships.names() if worst.get(t) == why]
    unread = sent_unread(report)
    return [("文件无法读取、需重新发送", named("unreadable")), ("退回、需改正后重报", named("rejected")),
            ("部分退回", named("partial")),
            ("本周未报送", [t if t not in unread else f"{t}（收到的文件不是可读的明细表）"
                            for t in report["missing_townships"]])]


def print_reading(path) -> None:
    """One dim line as each file is opened, so that a long run shows it is alive."""
    console().print(escape(f"  读取 {shown_name(path)} …"), style="dim")
