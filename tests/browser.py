"""Drive headless Chromium from the tests: dump the DOM, screenshot, print to PDF, and watch a
page load over the DevTools protocol (every request it makes, every console message).

Chromium runs with a fresh profile and the network blocked twice over: every host name
resolves to nothing (--host-resolver-rules) and every proxied request goes to a closed
port (--proxy-server). Blocked requests still show up in the DevTools log, so a test can
assert that a page asked for nothing but itself.

The DevTools client is a minimal RFC 6455 WebSocket over the standard library (text
frames, fragmentation, ping/pong, close): neither `websockets` nor `websocket-client` is a
dependency of jiuzhu, and this is all the protocol the tests need.

Example:
    with Chromium() as browser:
        page = browser.load(Path("汇总报告.html"))
        assert page.requests == [page.url] and not page.console_errors
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import pytest

CHROMIUM = "/usr/bin/chromium"
TIMEOUT = 60
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--disable-default-apps", "--hide-scrollbars", "--mute-audio",
         "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>"]


def require(tool: str) -> str:
    """The tool's path; skip the test when it is missing, unless JIUZHU_REQUIRE_TOOLS=1 (then fail)."""
    path = tool if Path(tool).is_file() else shutil.which(tool)
    if path:
        return path
    if os.environ.get("JIUZHU_REQUIRE_TOOLS") == "1":
        pytest.fail(f"{tool} is required (JIUZHU_REQUIRE_TOOLS=1) but not installed")
    pytest.skip(f"{tool} is not installed")


