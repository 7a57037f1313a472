"""jiuzhu.toml (pipeline/mail/config.py), `jiuzhu mail init` and `jiuzhu reminders sent`: every
mistake named by file, key and what is expected, in Chinese; the password never shown."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.errors import MailConfigError
from pipeline.mail import config
from pipeline.run import run
from tests.test_run import AS_OF, make_week

GOOD = '''[mail]
imap_host = "imap.example.gov.cn"
smtp_host = "smtp.example.gov.cn"
user = "mzj@example.gov.cn"
password_env = "JIUZHU_TEST_PASSWORD"
'''


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "jiuzhu.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_init_writes_a_file_that_loads_and_is_not_overwritten(tmp_path: Path):
    path = tmp_path / "jiuzhu.toml"
    result = CliRunner().invoke(main, ["mail", "init", "--config", str(path)])
    assert result.exit_code == 0 and "已生成邮件配置" in result.output
    cfg = config.load(path)
    assert (cfg.imap_port, cfg.smtp_port, cfg.imap_security, cfg.processed) == (993, 465, "ssl", "none")
    assert len(cfg.townships) == 30 and cfg.chase == config.Chase(5, 15)
    again = CliRunner().invoke(main, ["mail", "init", "--config", str(path)])
    assert again.exit_code == 1 and "已经存在，没有覆盖" in again.output


@pytest.mark.parametrize("text, said", [
    (GOOD.replace('user = "mzj@example.gov.cn"\n', ""), "[mail] 中缺少 user，应为登录邮箱的账号"),
    (GOOD + "imap_port = \"993\"\n", "[mail] 中的 imap_port 不对（现在是 '993'），应为端口号"),
    (GOOD + "imap_hots = \"x\"\n", "[mail] 中的 imap_hots 不认识"),
    (GOOD + "password = \"abc\"\n", "[mail] 中不能写 password：授权码不能放在配置文件里"),
    (GOOD + "smtp_security = \"plain\"\n", "smtp_security 不对（现在是 \"plain\"），应为ssl 或 starttls：plain（不加密）只能用于本机"),
    (GOOD + "processed = \"delete\"\n", "processed 不对（现在是 'delete'），应为none、keyword 或 move 之一"),
    (GOOD + "since_days = 0\n", "since_days 不对（现在是 0），应为天数（1 至 366）"),
    (GOOD + '[townships."火星乡"]\nto = ["a@example.gov.cn"]\n', "[townships.\"火星乡\"] 的「火星乡」不是本区的乡镇（街道）"),
    (GOOD + '[townships."城西"]\nto = ["不是地址"]\n', "[townships.\"城西\"] 中的 to 不对"),
    (GOOD + "[chase]\nweekday = 8\nhour = 15\n", "[chase] 中的 weekday 不对（现在是 8），应为1（星期一）至 7（星期日）"),
    (GOOD + "imap_host = \n", "第 6 行第 13 列附近格式有误"),
    (GOOD.replace('password_env = "JIUZHU_TEST_PASSWORD"\n', ""), "应写 password_env"),
])
def test_each_mistake_names_the_file_the_key_and_what_is_expected(tmp_path: Path, text: str, said: str):
    path = write(tmp_path, text)
    with pytest.raises(MailConfigError) as caught:
        config.load(path)
    assert str(path) in str(caught.value) and said in str(caught.value)


def test_short_township_names_and_one_address_are_read(tmp_path: Path):
    cfg = config.load(write(tmp_path, GOOD + '[townships."城西"]\nto = "CXJD@example.gov.cn"\ncontact = "张三"\n'))
    assert cfg.townships["城西街道"].to == ("CXJD@example.gov.cn",)
    assert cfg.township_of("cxjd@example.gov.cn") == "城西街道" and cfg.township_of("x@example.gov.cn") is None


def test_the_password_comes_from_the_environment_or_a_private_file_and_never_shows(tmp_path: Path, monkeypatch):
    cfg = config.load(write(tmp_path, GOOD))
    monkeypatch.delenv("JIUZHU_TEST_PASSWORD", raising=False)
    with pytest.raises(MailConfigError, match="环境变量 JIUZHU_TEST_PASSWORD 没有设置"):
        cfg.password()
    monkeypatch.setenv("JIUZHU_TEST_PASSWORD", "s3cret-授权码")
    secret = cfg.password()
    assert secret.reveal() == "s3cret-授权码" and "s3cret" not in f"{secret} {secret!r} {cfg!r}"
    (tmp_path / "pw.txt").write_text("file-secret\n")
    cfg = config.load(write(tmp_path, GOOD.replace('password_env = "JIUZHU_TEST_PASSWORD"', 'password_file = "pw.txt"')))
    if os.name == "posix":
        (tmp_path / "pw.txt").chmod(0o644)
        with pytest.raises(MailConfigError, match="其他用户也能读取（权限 644）") as caught:
            cfg.password()
        assert "file-secret" not in str(caught.value)
        (tmp_path / "pw.txt").chmod(0o600)
    assert cfg.password().reveal() == "file-secret"


def test_a_missing_config_says_how_to_make_one(tmp_path: Path):
    result = CliRunner().invoke(main, ["mail", "fetch", "--config", str(tmp_path / "没有.toml")])
    assert result.exit_code == 1 and "请先运行 jiuzhu mail init" in result.output


def test_reminders_sent_records_the_paper_letters(tmp_path: Path):
    inbox, outbox, store = tmp_path / "inbox", tmp_path / "outbox", tmp_path / "s.sqlite3"
    make_week(inbox)
    week = run(inbox, outbox, store, AS_OF)
    late = [t for t in week.report["townships"] if week.report["townships"][t]["overdue"]]
    assert late
    args = ["reminders", "sent", "--store", str(store), "--as-of", "2026-11-28"]
    wrong = CliRunner().invoke(main, [*args, "火星乡"])
    assert wrong.exit_code == 1 and "「火星乡」不是本区的乡镇（街道）名称" in wrong.output
    none = CliRunner().invoke(main, ["reminders", "sent", "--store", str(store), "--as-of", "2026-11-21"])
    assert none.exit_code == 1 and "尚未发出的催办通知在：2026-11-28" in none.output
    one = CliRunner().invoke(main, [*args, late[0], "太极镇"])
    assert one.exit_code == 0 and f"已记录：{late[0]} 2026-11-28 的催办通知已发出" in one.output
    assert "太极镇 在 2026-11-28 的汇总中没有催办通知" in one.output
    rest = CliRunner().invoke(main, args)
    assert f"{late[0]} 2026-11-28 的催办通知此前已记录为发出" in rest.output
