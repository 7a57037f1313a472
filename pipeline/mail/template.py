"""`jiuzhu mail init`: a commented jiuzhu.toml for the bureau to fill in, every township listed."""

from __future__ import annotations

from pathlib import Path

from pipeline.errors import JiuzhuError
from pipeline.rules import townships

HEAD = '''# jiuzhu 的邮件配置（docs/design.md §8）。填好后运行 jiuzhu mail fetch 试一试。
# 授权码（客户端专用密码）不要写在这里：写在环境变量里（password_env），
# 或写在一个只有你能读的文件里（password_file，Linux 上 chmod 600）。

[mail]
imap_host = "imap.exmail.qq.com"   # 收信（IMAP）服务器；QQ 邮箱为 imap.qq.com
imap_port = 993
imap_security = "ssl"              # ssl | starttls | plain（plain 不加密，只能用于本机 127.0.0.1）
smtp_host = "smtp.exmail.qq.com"   # 发信（SMTP）服务器；QQ 邮箱为 smtp.qq.com
smtp_port = 465
smtp_security = "ssl"
user = "mzj@example.gov.cn"        # 登录账号
from = "黔江区民政局社会救助科 <mzj@example.gov.cn>"   # 发件人
password_env = "JIUZHU_MAIL_PASSWORD"   # 或 password_file = "授权码.txt"（只有本人可读）
ca_file = ""                       # 可选：要信任的 CA 证书文件（测试服务器用）
mailbox = "INBOX"                  # 读取哪个邮箱文件夹
processed = "none"                 # 取过的邮件：none 不动 | keyword 加一个看不见的标记 | move 移到「已处理」
since_days = 7                     # 只读取最近几天收到的邮件（首次使用时不会把旧邮件都下载一遍）
max_message_mb = 30                # 超过这个大小的邮件不下载，在结果中列出，并回执告知对方
poll_seconds = 60                  # jiuzhu mail watch 多久检查一次（服务器支持 IDLE 时新邮件一到就处理）
send_retries = 3                   # 发送被拒（如频率限制）时重试几次
retry_seconds = 30                 # 第一次重试前等几秒，之后每次加倍
send_interval_seconds = 1          # 两封邮件之间等几秒（避免被判为群发）

# 催报：到每周这个时间还没有报送的乡镇（街道），自动发一封简短的提醒邮件（每周一次）。
# 不需要时删除这一节。
[chase]
weekday = 5                        # 星期几：1 为星期一 … 7 为星期日
hour = 15                          # 几点（0 至 23）

# 各乡镇（街道）的收件地址（可以写多个）、联系人和电话。没有填地址的乡镇不发邮件。
'''


def write_config(path: Path) -> Path:
    """Write the commented jiuzhu.toml; never over an existing file.

    Example: write_config(Path("jiuzhu.toml"))
    """
    path = Path(path)
    if path.exists():
        raise JiuzhuError(f"{path} 已经存在，没有覆盖。要重新生成，请先把它改名或换一个文件名（--config）。")
    lines = [HEAD]
    for township in townships.names():
        lines.append(f'[townships."{township}"]\nto = []                            # 如 ["xxx@example.gov.cn"]\n'
                     f'contact = ""\nphone = ""\n')
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
