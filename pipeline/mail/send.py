"""`jiuzhu mail send`: after a run, one mail to each township with its own packet,
outbox/<date>/乡镇/<township>/ (its 催办通知, 走访缺口 and 退回意见: reports/packets.py).

Sent once: each township's mail is recorded under its date and the digest of its packet, so
a rerun sends only what failed (and a packet changed by a later run of the same date is sent
again as an update). A mail that carried the 催办通知 issues it (mail/letters.py): its cases
count as reminded from that day. `--dry-run` writes the exact messages as .eml files under
outbox/<date>/mail/ and sends nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pipeline import settings
from pipeline.errors import JiuzhuError
from pipeline.mail import compose, letters
from pipeline.mail.config import MailConfig
from pipeline.mail.smtp import Outcome, Sender
from pipeline.reports import packets
from pipeline.roster import mailbox, store
from pipeline.rules import overdue, spec, townships
from pipeline.tools.chinese import cn_date

DRY_RUN_DIR = "mail"


@dataclass
class SendResult:
    as_of: date
    outcomes: dict[str, Outcome] = field(default_factory=dict)   # township → what became of its mail
    written: dict[str, Path] = field(default_factory=dict)       # --dry-run: township → its .eml
    no_address: list[str] = field(default_factory=list)          # a packet, but no address in jiuzhu.toml
    files: dict[str, list[str]] = field(default_factory=dict)    # township → its attachments

    @property
    def failed(self) -> list[str]:
        return [t for t, o in self.outcomes.items() if o.status in ("failed", "uncertain")]


def describe(name: str, township: str, as_of: date) -> str:
    if name == packets.letter_name(township, as_of):
        return (f"超期未办理事项催办通知，请于{cn_date(overdue.deadline(as_of))}前办理，并将办理结果填入明细表报送"
                "（自本邮件发出之日起计算办理期限）")
    if name == packets.gaps_name(township, as_of):
        return "本月应走访、尚未见到本人的重点人群（走访缺口），以及走访不见人需再次走访的名单"
    return "报送的明细表中需要修改的行（退回意见），请修改后将整个文件重新报送"


def body(cfg: MailConfig, township: str, names: list[str], as_of: date) -> str:
    contact = cfg.townships.get(township)
    who = f"（{contact.contact}同志）" if contact and contact.contact else ""
    lines = [f"{township}{spec.letterhead().addressee}{who}：", "",
             f"　　现将区民政局{cn_date(as_of)}社会救助主动发现工作汇总中涉及你单位的材料发给你们，共 {len(names)} 个附件：", ""]
    lines += [f"{n}. {name}——{describe(name, township, as_of)}；" for n, name in enumerate(names, start=1)]
    lines += ["", "　　附件只含你单位的人员。如有疑问，请与区民政局社会救助科联系。", "",
              "（本邮件由区民政局的汇总程序自动发送。）", spec.letterhead().issuer, cn_date(as_of)]
    return "\n".join(lines)


def digest(files: list[Path]) -> str:
    h = hashlib.sha256()
    for path in files:
        h.update(path.name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()[:16]


def send(cfg: MailConfig, outbox: Path = settings.OUTBOX, store_path: Path = settings.STORE,
         as_of: date | None = None, *, dry_run: bool = False, resend: tuple[str, ...] = (),
         today: date | None = None) -> SendResult:
    """Mail each township its packet of the date (or, dry, write the messages as .eml).

    Example: send(config.load(Path("jiuzhu.toml")), Path("outbox"), Path("jiuzhu.sqlite3"), date(2026, 11, 28))
    """
    as_of, today = as_of or date.today(), today or date.today()
    outdir = Path(outbox) / as_of.isoformat()
    if not (outdir / packets.PACKETS_DIR).is_dir():
        raise JiuzhuError(f"{outdir} 中没有各乡镇的材料（{packets.PACKETS_DIR}/ 文件夹）：请先运行 jiuzhu run --as-of "
                          f"{as_of.isoformat()}，或检查 --as-of 和 --outbox。")
    wanted = {townships.canonical(t) or t for t in resend}
    result = SendResult(as_of)
    db = mailbox.patient(store.connect(Path(store_path)))
    try:
        with store.transaction(db):
            mailbox.out_interrupted(db)
        with Sender(cfg, db, resend=frozenset(wanted)) as sender:
            for township in townships.names():
                files = packets.packet_files(outdir, township)
                if not files:
                    continue
                result.files[township] = [p.name for p in files]
                entry = cfg.townships.get(township)
                if entry is None or not entry.to:
                    result.no_address.append(township)
                    continue
                subject = f"{spec.letterhead().issuer}：{cn_date(as_of)}社会救助主动发现工作反馈（{township}）"
                msg = compose.compose(cfg.sender, list(entry.to), subject, body(cfg, township, [p.name for p in files],
                                      as_of), [(p.name, p.read_bytes()) for p in files])
                if dry_run:
                    path = outdir / DRY_RUN_DIR / f"{township}.eml"
                    path.parent.mkdir(exist_ok=True)
                    path.write_bytes(compose.wire(msg))
                    result.written[township] = path
                    continue
                has_letter = packets.letter_name(township, as_of) in result.files[township]

                def issue(db, township=township, has_letter=has_letter) -> None:
                    if has_letter:
                        letters.issue_mailed(db, as_of, township, today)

                key = f"packet:{as_of.isoformat()}:{township}:{digest(files)}"
                result.outcomes[township] = sender.deliver(key, "packet", township, msg, list(entry.to), on_sent=issue)
    finally:
        db.close()
    return result
