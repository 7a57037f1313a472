"""click's own words (Usage:, Options, Error: …, Missing argument …) in Chinese.

click marks every text it prints with gettext's _() and ngettext(); jiuzhu's users read
Chinese only, so those two names in click's modules are replaced by look-ups in this table.
A text not in the table (a newer click's) is shown as click wrote it. The YYYY-MM-DD
parameter of every command (`DATE`) says its mistake in Chinese too.
"""

from __future__ import annotations

import importlib
from datetime import date

import click

CHINESE = {
    "Usage:": "用法:",
    "Options": "选项",
    "Commands": "命令",
    "Show this message and exit.": "显示本说明并退出。",
    "Show the version and exit.": "显示版本号并退出。",
    "Error: {message}": "错误：{message}",
    "Try '{command} {option}' for help.": "可运行 '{command} {option}' 查看用法。",
    "Missing argument": "缺少参数",
    "Missing option": "缺少选项",
    "Missing parameter": "缺少参数",
    "Missing {param_type}": "缺少{param_type}",
    "Missing parameter: {param_name}": "缺少参数：{param_name}",
    "Missing command.": "缺少命令。",
    "No such option {name!r}.": "没有选项 {name!r}。",
    "No such command {name!r}.": "没有命令 {name!r}。",
    "Did you mean {possibility}?": "是不是要输入 {possibility}？",
    "(Did you mean one of: {possibilities}?)": "（是不是要输入其中之一：{possibilities}？）",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的值不对：{message}",
    "Invalid value: {message}": "值不对：{message}",
    "Got unexpected extra argument ({args})": "多出了参数（{args}）",
    "Got unexpected extra arguments ({args})": "多出了参数（{args}）",
    "Option {name!r} requires an argument.": "选项 {name!r} 后面需要填一个值。",
    "Option {name!r} requires {nargs} arguments.": "选项 {name!r} 后面需要填 {nargs} 个值。",
    "Option {name!r} does not take a value.": "选项 {name!r} 后面不用填值。",
    "{value!r} is not one of {choices}.": "{value!r} 不是 {choices} 之一。",
    "{value!r} is not a valid {number_type}.": "{value!r} 不是有效的数字。",
    "{name} {filename!r} does not exist.": "{name} {filename!r} 不存在。",
    "{name} {filename!r} is a directory.": "{name} {filename!r} 是文件夹。",
    "{name} {filename!r} is a file.": "{name} {filename!r} 是文件。",
    "{name} {filename!r} is not readable.": "{name} {filename!r} 没有读取权限。",
    "{name} {filename!r} is not writable.": "{name} {filename!r} 没有写入权限。",
    "file": "文件",
    "directory": "文件夹",
    "path": "路径",
    "default: {default}": "默认：{default}",
    "Aborted!": "已中断。没有做完的部分已恢复到运行前的样子，可以直接重新运行。",
}
MODULES = ("click.core", "click.exceptions", "click.formatting", "click.decorators", "click.parser", "click.types")


def _text(message: str) -> str:
    return CHINESE.get(message, message)


def _plural(singular: str, plural: str, n: int) -> str:
    return _text(singular if n == 1 else plural)


def install() -> None:
    """Make click speak Chinese from now on, in this process."""
    for name in MODULES:
        module = importlib.import_module(name)
        if hasattr(module, "_"):
            module._ = _text
        if hasattr(module, "ngettext"):
            module.ngettext = _plural


FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)  # a run date outside them is a typing mistake


class DateType(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):
        if isinstance(value, date):
            return value
        try:
            day = date.fromisoformat(value)
        except ValueError:
            self.fail(f"日期「{value}」格式不对，请写成 YYYY-MM-DD，如 2026-11-28。", param, ctx)
        if not FIRST_DAY <= day <= LAST_DAY:
            self.fail(f"日期「{value}」不在 {FIRST_DAY.year} 年到 {LAST_DAY.year} 年之间，多半是年份输错了，"
                      "请写成 YYYY-MM-DD，如 2026-11-28。", param, ctx)
        return day


DATE = DateType()


def fail(exc: Exception) -> None:
    """End the command with the error's sentence (exit 1), no traceback."""
    raise click.ClickException(str(exc)) from exc


def check_settings() -> None:
    """Every setting under schemas/ read before a command does anything: one written wrong is named
    with its file and key, instead of a traceback halfway through a run."""
    from pipeline.errors import JiuzhuError
    from pipeline.rules import spec

    try:
        spec.check_all()
    except JiuzhuError as exc:
        fail(exc)
