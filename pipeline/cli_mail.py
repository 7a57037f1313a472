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
from pipeline.click_zh import DATE
from pipeline.errors import JiuzhuError


def _fail(exc: JiuzhuError) -> None:
    raise click.ClickException(str(exc)) from exc


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
        _fail(exc)
    day = done.as_of.isoformat()
    for township, n in done.issued.items():
        click.echo(f"已记录：{township} {day} 的催办通知已发出（{n} 件），从 {day} 起计算办理期限。")
    for township in done.already:
        click.echo(f"{township} {day} 的催办通知此前已记录为发出，没有改动。")
    for township in done.without:
        click.echo(f"注意：{township} 在 {day} 的汇总中没有催办通知（没有超期事项），没有记录。")
