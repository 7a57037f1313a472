"""What the operator reads about mail, as lines for the terminal: what was fetched from whom,
which receipts and 催报 went out, what was sent to whom and what was not (and why)."""

from __future__ import annotations

from pipeline.mail.fetch import FetchResult
from pipeline.mail.send import SendResult

KINDS = {"no_attachment": "没有附件", "too_large": "邮件过大，没有下载", "bounce": "退信", "autoreply": "自动回复，不是报送",
         "seen": "之前已取过"}
STATUS = {"sent": "已发出", "failed": "没有发出", "uncertain": "上次发送被中断，无法确定是否已发出，没有重发",
          "already": "之前已发出"}


def _who(m) -> str:
    township = m.township or "未登记的发件人"
    return f"{township}（{m.sender or '无发件地址'}）"


def fetch_lines(result: FetchResult, *, quiet: bool = False) -> list[str]:
    """Lines about one fetch; `quiet` (watch) says nothing when nothing happened."""
    lines = []
    if result.messages or not quiet:
        lines.append(f"收取新邮件 {len(result.messages)} 封，附件 {result.files} 个"
                     + (f"（另有 {result.known} 封之前已取过）。" if result.known else "。"))
    for m in result.messages:
        if m.files:
            names = "、".join(saved if saved == original.split("/")[-1] else f"{saved}（原名 {original}）"
                             for original, saved in m.files)
            lines.append(f"  {_who(m)}《{m.subject}》：{names}")
        else:
            lines.append(f"  {_who(m)}《{m.subject}》：{KINDS.get(m.kind, m.kind)}")
        if m.note:
            lines.append(f"      {m.note}")
    unknown = [m for m in result.messages if m.township is None and m.kind == "submission"]
    if unknown:
        lines.append(f"  注意：{len(unknown)} 封邮件的发件地址没有登记在 jiuzhu.toml 中，附件已照常保存（乡镇按表中内容确定），"
                     "请核对：" + "、".join(m.sender for m in unknown))
    for o in result.receipts + result.chased:
        what = "回执" if o.key.startswith("receipt:") else "催报"
        lines.append(f"  {what}「{o.subject}」→ {'、'.join(o.recipients)}：{STATUS.get(o.status, o.status)}"
                     + (f"（{o.error}）" if o.error else ""))
    lines += [f"注意：{note}" for note in result.notes]
    return lines


def send_lines(result: SendResult) -> list[str]:
    lines = []
    day = result.as_of.isoformat()
    if result.written:
        lines.append(f"试运行：{len(result.written)} 封邮件已写成文件，没有发送：")
        lines += [f"  {t} → {path}" for t, path in result.written.items()]
    sent = {t: o for t, o in result.outcomes.items() if o.status == "sent"}
    if result.outcomes:
        lines.append(f"{day} 的材料：发出 {len(sent)} 封，之前已发出 "
                     f"{sum(o.status == 'already' for o in result.outcomes.values())} 封，没有发出 {len(result.failed)} 封。")
    for township, o in result.outcomes.items():
        files = "、".join(result.files.get(township, []))
        lines.append(f"  {township} → {'、'.join(o.recipients)}：{STATUS.get(o.status, o.status)}"
                     + (f"（{o.error}）" if o.error else "") + (f"；附件 {files}" if o.status == "sent" else ""))
    if result.failed:
        lines.append("没有发出的，稍后再运行一次 jiuzhu mail send --as-of " + day + " 即可（已发出的不会重发）；"
                     "无法确定是否发出的，核对后用 --resend 乡镇名称 重发。")
    if result.no_address:
        lines.append("注意：下列乡镇（街道）有材料但 jiuzhu.toml 中没有邮箱地址，没有发送：" + "、".join(result.no_address))
    return lines
