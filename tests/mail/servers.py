"""Real mail servers on 127.0.0.1 for the mail tests and benchmarks (../shared/mail-testing.md): Dovecot as
the bureau's IMAP server (dovecot-lda delivers into it), aiosmtpd as its SMTP server with
implicit TLS and STARTTLS, AUTH, 550 for unknown recipients, and every mail it takes both
written to a spool and delivered into Dovecot, so that what jiuzhu sends is read back over
IMAP. Nothing is mocked.
"""

from __future__ import annotations

import imaplib
import logging
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.rules import townships

DOVECOT, LDA, DOVEADM = "/usr/sbin/dovecot", "/usr/lib/dovecot/dovecot-lda", "/usr/bin/doveadm"
BUREAU = "mzj@qianjiang.test"
PASSWORD = "Jz-authcode-7c1e9a4f"   # the bureau's 授权码: must never show anywhere
READER = "secret"                     # the townships' own mailboxes, for reading back
TOWNSHIP_ADDRESSES = {t: f"town{n:02d}@qianjiang.test" for n, t in enumerate(townships.names(), start=1)}
OTHERS = ["stranger@qianjiang.test", "cxjd2@qianjiang.test"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_listening(port: int, limit: float = 10.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {limit} s")


@dataclass
class Servers:
    root: Path
    imap_port: int
    imaps_port: int
    smtps_port: int
    smtp_port: int
    cafile: Path
    spool: Path
    handler: object = None
    users: list[str] = field(default_factory=list)

    def deliver(self, raw: bytes, to: str = BUREAU, sender: str = "sender@qianjiang.test") -> None:
        """Put a mail into a mailbox as the server's delivery agent does."""
        subprocess.run([LDA, "-c", str(self.root / "dovecot.conf"), "-d", to, "-f", sender], input=raw,
                       check=True, timeout=30)

    def login(self, user: str = BUREAU) -> imaplib.IMAP4_SSL:
        ctx = ssl.create_default_context(cafile=str(self.cafile))
        imap = imaplib.IMAP4_SSL("127.0.0.1", self.imaps_port, ssl_context=ctx, timeout=30)
        imap.login(user, PASSWORD if user == BUREAU else READER)
        return imap

    def messages(self, user: str, folder: str = "INBOX") -> list[bytes]:
        """Every message in a mailbox, as raw bytes, oldest first (PEEK: nothing marked \\Seen)."""
        imap = self.login(user)
        try:
            imap.select(folder, readonly=True)
            uids = imap.uid("SEARCH", None, "ALL")[1][0].split()
            return [imap.uid("FETCH", u, "(BODY.PEEK[])")[1][0][1] for u in uids]
        finally:
            imap.logout()

    def clear(self) -> None:
        """Empty every mailbox (a new week for the next test) and the spool."""
        for user in self.users:
            subprocess.run([DOVEADM, "-c", str(self.root / "dovecot.conf"), "expunge", "-u", user, "mailbox", "*",
                            "all"], check=False, timeout=30, capture_output=True)
        for path in self.spool.glob("*.eml"):
            path.unlink()
        if self.handler:
            self.handler.refuse_next = 0


def _config(root: Path, imap_port: int, imaps_port: int, users: list[str]) -> None:
    if os.geteuid() == 0:
        mail_user, mail_group = "nobody", subprocess.run(["id", "-gn", "nobody"], capture_output=True, text=True,
                                                         check=True).stdout.strip()
        internal, login = "dovecot", "dovenull"
        os.chmod(root, 0o755)  # the dovecot auth user must reach the users file
    else:
        mail_user = subprocess.run(["id", "-un"], capture_output=True, text=True, check=True).stdout.strip()
        mail_group = subprocess.run(["id", "-gn"], capture_output=True, text=True, check=True).stdout.strip()
        internal = login = mail_user
    internal_group = "dovecot" if os.geteuid() == 0 else mail_group
    for sub in ("run", "state", "mail"):
        (root / sub).mkdir()
    shutil.chown(root / "mail", mail_user, mail_group)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(root / "key.pem"),
                    "-out", str(root / "cert.pem")], check=True, capture_output=True, timeout=60)
    (root / "users").write_text("".join(f"{u}:{{PLAIN}}{PASSWORD if u == BUREAU else READER}\n" for u in users))
    (root / "dovecot.conf").write_text(f"""protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
instance_name = jiuzhu-test-{root.name}
default_internal_user = {internal}
default_internal_group = {internal_group}
default_login_user = {login}
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
ssl_min_protocol = TLSv1.2
auth_mechanisms = plain login
disable_plaintext_auth = no
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={mail_user} gid={mail_group} home={root}/mail/%u
}}
mail_location = maildir:~/Maildir
first_valid_uid = 1
namespace inbox {{
  inbox = yes
  separator = /
  mailbox 已处理 {{
    auto = create
  }}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  unix_listener stats-writer {{
    mode = 0600
  }}
}}
""")


