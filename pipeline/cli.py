"""The `jiuzhu` command: a thin shell over the library.

Each command parses its options, calls one library function, prints the result and maps
it to an exit code. pandas and pandera are imported inside the commands that need them so
that `jiuzhu --help` answers at once.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from datetime import date
from pathlib import Path

import click

from pipeline import click_zh, settings
from pipeline.click_zh import DATE, check_settings, fail  # shared with pipeline/cli_mail.py
from pipeline.errors import JiuzhuError

click_zh.install()


def _quietly(show):
    """`show`, but a terminal that is gone (| head, a closed window) or cannot take Chinese
    never changes what a run does or its exit code: the run goes on and says nothing more."""
    def call(*args) -> None:
        try:
            show(*args)
        except (OSError, ValueError, UnicodeError):
            pass
    return call


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="jiuzhu", message="jiuzhu %(version)s")
def main() -> None:
    """jiuzhu：社会救助主动发现明细表的校验、汇总与报告（黔江区民政局）。

    \b
    每周流程：把各乡镇（街道）报来的明细表放进 inbox/，运行 jiuzhu run，
    到 outbox/<日期>/ 取全区汇总台账、走访缺口、超期催办、汇总报告和退回文件。
    """


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="输出 JSON（每个文件一个对象，与 run-report.json 的 files 相同）。")
@click.option("--as-of", type=DATE, help="核对日期，默认今天；晚于此日期的日期视为错误。")
def check(files: tuple[Path, ...], as_json: bool, as_of: date | None) -> None:
    """检查明细表文件，列出每个有问题的单元格（不写入台账）。

    退出码：全部行都合格为 0，否则为 1。

    \b
    示例：
      jiuzhu check 城西街道1128.xlsx
      jiuzhu check inbox/ --json
    """
    check_settings()
    from pipeline.console import print_check
    from pipeline.intake.check import check_files
    from pipeline.intake.inbox import expand, nothing_to_check

    try:
        paths = expand(files)
        if not paths:
            raise JiuzhuError(nothing_to_check(files))
        report = check_files(paths, as_of)
    except JiuzhuError as exc:
        fail(exc)
    if as_json:
        click.echo(json.dumps(report.to_list(), ensure_ascii=False, indent=2))
    else:
        print_check(report)
    sys.exit(int(not report.valid))


@main.command()
@click.option("--township", help="乡镇（街道）名称，写入填报单位，如 城西街道。")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="输出文件，默认 明细表模板.xlsx。")
@click.option("--assistants", is_flag=True, help="生成社会救助协理员名册模板，而不是明细表。")
def template(township: str | None, output: Path | None, assistants: bool) -> None:
    """生成带下拉选项的空白明细表（含走访记录和填表说明）。

    \b
    示例：
      jiuzhu template --township 城西街道 -o 城西街道明细表.xlsx
      jiuzhu template --assistants -o 协理员名册.xlsx
    """
    check_settings()
    from pipeline.reports.template import write_assistants_template, write_template

    try:
        if assistants:
            path = write_assistants_template(output or Path("协理员名册模板.xlsx"), township=township)
        else:
            path = write_template(output or Path("明细表模板.xlsx"), township=township)
    except JiuzhuError as exc:
        fail(exc)
    click.echo(f"已生成模板：{path}")


def _run_options(fn):
    fn = click.option("--no-mask", is_flag=True, help="汇总报告中显示完整姓名和身份证号（默认打码，如 张*明）。")(fn)
    fn = click.option("--pdf", is_flag=True, help="同时用 Chromium 把汇总报告打印成 PDF。")(fn)
    fn = click.option("--as-of", type=DATE, help="汇总日期，默认今天。")(fn)
    fn = click.option("--store", type=click.Path(path_type=Path), default=settings.STORE, show_default=True,
                      help="台账数据库（SQLite 文件）。")(fn)
    fn = click.option("--outbox", type=click.Path(path_type=Path), default=settings.OUTBOX, show_default=True,
                      help="输出文件夹。")(fn)
    return fn


@main.command()
@click.option("--inbox", type=click.Path(path_type=Path), default=settings.INBOX, show_default=True,
              help="收件箱：各乡镇报来的明细表。")
@_run_options
@click.option("--mail", "with_mail", is_flag=True, help="先从邮箱收取附件（并回执），汇总后给各乡镇发邮件（见 jiuzhu mail）。")
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=Path("jiuzhu.toml"),
              show_default=True, help="邮件配置文件（与 --mail 一起用）。")
@click.option("--yes", is_flag=True, help="确认：汇总日期晚于今天好几天，或第一次汇总而收件箱是空的，也照样汇总。")
@click.option("--by", help="运行人（记入撤销记录），默认是登录电脑的用户名。")
def run(inbox: Path, outbox: Path, store: Path, as_of: date | None, pdf: bool, no_mask: bool, with_mail: bool,
        config_path: Path, yes: bool, by: str | None) -> None:
    """每周汇总：校验收件箱中的明细表，并入全区名册，生成台账和报告。

    处理完的文件移到 inbox/archive/<日期>/，无法读取的移到 inbox/rejected/，
    不会删除任何文件。中途中断时台账和收件箱保持原样，可以直接重新运行。

    \b
    示例：
      jiuzhu run
      jiuzhu run --inbox 收件箱 --outbox 输出 --as-of 2026-11-28
      jiuzhu run --mail
    """
    check_settings()
    if with_mail:  # fetch → run → send, in pipeline/cli_mail.py
        return run_with_mail(config_path, inbox, outbox, store, as_of, pdf, not no_mask, yes=yes, by=by)
    from pipeline.console import print_file_progress, print_reading, print_run
    from pipeline.run import run as run_week

    try:
        result = run_week(inbox, outbox, store, as_of, pdf=pdf, mask=not no_mask, yes=yes, by=by,
                          on_file=_quietly(print_file_progress), on_read=_quietly(print_reading))
    except JiuzhuError as exc:
        fail(exc)
    _quietly(print_run)(result)


@main.command()
@click.argument("folder", required=False, type=click.Path(path_type=Path), default=Path("jiuzhu-demo"))
@click.option("--as-of", type=DATE, help="演示的汇总日期，默认今天。")
def demo(folder: Path, as_of: date | None) -> None:
    """用虚构的演示数据（30个乡镇街道）跑一遍完整流程，并告诉你结果在哪里。

    \b
    示例：
      jiuzhu demo
      jiuzhu demo 演示 --as-of 2026-11-28
    """
    check_settings()
    from pipeline.console import print_file_progress, print_run
    from pipeline.demo.demo import run_demo

    try:
        result = run_demo(folder, as_of or date.today(), on_file=_quietly(print_file_progress))
    except JiuzhuError as exc:
        fail(exc)
    _quietly(print_run)(result)


@main.command()
@_run_options
def report(outbox: Path, store: Path, as_of: date | None, pdf: bool, no_mask: bool) -> None:
    """不读收件箱，只根据台账数据库重新生成某一天的汇总报告（HTML）。

    \b
    示例：
      jiuzhu report --as-of 2026-11-28 --pdf
    """
    check_settings()
    from pipeline.rebuild import rebuild

    try:
        path, warnings = rebuild(outbox, store, as_of or date.today(), pdf=pdf, mask=not no_mask)
    except JiuzhuError as exc:
        fail(exc)
    for warning in warnings:
        click.echo(f"注意：{warning}")
    click.echo(f"汇总报告：{path}")
    if pdf and path.with_suffix(".pdf").is_file() and not warnings:
        click.echo(f"PDF：{path.with_suffix('.pdf')}")


# The mail commands and `jiuzhu reminders sent` live in pipeline/cli_mail.py (docs/design.md §8);
# undo, backup, find, correct, merge and withdraw in pipeline/cli_roster.py.
from pipeline.cli_mail import mail, reminders, run_with_mail  # noqa: E402
from pipeline.cli_roster import backup, correct, find, merge, undo, withdraw  # noqa: E402

for command in (mail, reminders, undo, backup, find, correct, merge, withdraw):
    main.add_command(command)


def entry() -> None:
    """The `jiuzhu` command: main(), then end the process without Python's teardown.

    By the time main() returns every output is written, closed and renamed into place.
    Tearing down the interpreter would then free every object of pandas, pandera and the
    week's tables one by one: 0.2–0.45 s of waiting measured after a district week's run,
    and as much after `jiuzhu check`. So the output streams are flushed and the process
    ends at once with main's exit code. An unexpected exception still ends the ordinary
    way, with its traceback.
    """
    for stream in (sys.stdout, sys.stderr):  # PYTHONIOENCODING=ascii: a ? for each 汉字, never a crash
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(errors="replace")
    try:
        main()
        code = 0
    except SystemExit as exc:  # click ends every command, even a successful one, this way
        code = exc.code
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):  # a closed pipe (`… | head`), or no stdout at all
            pass
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    entry()
