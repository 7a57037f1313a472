"""jiuzhu.toml: the mail servers, the account, the townships' addresses (docs/design.md §8).

The password (授权码) is never in the file: it comes from the environment variable that
`password_env` names, or from `password_file`, a file only its owner may read. It is read
when a server asks for it, held in a `Secret` that prints as asterisks, and never written to
any output, log or exception. Every mistake in the file is told as which file, which key and
what is expected, in Chinese.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path

from pipeline.errors import MailConfigError
from pipeline.rules import townships as district

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

DEFAULT_PATH = Path("jiuzhu.toml")
SECURITY = ("ssl", "starttls", "plain")
PROCESSED = ("none", "keyword", "move")
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
PROCESSED_KEYWORD = "JiuzhuDone"
PROCESSED_FOLDER = "已处理"

# key → (type, default, what is expected, in words); None: required.
MAIL_KEYS = {
    "imap_host": (str, None, "IMAP 服务器地址，如 \"imap.exmail.qq.com\""),
    "imap_port": (int, 0, "端口号，如 993"),
    "imap_security": (str, "ssl", "ssl、starttls 或 plain 之一"),
    "smtp_host": (str, None, "SMTP 服务器地址，如 \"smtp.exmail.qq.com\""),
    "smtp_port": (int, 0, "端口号，如 465"),
    "smtp_security": (str, "ssl", "ssl、starttls 或 plain 之一"),
    "user": (str, None, "登录邮箱的账号，如 \"mzj@example.gov.cn\""),
    "from": (str, "", "发件人，如 \"黔江区民政局社会救助科 <mzj@example.gov.cn>\""),
    "password_env": (str, "", "存放授权码的环境变量名，如 \"JIUZHU_MAIL_PASSWORD\""),
    "password_file": (str, "", "存放授权码的文件路径（只有本人可读）"),
    "ca_file": (str, "", "CA 证书文件路径，或留空"),
    "mailbox": (str, "INBOX", "收件箱名称，如 \"INBOX\""),
    "processed": (str, "none", "none、keyword 或 move 之一"),
    "since_days": (int, 7, "天数（1 至 366），如 7"),
    "max_message_mb": (int, 30, "兆字节数（1 至 500），如 30"),
    "poll_seconds": (int, 60, "秒数（5 至 3600），如 60"),
    "send_retries": (int, 3, "次数（0 至 10），如 3"),
    "retry_seconds": (float, 30.0, "秒数，如 30"),
    "send_interval_seconds": (float, 1.0, "秒数，如 1"),
}
RANGES = {"since_days": (1, 366), "max_message_mb": (1, 500), "poll_seconds": (5, 3600), "send_retries": (0, 10),
          "retry_seconds": (0, 3600), "send_interval_seconds": (0, 600), "imap_port": (0, 65535),
          "smtp_port": (0, 65535)}
DEFAULT_PORTS = {("imap", "ssl"): 993, ("imap", "starttls"): 143, ("imap", "plain"): 143,
                 ("smtp", "ssl"): 465, ("smtp", "starttls"): 587, ("smtp", "plain"): 25}


class Secret:
    """A password that never shows itself: str() and repr() give asterisks."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__


@dataclass(frozen=True)
class Township:
    name: str
    to: tuple[str, ...]
    contact: str = ""
    phone: str = ""


@dataclass(frozen=True)
class Chase:
    """催报: a short mail to the townships that sent nothing by this weekday (1 = Monday) and hour."""

    weekday: int
    hour: int


