"""The operator's safety net on the command line: `jiuzhu undo` and `jiuzhu backup` (a thin shell
over pipeline/undo.py), `jiuzhu find`, `correct`, `merge` and `withdraw` (over pipeline/corrections.py);
registered onto the main group by pipeline/cli.py."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline import settings
from pipeline.click_zh import check_settings, fail
from pipeline.errors import JiuzhuError

STATES = {"taken": "未完成", "done": "可撤销", "undone": "已撤销", "safety": "撤销前的副本", "damaged": "记录已损坏"}


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
            if rec["state"] == "damaged":
                click.echo(f"{snap.meta.name}  记录已损坏，无法读取")
                continue
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

    正在汇总（或撤销、更正）时不备份，请等它结束后再运行；得到的副本总是完整一致的，可以直接用 --store 使用。

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


def by_option(fn):
    return click.option("--by", help="更正人，默认是登录电脑的用户名。")(fn)


def why_option(fn):
    return click.option("--why", required=True, help="更正的原因（必填），记入更正记录和汇总报告。")(fn)


def _done(done) -> None:
    click.echo(f"已完成：{done.label}")
    for line in done.lines:
        click.echo(f"  {line}")


@click.command()
@click.argument("text")
@store_option
def find(text: str, store: Path) -> None:
    """查找对象：TEXT 是姓名、身份证号码或它们的一部分。列出每个相符的对象：乡镇（街道）、
    状态、每次报送（来自哪个文件的哪一行）、走访、催办和更正记录，以及更正时要用的“键”。

    \b
    示例：
      jiuzhu find 张三
      jiuzhu find 500114198
    """
    check_settings()
    from pipeline import corrections

    try:
        found, total = corrections.find(store, text)
    except JiuzhuError as exc:
        fail(exc)
    if not found:
        click.echo(f"名册中没有姓名、身份证号码或键包含「{text}」的对象。")
        return
    click.echo(f"找到 {total} 个对象{f'，只列出前 {len(found)} 个，请输入更多的字' if total > len(found) else ''}：")
    for person in found:
        click.echo("")
        for line in corrections.describe(person):
            click.echo(line)


@click.command()
@click.argument("key")
@click.argument("field")
@click.argument("value")
@why_option
@by_option
@store_option
def correct(key: str, field: str, value: str, why: str, by: str | None, store: Path) -> None:
    """更正一个对象的一栏：KEY 是 jiuzhu find 显示的键（或身份证号码），FIELD 是明细表的栏目
    （如 办理结果），VALUE 是正确的值（清空写 ""）。之后乡镇（街道）报来不同的值时保留更正，
    并在汇总报告「人工更正」中注明。可以用 jiuzhu undo 撤销。

    \b
    示例：
      jiuzhu correct 500114198001011234 办理结果 "纳入城乡低保，2026年11月20日" --why "乡镇来电更正"
    """
    check_settings()
    from pipeline import corrections

    try:
        done = corrections.correct(store, key, field, value, why=why, by=by)
    except JiuzhuError as exc:
        fail(exc)
    _done(done)


@click.command()
@click.argument("keep")
@click.argument("gone")
@why_option
@by_option
@store_option
def merge(keep: str, gone: str, why: str, by: str | None, store: Path) -> None:
    """把重复记录的同一个人合并：GONE 并入 KEEP（都是 jiuzhu find 显示的键）。GONE 的报送历史、
    走访和催办移到 KEEP，GONE 不再计数；之后按 GONE 报来的行记到 KEEP 上。可以用 jiuzhu undo 撤销。

    \b
    示例：
      jiuzhu merge "城西街道|id:500114198001011234" "城西街道|胜利村|张三" --why "同一人，先报时未填身份证号"
    """
    check_settings()
    from pipeline import corrections

    try:
        done = corrections.merge(store, keep, gone, why=why, by=by)
    except JiuzhuError as exc:
        fail(exc)
    _done(done)


@click.command()
@click.argument("key")
@why_option
@by_option
@click.option("--restore", is_flag=True, help="把撤回的对象恢复计入。")
@store_option
def withdraw(key: str, why: str, by: str | None, restore: bool, store: Path) -> None:
    """撤回报错的对象：仍保存在台账数据库中（jiuzhu find 可以查到），但不计入台账、统计、超期和走访缺口。
    乡镇（街道）之后再报来时只作为历史保存并注明。--restore 恢复计入。可以用 jiuzhu undo 撤销。

    \b
    示例：
      jiuzhu withdraw "城西街道|胜利村|张三" --why "查无此人，乡镇误报"
    """
    check_settings()
    from pipeline import corrections

    try:
        done = corrections.withdraw(store, key, why=why, by=by, restore=restore)
    except JiuzhuError as exc:
        fail(exc)
    _done(done)