class Handler:
    """aiosmtpd handler: known recipients only (550 5.1.1 otherwise), each mail spooled and
    delivered into Dovecot; `refuse_next` answers the next DATA commands with QQ's rate limit."""

    def __init__(self, servers: Servers):
        self.servers = servers
        self.refuse_next = 0
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() not in self.servers.users:
            return "550 5.1.1 Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.refuse_next:
                self.refuse_next -= 1
                return "550 Mail content denied, frequency limited, try again later"
        raw = envelope.original_content
        name = f"{time.time_ns()}.eml"
        (self.servers.spool / name).write_bytes(raw)
        for rcpt in envelope.rcpt_tos:
            self.servers.deliver(raw, rcpt, envelope.mail_from or BUREAU)
        return "250 Message accepted for delivery"


def _auth(server, session, envelope, mechanism, auth_data):
    from aiosmtpd.smtp import AuthResult

    ok = auth_data.login.decode() == BUREAU and auth_data.password.decode() == PASSWORD
    return AuthResult(success=ok)


@contextmanager
def started():
    """Dovecot and two aiosmtpd listeners on free ports of 127.0.0.1, stopped at the end."""
    logging.getLogger("mail.log").setLevel(logging.ERROR)  # aiosmtpd's notes on each session
    from aiosmtpd.controller import Controller

    root = Path(tempfile.mkdtemp(prefix="jz-mail-"))  # not tmp_path: 0700 parents stop dovecot's auth user
    users = [BUREAU, *TOWNSHIP_ADDRESSES.values(), *OTHERS]
    s = Servers(root, free_port(), free_port(), free_port(), free_port(), root / "cert.pem", root / "smtp-spool",
                users=users)
    s.spool.mkdir()
    _config(root, s.imap_port, s.imaps_port, users)
    subprocess.run([DOVECOT, "-c", str(root / "dovecot.conf")], check=True, timeout=30)
    controllers = []
    try:
        _wait_listening(s.imaps_port)
        _wait_listening(s.imap_port)
        s.handler = Handler(s)
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(root / "cert.pem", root / "key.pem")
        # Implicit TLS (like smtp.qq.com:465): aiosmtpd never sees the TLS layer, so AUTH must not require it.
        controllers.append(Controller(s.handler, hostname="127.0.0.1", port=s.smtps_port, ssl_context=ctx,
                                      authenticator=_auth, auth_required=True, auth_require_tls=False))
        controllers.append(Controller(s.handler, hostname="127.0.0.1", port=s.smtp_port, tls_context=ctx,
                                      require_starttls=True, authenticator=_auth, auth_required=True))
        for c in controllers:
            c.start()
        yield s
    finally:
        for c in controllers:
            c.stop()
        subprocess.run([DOVEADM, "-c", str(root / "dovecot.conf"), "stop"], check=False, timeout=30,
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def write_config(servers: Servers, folder: Path, *, smtp: str = "ssl", imap: str = "ssl", extra: str = "",
                 chase: str = "", addresses: dict[str, str] | None = None) -> Path:
    """A jiuzhu.toml for the test servers; the password in a private file beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    secret = folder / "授权码.txt"
    secret.write_text(PASSWORD + "\n")
    secret.chmod(0o600)
    imap_port = servers.imaps_port if imap == "ssl" else servers.imap_port
    smtp_port = servers.smtps_port if smtp == "ssl" else servers.smtp_port
    towns = "".join(f'[townships."{t}"]\nto = ["{a}"]\ncontact = "联系人{n}"\nphone = "023-7922{n:04d}"\n\n'
                    for n, (t, a) in enumerate((addresses or TOWNSHIP_ADDRESSES).items(), start=1))
    path = folder / "jiuzhu.toml"
    path.write_text(f"""[mail]
imap_host = "127.0.0.1"
imap_port = {imap_port}
imap_security = "{imap}"
smtp_host = "127.0.0.1"
smtp_port = {smtp_port}
smtp_security = "{smtp}"
user = "{BUREAU}"
from = "黔江区民政局社会救助科 <{BUREAU}>"
password_file = "授权码.txt"
ca_file = "{servers.cafile}"
mailbox = "INBOX"
retry_seconds = 0.2
send_interval_seconds = 0
{extra}
{chase}
{towns}""", encoding="utf-8")
    return path

