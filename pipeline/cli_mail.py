"""The mail commands (`jiuzhu mail …`, `jiuzhu reminders sent`, and the mail half of `jiuzhu run
--mail`), registered onto the main group by pipeline/cli.py: a thin shell like it.

Each command parses its options, calls one library function of pipeline/mail/, prints what
it returns and maps it to an exit code.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from pipeline import settings
from pipeline.click_zh import DATE, fail
from pipeline.errors import JiuzhuError


@click.group()
def reminders() -> None:
    """催办通知：记录书面通知已经发出（只有发出后才开始计算办理期限）。

    \b
    示例：
      jiuzhu reminders sent --as-of 2026-11-28
    """


@reminders.command("sent")
@click.argument("townships", nargs=-1)
@click.option("--as-of", type=DATE, help="哪一天汇总生成的催办通知，默认今天。")
@click.option("--store", type=click.Path(path_type=Path), default=settings.STORE, show_default=True,
              help="台账数据库（SQLite 文件）。")
def reminders_sent(townships: tuple[str, ...], as_of: date | None, store: Path) -> None:
    """记录某天的催办通知（纸质）已经发出；不写乡镇名称则记录当天的全部催办通知。

    催办通知从发出之日起计算办理期限，期限过后仍未办理的才算「提醒后仍未办理」。
    通过 jiuzhu mail send 发出的邮件会自动记录，不需要再运行本命令。

    \b
    示例：
      jiuzhu reminders sent --as-of 2026-11-28
      jiuzhu reminders sent --as-of 2026-11-28 城西街道 石会镇
    """
    from pipeline.mail.letters import record_sent

    try:
        done = record_sent(store, as_of or date.today(), list(townships))
    except JiuzhuError as exc:
        fail(exc)
    day = done.as_of.isoformat()
    for township, n in done.issued.items():
        click.echo(f"已记录：{township} {day} 的催办通知已发出（{n} 件），从 {day} 起计算办理期限。")
    for township in done.already:
        click.echo(f"{township} {day} 的催办通知此前已记录为发出，没有改动。")
    for township in done.without:
        click.echo(f"注意：{township} 在 {day} 的汇总中没有催办通知（没有超期事项），没有记录。")


def _config_option(fn):
    return click.option("--config", "config_path", type=click.Path(path_type=Path), default=Path("jiuzhu.toml"),
                        show_default=True, help="邮件配置文件。")(fn)


def _fetch_options(fn):
    """--config, --inbox and --store of the commands that fetch."""
    fn = click.option("--store", type=click.Path(path_type=Path), default=settings.STORE, show_default=True,
                      help="台账数据库（SQLite 文件），记录取过的邮件和发过的回执。")(fn)
    fn = click.option("--inbox", type=click.Path(path_type=Path), default=settings.INBOX, show_default=True,
                      help="收件箱：附件保存到这里。")(fn)
    return _config_option(fn)


def _load(config_path: Path):
    from pipeline.mail import config

    return config.load(config_path)


@click.group()
def mail() -> None:
    """邮件：从单位邮箱收取各乡镇的明细表并自动回执，把每个乡镇的材料发回给它。

    \b
    示例：
      jiuzhu mail init
      jiuzhu mail fetch
      jiuzhu mail send --as-of 2026-11-28 --dry-run
    """


@mail.command("init")
@_config_option
def mail_init(config_path: Path) -> None:
    """生成一份带说明的邮件配置文件（jiuzhu.toml），填好服务器、账号和各乡镇的邮箱。

    \b
    示例：
      jiuzhu mail init
      jiuzhu mail init --config 配置/jiuzhu.toml
    """
    from pipeline.mail.template import write_config

    try:
        path = write_config(config_path)
    except JiuzhuError as exc:
        fail(exc)
    click.echo(f"已生成邮件配置：{path}。请填写服务器、账号和各乡镇的邮箱；授权码放在环境变量或只有本人可读的文件中。")


@mail.command("fetch")
@_fetch_options
def mail_fetch(config_path: Path, inbox: Path, store: Path) -> None:
    """收取新邮件：附件存入收件箱，并给每封报送邮件回执检查结果（同一封邮件不会取两次）。

    邮箱里的邮件不会被删除，也不会被标为已读。

    \b
    示例：
      jiuzhu mail fetch
      jiuzhu mail fetch --config jiuzhu.toml --inbox inbox
    """
    from pipeline.mail.console import fetch_lines
    from pipeline.mail.fetch import fetch

    try:
        result = fetch(_load(config_path), inbox, store)
    except JiuzhuError as exc:
        fail(exc)
    for line in fetch_lines(result):
        click.echo(line)


@mail.command("watch")
@_fetch_options
def mail_watch(config_path: Path, inbox: Path, store: Path) -> None:
    """一直运行：新邮件一到就收取并回执（每分钟至少检查一次），按 Ctrl-C 停止。

    \b
    示例：
      jiuzhu mail watch
    """
    from pipeline.mail.console import fetch_lines
    from pipeline.mail.watch import watch

    def told(result) -> None:
        for line in fetch_lines(result, quiet=True):
            click.echo(line)

    try:
        cfg = _load(config_path)
        click.echo(f"正在等待新邮件（{cfg.user}，{cfg.imap_host}），按 Ctrl-C 停止。")
        passes = watch(cfg, inbox, store, on_pass=told, on_error=lambda text: click.echo(f"注意：{text}", err=True))
    except JiuzhuError as exc:
        fail(exc)
    click.echo(f"已停止（共检查 {passes} 次）。")


@mail.command("send")
@_config_option
@click.option("--as-of", type=DATE, help="发送哪一天汇总的材料，默认今天。")
@click.option("--dry-run", is_flag=True, help="不发送，只把要发的邮件写成 .eml 文件（outbox/<日期>/mail/）。")
@click.option("--resend", multiple=True, metavar="乡镇", help="上次发送被中断、无法确定是否发出的，确认后重发给这个乡镇。")
@click.option("--outbox", type=click.Path(path_type=Path), default=settings.OUTBOX, show_default=True,
              help="输出文件夹。")
@click.option("--store", type=click.Path(path_type=Path), default=settings.STORE, show_default=True,
              help="台账数据库（SQLite 文件），记录发过的邮件。")
def mail_send(config_path: Path, as_of: date | None, dry_run: bool, resend: tuple[str, ...], outbox: Path,
              store: Path) -> None:
    """给每个乡镇（街道）发一封邮件，附上只涉及它的催办通知、走访缺口和退回意见。

    已经发出的不会重发；上次没发出去的，再运行一次即可。退出码：全部发出为 0，有没发出的为 1。

    \b
    示例：
      jiuzhu mail send --as-of 2026-11-28 --dry-run
      jiuzhu mail send --as-of 2026-11-28
    """
    import sys

    from pipeline.mail.console import send_lines
    from pipeline.mail.send import send

    try:
        result = send(_load(config_path), outbox, store, as_of, dry_run=dry_run, resend=resend)
    except JiuzhuError as exc:
        fail(exc)
    for line in send_lines(result):
        click.echo(line)
    sys.exit(int(bool(result.failed)))


def run_with_mail(config_path: Path, inbox: Path, outbox: Path, store: Path, as_of: date | None, pdf: bool,
                  mask: bool, *, yes: bool = False, by: str | None = None) -> None:
    """`jiuzhu run --mail` (pipeline/cli.py hands over here): fetch, run, send, one summary."""
    import sys

    from pipeline.console import print_file_progress, print_reading, print_run
    from pipeline.mail.console import fetch_lines, send_lines
    from pipeline.mail.week import run_with_mail as monday

    try:
        done = monday(config_path, inbox, outbox, store, as_of, pdf=pdf, mask=mask, yes=yes, by=by,
                      on_file=print_file_progress, on_read=print_reading)
    except JiuzhuError as exc:
        fail(exc)
    print_run(done.run)
    click.echo("")
    for line in fetch_lines(done.fetched) + send_lines(done.sent):
        click.echo(line)
    sys.exit(int(bool(done.sent.failed)))