def _run(args: list[str], timeout: int = TIMEOUT) -> bytes:
    """Run chromium once with a fresh profile; its stdout. On a timeout its whole process group is killed."""
    chromium = require(CHROMIUM)
    with tempfile.TemporaryDirectory(prefix="jiuzhu-test-chromium-") as profile:
        proc = subprocess.Popen([chromium, *FLAGS, f"--user-data-dir={profile}", *args], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise
        return out


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.communicate()


def dump_dom(page: Path) -> str:
    """The DOM after loading the page (scripts, if any, have run), serialised as HTML."""
    return _run(["--dump-dom", Path(page).resolve().as_uri()]).decode("utf-8")


def screenshot(page: Path, png: Path, width: int = 1280, height: int = 2000) -> Path:
    """The top `height` pixels of the page in a window `width` wide."""
    _run([f"--screenshot={png}", f"--window-size={width},{height}", Path(page).resolve().as_uri()])
    assert Path(png).is_file(), f"chromium wrote no screenshot {png}"
    return Path(png)


def print_pdf(page: Path, pdf: Path) -> Path:
    """The page printed as the operator would print it (the page's own @page rules, no browser header)."""
    _run(["--no-pdf-header-footer", f"--print-to-pdf={pdf}", Path(page).resolve().as_uri()])
    assert Path(pdf).is_file(), f"chromium wrote no PDF {pdf}"
    return Path(pdf)


def pdf_pages(pdf: Path) -> int:
    """Number of pages, from poppler's pdfinfo."""
    info = subprocess.run([require("pdfinfo"), str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(next(line.split(":")[1] for line in info.splitlines() if line.startswith("Pages:")))


# --- a minimal WebSocket client (RFC 6455), enough for the DevTools protocol ------------------


class WebSocket:
    """Text messages over one WebSocket connection; client frames are masked as the RFC requires."""

    GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    def __init__(self, url: str, timeout: float = TIMEOUT):
        parts = urlparse(url)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        # No Origin header: Chromium only checks the origin of connections that send one.
        request = (f"GET {parts.path} HTTP/1.1\r\nHost: {parts.hostname}:{parts.port}\r\nUpgrade: websocket\r\n"
                   f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
        self.sock.sendall(request.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("DevTools closed the connection during the handshake")
            head += chunk
        head, self.buffer = head.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        if " 101 " not in lines[0] + " ":
            raise ConnectionError(f"WebSocket handshake refused: {lines[0]}")
        accept = base64.b64encode(hashlib.sha1((key + self.GUID).encode()).digest()).decode()
        headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:] if ":" in line)}
        if headers.get("sec-websocket-accept") != accept:
            raise ConnectionError("WebSocket handshake: wrong Sec-WebSocket-Accept")

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        header = bytes([0x80 | opcode])
        n = len(payload)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 1 << 16:
            header += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def send(self, text: str) -> None:
        self._send_frame(0x1, text.encode("utf-8"))

    def _read(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(max(65536, n - len(self.buffer)))
            if not chunk:
                raise ConnectionError("DevTools closed the connection")
            self.buffer += chunk
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def recv(self) -> str:
        """The next whole text message (continuation frames joined, pings answered)."""
        message = b""
        while True:
            b0, b1 = self._read(2)
            opcode, n = b0 & 0x0F, b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._read(8))[0]
            mask = self._read(4) if b1 & 0x80 else None
            payload = self._read(n)
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            if opcode == 0x9:
                self._send_frame(0xA, payload)
                continue
            if opcode == 0x8:
                raise ConnectionError("DevTools closed the WebSocket")
            if opcode in (0x0, 0x1, 0x2):
                message += payload
                if b0 & 0x80:
                    return message.decode("utf-8")

    def close(self) -> None:
        try:
            self._send_frame(0x8, struct.pack("!H", 1000))
        except OSError:
            pass
        self.sock.close()


# --- the DevTools session ------------------------------------------------------------------


@dataclass
class PageLoad:
    """What happened while a page loaded."""

    url: str
    requests: list[str] = field(default_factory=list)        # every URL the page asked for, in order
    failed: list[str] = field(default_factory=list)          # requests that failed (blocked, missing)
    console: list[tuple[str, str]] = field(default_factory=list)  # (level, text) of console and log entries
    exceptions: list[str] = field(default_factory=list)
    title: str = ""
    html: str = ""
    layout: dict = field(default_factory=dict)

    @property
    def console_errors(self) -> list[str]:
        return [text for level, text in self.console if level in ("error", "assert")] + self.exceptions


class Chromium:
    """One headless Chromium with a DevTools connection; a context manager that kills it on exit."""

    def __init__(self) -> None:
        self.chromium = require(CHROMIUM)

    def __enter__(self) -> Chromium:
        self.profile = tempfile.mkdtemp(prefix="jiuzhu-test-chromium-")
        self.proc = subprocess.Popen(
            [self.chromium, *FLAGS, f"--user-data-dir={self.profile}", "--remote-debugging-port=0",
             "--remote-debugging-address=127.0.0.1", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        port_file = Path(self.profile) / "DevToolsActivePort"
        deadline = time.monotonic() + TIMEOUT
        while True:
            text = port_file.read_text() if port_file.is_file() else ""
            if text.count("\n") >= 1 and text.split("\n")[1]:
                break
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise RuntimeError("chromium did not open its DevTools port")
            time.sleep(0.05)
        port, path = text.split("\n")[:2]
        self.ws = WebSocket(f"ws://127.0.0.1:{port.strip()}{path.strip()}")
        self.next_id = 0
        self.events: list[dict] = []
        return self

    def __exit__(self, *exc) -> None:
        ws = getattr(self, "ws", None)
        if ws:
            ws.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            _kill_group(self.proc)
        shutil.rmtree(self.profile, ignore_errors=True)

    def call(self, method: str, session: str | None = None, **params) -> dict:
        """Send one command and wait for its answer; events that arrive meanwhile are kept."""
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        self.ws.send(json.dumps(message))
        while True:
            answer = json.loads(self.ws.recv())
            if answer.get("id") == self.next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            self.events.append(answer)

    def wait_for(self, method: str, session: str, timeout: float = TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == method and e.get("sessionId") == session for e in self.events):
            if time.monotonic() > deadline:
                raise TimeoutError(method)
            self.events.append(json.loads(self.ws.recv()))

    def evaluate(self, session: str, expression: str):
        result = self.call("Runtime.evaluate", session, expression=expression, returnByValue=True)
        return result["result"].get("value")

    def load(self, page: Path | str, *, width: int = 1280, height: int = 900, settle: float = 0.5) -> PageLoad:
        """Open the page in a new tab of the given size and record everything until it has loaded."""
        url = page if isinstance(page, str) else Path(page).resolve().as_uri()
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        try:
            for domain in ("Page", "Network", "Runtime", "Log"):
                self.call(f"{domain}.enable", session)
            self.call("Emulation.setDeviceMetricsOverride", session, width=width, height=height,
                      deviceScaleFactor=1, mobile=width < 500)
            self.events.clear()
            self.call("Page.navigate", session, url=url)
            self.wait_for("Page.loadEventFired", session)
            time.sleep(settle)  # late console messages and requests
            self.call("Runtime.evaluate", session, expression="0")  # drains the events that arrived
            load = PageLoad(url=url)
            for event in self.events:
                if event.get("sessionId") != session:
                    continue
                method, params = event.get("method"), event.get("params", {})
                if method == "Network.requestWillBeSent":
                    load.requests.append(params["request"]["url"])
                elif method == "Network.loadingFailed":
                    load.failed.append(params.get("errorText", ""))
                elif method == "Runtime.consoleAPICalled":
                    text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
                    load.console.append((params.get("type", ""), text))
                elif method == "Log.entryAdded":
                    entry = params["entry"]
                    load.console.append((entry.get("level", ""), entry.get("text", "")))
                elif method == "Runtime.exceptionThrown":
                    details = params["exceptionDetails"]
                    load.exceptions.append(details.get("exception", {}).get("description") or details.get("text", ""))
            load.title = self.evaluate(session, "document.title")
            load.html = self.evaluate(session, "document.documentElement.outerHTML")
            load.layout = self.evaluate(session, """({
                scrollWidth: document.documentElement.scrollWidth,
                innerWidth: window.innerWidth,
                scripts: document.scripts.length,
                figures: Object.fromEntries([...document.querySelectorAll('[data-figure]')]
                                            .map(e => [e.dataset.figure, e.textContent.trim()])),
                // Elements wider than the window that no scrolling box contains: the page itself would scroll.
                overflowing: [...document.querySelectorAll('body *')].filter(e => {
                    if (e.getBoundingClientRect().right <= window.innerWidth + 1) return false;
                    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
                        if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(a).overflowX)) return false;
                    }
                    return true;
                }).slice(0, 5).map(e => e.tagName + '.' + e.className)
            })""")
            return load
        finally:
            self.call("Target.closeTarget", targetId=target)

    def capture(self, page: Path, png: Path, *, width: int = 1280, full: bool = True) -> Path:
        """A screenshot of the whole page (or the first screen) at the given window width."""
        url = Path(page).resolve().as_uri()
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        try:
            self.call("Page.enable", session)
            self.call("Emulation.setDeviceMetricsOverride", session, width=width, height=900, deviceScaleFactor=1,
                      mobile=width < 500)
            self.events.clear()
            self.call("Page.navigate", session, url=url)
            self.wait_for("Page.loadEventFired", session)
            shot = self.call("Page.captureScreenshot", session, format="png", captureBeyondViewport=full)
            Path(png).write_bytes(base64.b64decode(shot["data"]))
            return Path(png)
        finally:
            self.call("Target.closeTarget", targetId=target)