@dataclass(frozen=True)
class MailConfig:
    path: Path
    imap_host: str
    imap_port: int
    imap_security: str
    smtp_host: str
    smtp_port: int
    smtp_security: str
    user: str
    sender: str
    password_env: str
    password_file: Path | None
    ca_file: Path | None
    mailbox: str
    processed: str
    since_days: int
    max_message_mb: int
    poll_seconds: int
    send_retries: int
    retry_seconds: float
    send_interval_seconds: float
    townships: dict[str, Township] = field(default_factory=dict)
    chase: Chase | None = None

    @property
    def address(self) -> str:
        """The bureau's own address (of `from`, else the account)."""
        return parseaddr(self.sender)[1] or self.user

    def township_of(self, address: str) -> str | None:
        """The township whose configured addresses include this one."""
        address = (address or "").strip().lower()
        for township in self.townships.values():
            if address in (a.lower() for a in township.to):
                return township.name
        return None

    def password(self) -> Secret:
        """The 授权码, read now from the environment or the private file."""
        if self.password_env:
            value = os.environ.get(self.password_env)
            if not value:
                raise MailConfigError(f"{self.path}：[mail] password_env 指定的环境变量 {self.password_env} 没有设置"
                                      f"或为空。请先设置它（如 export {self.password_env}=授权码），再运行。")
            return Secret(value)
        path = self.password_file
        try:
            mode = path.stat().st_mode
            if os.name == "posix" and mode & 0o077:
                raise MailConfigError(f"{self.path}：[mail] password_file 指定的文件 {path} 其他用户也能读取"
                                      f"（权限 {oct(mode & 0o777)[2:]}），授权码可能泄露。请运行 chmod 600 {path} 后再运行。")
            value = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise MailConfigError(f"{self.path}：[mail] password_file 指定的文件 {path} 无法读取"
                                  f"（{exc.strerror}）。应为一个只存放授权码的文本文件。") from None
        if not value:
            raise MailConfigError(f"{self.path}：[mail] password_file 指定的文件 {path} 是空的，应写入授权码。")
        return Secret(value)


def _bad(path: Path, where: str, key: str, expected: str, got: str = "") -> MailConfigError:
    said = f"（现在是 {got}）" if got else ""
    return MailConfigError(f"{path}：{where} 中的 {key} 不对{said}，应为{expected}。")


def _value(path: Path, where: str, table: dict, key: str, kind, default, expected: str):
    if key not in table:
        if default is None:
            raise MailConfigError(f"{path}：{where} 中缺少 {key}，应为{expected}。")
        return default
    value = table[key]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise _bad(path, where, key, expected, repr(value))
    if kind is str and default is None and not value.strip():
        raise _bad(path, where, key, expected, "空")
    low, high = RANGES.get(key, (None, None))
    if low is not None and not low <= value <= high:
        raise _bad(path, where, key, expected, str(value))
    return value


def load(path: Path = DEFAULT_PATH) -> MailConfig:
    """Read and check jiuzhu.toml. Example: load(Path("jiuzhu.toml")).township_of("cxjd@example.gov.cn")"""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MailConfigError(f"找不到邮件配置文件 {path}。请先运行 jiuzhu mail init 生成一份，填好后再运行；"
                              "或用 --config 指定配置文件。") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MailConfigError(f"邮件配置文件 {path} 无法读取（{exc}），应为 UTF-8 编码的文本文件。") from None
    except tomllib.TOMLDecodeError as exc:
        where = re.search(r"line (\d+), column (\d+)", str(exc))
        at = f"第 {where[1]} 行第 {where[2]} 列附近" if where else ""
        raise MailConfigError(f"邮件配置文件 {path} {at}格式有误，不是有效的 TOML。请对照 jiuzhu mail init "
                              "生成的样例检查引号、等号和方括号。") from None
    unknown = sorted(set(data) - {"mail", "townships", "chase"})
    if unknown:
        raise MailConfigError(f"{path}：不认识的配置节 [{unknown[0]}]，可用的有 [mail]、[chase]、[townships.\"乡镇名称\"]。")
    mail = data.get("mail")
    if not isinstance(mail, dict):
        raise MailConfigError(f"{path}：缺少 [mail] 配置节，应写明 IMAP、SMTP 服务器和账号（见 jiuzhu mail init）。")
    if "password" in mail:
        raise MailConfigError(f"{path}：[mail] 中不能写 password：授权码不能放在配置文件里。请改用 password_env"
                              "（环境变量名）或 password_file（只有本人可读的文件）。")
    extra = sorted(set(mail) - set(MAIL_KEYS))
    if extra:
        raise MailConfigError(f"{path}：[mail] 中的 {extra[0]} 不认识，可用的键有：{'、'.join(MAIL_KEYS)}。")
    v = {key: _value(path, "[mail]", mail, key, *spec) for key, spec in MAIL_KEYS.items()}
    for key, choices in (("imap_security", SECURITY), ("smtp_security", SECURITY), ("processed", PROCESSED)):
        if v[key] not in choices:
            raise _bad(path, "[mail]", key, MAIL_KEYS[key][2], repr(v[key]))
    for side in ("imap", "smtp"):
        if v[f"{side}_security"] == "plain" and v[f"{side}_host"] not in LOCAL_HOSTS:
            raise _bad(path, "[mail]", f"{side}_security", "ssl 或 starttls：plain（不加密）只能用于本机 127.0.0.1",
                       '"plain"')
        v[f"{side}_port"] = v[f"{side}_port"] or DEFAULT_PORTS[(side, v[f"{side}_security"])]
    if bool(v["password_env"]) == bool(v["password_file"]):
        raise MailConfigError(f"{path}：[mail] 中应写 password_env（存放授权码的环境变量名）或 password_file"
                              "（只有本人可读的授权码文件）二者之一。")
    sender = v["from"] or v["user"]
    if "@" not in parseaddr(sender)[1]:
        raise _bad(path, "[mail]", "from", MAIL_KEYS["from"][2], repr(sender))
    here = path.parent
    return MailConfig(
        path=path, imap_host=v["imap_host"], imap_port=v["imap_port"], imap_security=v["imap_security"],
        smtp_host=v["smtp_host"], smtp_port=v["smtp_port"], smtp_security=v["smtp_security"], user=v["user"],
        sender=sender, password_env=v["password_env"],
        password_file=(here / v["password_file"]) if v["password_file"] else None,
        ca_file=(here / v["ca_file"]) if v["ca_file"] else None, mailbox=v["mailbox"], processed=v["processed"],
        since_days=v["since_days"], max_message_mb=v["max_message_mb"], poll_seconds=v["poll_seconds"],
        send_retries=v["send_retries"], retry_seconds=v["retry_seconds"],
        send_interval_seconds=v["send_interval_seconds"], townships=_townships(path, data.get("townships", {})),
        chase=_chase(path, data.get("chase")))


