"""The `jiuzhu` command: a thin shell over the library.

Each command parses its options, calls one library function, prints the result and maps
it to an exit code. pandas and pandera are imported inside the commands that need them so
that `jiuzhu --help` answers at once.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import click

from pipeline import settings
from pipeline.errors import JiuzhuError


class DateType(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(f"日期「{value}」格式不对，请写成 YYYY-MM-DD，如 2026-11-28。", param, ctx)


DATE = DateType()


def _fail(exc: JiuzhuError) -> None:
    raise click.ClickException(str(exc)) from exc


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
    from pipeline.check import check_files
    from pipeline.console import print_check
    from pipeline.inbox import expand

    try:
        report = check_files(expand(files), as_of)
    except JiuzhuError as exc:
        _fail(exc)
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
    from pipeline.template import write_assistants_template, write_template

    try:
        if assistants:
            path = write_assistants_template(output or Path("协理员名册模板.xlsx"), township=township)
        else:
            path = write_template(output or Path("明细表模板.xlsx"), township=township)
    except JiuzhuError as exc:
        _fail(exc)
    click.echo(f"已生成模板：{path}")


if __name__ == "__main__":  # pragma: no cover
    main()
