"""催报: by a configured weekday and hour ([chase] in jiuzhu.toml), each township that has sent
nothing that week gets a short reminder to send its form (a zero report when it found no
one), once per week, like the collection tools' 未提交提醒.

"Sent nothing": no mail from it fetched in the seven days up to that moment (by its address,
or by the township its files name) and no form of it in the store for the week. Sent only
within a day of the moment, so that a watch started late does not chase after the deadline.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pipeline.mail import compose
from pipeline.mail.config import MailConfig
from pipeline.mail.smtp import Outcome, Sender
from pipeline.roster import mailbox, store, submissions
from pipeline.rules import spec, townships
from pipeline.tools.chinese import cn_date

GRACE = timedelta(hours=24)


def moment(cfg: MailConfig, now: datetime) -> datetime | None:
    """This week's 催报 moment when it has passed and is less than a day old, else None."""
    if cfg.chase is None:
        return None
    back = (now.isoweekday() - cfg.chase.weekday) % 7
    due = (now - timedelta(days=back)).replace(hour=cfg.chase.hour, minute=0, second=0, microsecond=0)
    if due > now:
        due -= timedelta(days=7)
    return due if now - due < GRACE else None


def missing(cfg: MailConfig, db, due: datetime, now: datetime) -> list[str]:
    """Townships with an address that sent nothing from seven days before `due` until now."""
    start = (due - timedelta(days=7)).isoformat(timespec="seconds")
    # A message is stamped with the clock when it is recorded, after the fetch began at `now`.
    until = max(now, datetime.now()).isoformat(timespec="seconds")
    mailed = mailbox.mailed_townships(db, start, until)
    on_file = set(townships.names()) - set(submissions.missing_townships(db, due.date())) if store.has_schema(db) \
        else set()
    return [t for t in townships.names() if t not in mailed | on_file and cfg.townships.get(t) and cfg.townships[t].to]


def text(township: str, due: datetime) -> str:
    return "\n".join([
        f"{township}{spec.letterhead().addressee}：", "",
        f"　　截至{cn_date(due.date())} {due:%H:%M}，区民政局尚未收到你单位本周的《{spec.form_title()}》。"
        "请在本周报送截止前，将明细表作为附件发送到本邮箱；本周没有新发现对象的，请报送零报告（只有表头的空表）。",
        "　　已经报送的，请忽略本邮件。", "", "（本邮件由区民政局的汇总程序自动发送。）", spec.letterhead().issuer])


def send_due(cfg: MailConfig, db, sender: Sender, now: datetime) -> list[Outcome]:
    """The 催报 of this week, once, when its moment has come."""
    due = moment(cfg, now)
    if due is None:
        return []
    out = []
    for township in missing(cfg, db, due, now):
        to = list(cfg.townships[township].to)
        msg = compose.compose(cfg.sender, to, f"提醒：请报送本周社会救助主动发现明细表（{township}）", text(township, due))
        out.append(sender.deliver(f"chase:{due.date().isoformat()}:{township}", "chase", township, msg, to))
    return out