def _townships(path: Path, table) -> dict[str, Township]:
    if not isinstance(table, dict):
        raise MailConfigError(f"{path}：[townships] 应为一组 [townships.\"乡镇名称\"] 配置节。")
    out = {}
    for name, entry in table.items():
        where = f"[townships.\"{name}\"]"
        canonical = district.canonical(name)
        if canonical is None:
            raise MailConfigError(f"{path}：{where} 的「{name}」不是本区的乡镇（街道），应为 schemas/townships.yaml "
                                  "中的名称，如 城西街道。")
        if not isinstance(entry, dict):
            raise MailConfigError(f"{path}：{where} 应为配置节，写明 to、contact、phone。")
        extra = sorted(set(entry) - {"to", "contact", "phone"})
        if extra:
            raise MailConfigError(f"{path}：{where} 中的 {extra[0]} 不认识，可用的键有：to、contact、phone。")
        to = entry.get("to", [])
        to = [to] if isinstance(to, str) else to
        if not isinstance(to, list) or not all(isinstance(a, str) and "@" in parseaddr(a)[1] for a in to):
            raise _bad(path, where, "to", "邮箱地址或地址列表，如 [\"cxjd@example.gov.cn\"]", repr(entry.get("to")))
        for key in ("contact", "phone"):
            if not isinstance(entry.get(key, ""), str):
                raise _bad(path, where, key, "用引号括起的文字", repr(entry[key]))
        out[canonical] = Township(canonical, tuple(parseaddr(a)[1] for a in to), entry.get("contact", ""),
                                  entry.get("phone", ""))
    return out


def _chase(path: Path, table) -> Chase | None:
    if table is None:
        return None
    if not isinstance(table, dict) or set(table) - {"weekday", "hour"}:
        raise MailConfigError(f"{path}：[chase] 只能写 weekday（星期几，1 为星期一）和 hour（几点，0 至 23）。")
    weekday = _value(path, "[chase]", table, "weekday", int, None, "星期几，1（星期一）至 7（星期日）")
    hour = _value(path, "[chase]", table, "hour", int, None, "几点，0 至 23")
    if not 1 <= weekday <= 7:
        raise _bad(path, "[chase]", "weekday", "1（星期一）至 7（星期日）", str(weekday))
    if not 0 <= hour <= 23:
        raise _bad(path, "[chase]", "hour", "0 至 23", str(hour))
    return Chase(weekday, hour)
