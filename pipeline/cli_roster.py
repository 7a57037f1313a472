"""The operator's safety net on the command line: `jiuzhu undo` and `jiuzhu backup`, registered
onto the main group by pipeline/cli.py; a thin shell over pipeline/undo.py."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline import settings
from pipeline.click_zh import check_settings, fail
from pipeline.errors import JiuzhuError

STATES = {"taken": "未完成", "done": "可撤销", "undone": "已撤销", "safety": "撤销前的副本"}


def store_option(fn):
    return click.option("--store", type=click.Path(path_type=Path), default=settings.STORE, show_default=True,
                        help="台账数据库（SQLite 文件）。")(fn)


@click.command()
@store_option
@click.option("--list", "listing", is_flag=True, help="只列出可以撤销的记录（运行前自动保存的快照），不撤销。")
@click.option("--by", help="撤销人，默认是登录电脑的用户名。")
@click.option("--yes", is_flag=True, help="那次汇总的催办通知已登记发出时，仍然撤销。")
def undo(store: Path, listing: bool, by: str | None, yes: bool) -> None:
    """撤销最近一次汇总或更正：台账数据库恢复到那次之前，收到的文件移回收件箱，
    那次的输出文件夹改名保留（不删除）。可以连续撤销更早的一次。

    \b
    示例：
      jiuzhu undo --list
      jiuzhu undo
    """
    check_settings()
    from pipeline import undo as undoing

    if listing:
        shown = undoing.history(store)
        if not shown:
            click.echo(f"{store} 旁边没有运行前保存的快照。")
        for snap in shown:
            rec = snap.record
            click.echo(f"{rec['taken'].replace('T', ' ')}  {STATES.get(rec['state'], rec['state'])}  "
                       f"{rec['label']}（{rec['by']}）")
        return
    try:
        done = undoing.undo(store, by=by, yes=yes)
    except JiuzhuError as exc:
        fail(exc)
    click.echo(f"已撤销：{done.label}")
    for line in done.lines:
        click.echo(f"  {line}")


@click.command()
@click.argument("target", type=click.Path())  # text: a trailing / or \\ says "a folder"
@store_option
def backup(target: str, store: Path) -> None:
    """把台账数据库完整地备份到 TARGET（一个新文件，或一个文件夹）。

    运行中的汇总结束后才备份，得到的副本总是完整一致的，可以直接用 --store 使用。

    \b
    示例：
      jiuzhu backup D:\\备份\\
      jiuzhu backup 台账备份-2026-12-07.sqlite3
    """
    check_settings()
    from pipeline import undo as undoing

    try:
        path, held = undoing.backup(store, target)
    except JiuzhuError as exc:
        fail(exc)
    size = path.stat().st_size / (1 << 20)
    latest = f"，最近一次汇总 {held['latest']}" if held["latest"] else ""
    click.echo(f"已备份到 {path}（{size:.1f} MB，名册 {held['persons']} 人，汇总 {held['runs']} 次{latest}）。")
