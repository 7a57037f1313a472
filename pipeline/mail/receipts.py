"""The receipt (回执): a reply to each submission within a minute, threaded under it, saying
for each file its status and counts, listing the problems and attaching the 退回意见 workbook
for a file partly or wholly sent back. This is how a township checks its file before the
deadline without installing anything.

The files are checked as `jiuzhu check` checks them (intake.check.check_files), not merged;
each receipt is sent once (mail_out key receipt:<message>). A mail too large to download, or
a township's mail without attachment, is answered too, so that nobody believes it arrived.
"""

from __future__ import annotations

import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path

from pipeline.mail import compose
from pipeline.mail.config import MailConfig
from pipeline.mail.smtp import Outcome, Sender
from pipeline.model import CODE_LABELS, STATUS_LABELS, FileReport
from pipeline.roster import mailbox
from pipeline.rules import spec
from pipeline.tools.chinese import cn_date

SHOWN_PROBLEMS = 30  # problems listed in the body; the workbook has every one
SIGN_OFF = "（本邮件由区民政局的汇总程序自动发送。如有疑问，请与区民政局社会救助科联系。）"


def _path(db, inbox: Path, name: str, digest: str) -> Path | None:
    """Where a fetched file is now: still in the inbox, or where a run archived it."""
    moved = mailbox.archived(db, digest)
    return next((p for p in (inbox / name, inbox / moved if moved else None) if p is not None and p.is_file()), None)


def problem_lines(report: FileReport) -> list[str]:
    lines = []
    for e in report.errors[:SHOWN_PROBLEMS]:
        where = "，".join(x for x in (f"工作表「{e.sheet}」" if e.sheet else "", f"第{e.row}行" if e.row else "",
                                       spec.short_label(e.column) if e.column else "") if x) or "整个文件"
        value = f"「{e.value[:30]}」" if e.value else ""
        lines.append(f"   · {where}{value}：{CODE_LABELS.get(e.code, e.code)}——{e.message}")
    if len(report.errors) > SHOWN_PROBLEMS:
        lines.append(f"   · 另有 {len(report.errors) - SHOWN_PROBLEMS} 处问题，见附件退回意见的「问题清单」。")
    return lines


def file_line(n: int, original: str, report: FileReport | None) -> str:
    if report is None:
        return f"{n}. {original}：文件已不在收件箱中，无法检查。"
    whole = next((e for e in report.errors if e.file_level), None)
    status = STATUS_LABELS.get(report.status, report.status)
    township = f"（{report.township}）" if report.township else ""
    if whole:
        return f"{n}. {original}{township}：{status}——{CODE_LABELS.get(whole.code, whole.code)}。{whole.message}"
    if not report.rows:
        return f"{n}. {original}{township}：{status}，没有数据行。"
    return (f"{n}. {original}{township}：{status}，共 {report.rows} 行，合格 {report.accepted} 行，"
            f"需修改 {report.rejected} 行。")


def body(row, items: list[tuple[str, FileReport | None]], feedback: list[str], when: datetime) -> str:
    """The receipt's text: who, when received, each file and its problems, what to do."""
    township = row["township"] or next((r.township for _, r in items if r and r.township), None)
    lines = [f"{township}：" if township else "您好：", ""]
    subject = f"《{row['subject']}》" if row["subject"] else ""
    lines.append(f"　　区民政局已于{cn_date(when.date())} {when:%H:%M} 收到你单位的邮件{subject}。")
    if row["kind"] == "too_large":
        lines += [f"　　{row['note']}请把附件压缩，或分成几封邮件重新发送。", ""]
    elif row["kind"] == "no_attachment":
        lines += ["　　邮件中没有找到附件。报送明细表时请把文件作为附件添加后再发送。", ""]
    else:
        lines += ["　　附件检查结果如下：", ""]
        for n, (original, report) in enumerate(items, start=1):
            lines.append(file_line(n, original, report))
            if report is not None and report.errors:
                lines += problem_lines(report)
            for note in (report.notes if report else [])[:5]:
                lines.append(f"   · 注意：{note}")
        lines.append("")
        if feedback:
            lines.append("　　需要修改的内容已标在附件" + "、".join(f"《{f}》" for f in feedback) + "中（红色单元格，"
                         "鼠标指向可看说明）。合格的行已收下；请按退回意见修改后，将整个文件重新发送到本邮箱。")
        else:
            lines.append("　　文件已收下，将在本周汇总时并入全区名册。")
    lines += ["", SIGN_OFF, spec.letterhead().issuer, cn_date(when.date())]
    return "\n".join(lines)


def send_receipts(cfg: MailConfig, db, inbox: Path, sender: Sender, now: datetime) -> list[Outcome]:
    """A receipt for every message fetched lately that has none; each file checked, not merged."""
    since = (now - timedelta(days=cfg.since_days)).isoformat(timespec="seconds")
    due = [r for r in mailbox.receipts_due(db, since, cfg.send_retries + 1)
           if r["kind"] != "no_attachment" or r["township"]]
    if not due:
        return []
    files = {r["id"]: [(orig, _path(db, inbox, name, digest)) for name, orig, digest in mailbox.message_files(db, r["id"])]
             for r in due}
    paths = [p for items in files.values() for _, p in items if p is not None]
    from pipeline.intake.check import check_files  # pandas and pandera: only when there is a file to check

    checked = dict(zip(paths, check_files(paths, now.date()).files)) if paths else {}
    out = []
    with tempfile.TemporaryDirectory(prefix="jiuzhu-receipt-") as folder:
        for row in due:
            items = [(orig, checked.get(p)) for orig, p in files[row["id"]]]
            township = next((r.township for _, r in items if r and r.township), None)
            if township and not row["township"]:
                mailbox.set_township(db, row["id"], township)
            attachments = _feedback(items, Path(folder) / str(row["id"]), now.date())
            to = [row["reply_to"] or row["sender"]]
            if not to[0]:
                continue
            text = body(row, items, [name for name, _ in attachments], now)
            subject = f"回执：{row['subject']}" if row["subject"] else "回执：已收到你单位的邮件"
            msg = compose.compose(cfg.sender, to, subject, text, attachments, in_reply_to=row["message_id"],
                                  references=row["refs"] or "")
            out.append(sender.deliver(f"receipt:{row['id']}", "receipt", row["township"] or township, msg, to))
    return out


def _feedback(items: list[tuple[str, FileReport | None]], folder: Path, as_of: date) -> list[tuple[str, bytes]]:
    """The 退回意见 workbook of each file partly or wholly sent back, as (name, bytes)."""
    from pipeline.reports.feedback import write_feedback

    out = []
    for original, report in items:
        if report is None or report.status not in ("partial", "rejected"):
            continue
        name = f"{Path(original).stem}_退回意见.xlsx"
        while name in {n for n, _ in out}:
            name = f"{Path(name).stem}（2）.xlsx"
        path = folder / name
        write_feedback(path, report, as_of=as_of)
        out.append((name, path.read_bytes()))
    return out
