"""Printing a page to an A4 PDF with headless Chromium: a warning for the operator instead of
an exception, since the HTML page is the output and the PDF only a convenience."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from pipeline import settings

PDF_TIMEOUT = 60  # seconds Chromium may take to print


# Where Chromium-family browsers live (all print headless the same way): Windows first, as most
# bureau PCs are; a configured path (settings.CHROMIUM, JIUZHU_BROWSER) wins over all of them.
WINDOWS_BROWSERS = (("Microsoft", "Edge", "Application", "msedge.exe"),
                    ("Google", "Chrome", "Application", "chrome.exe"), ("Chromium", "Application", "chrome.exe"))
MAC_BROWSERS = ("/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge",
                "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
                "/Applications/Chromium.app/Contents/MacOS/Chromium")
COMMANDS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "microsoft-edge", "msedge",
            "chrome")


def browser() -> str | None:
    """The browser that prints: the configured one, else the first Edge, Chrome or Chromium found."""
    configured = os.environ.get("JIUZHU_BROWSER") or settings.CHROMIUM
    if configured:
        return configured
    roots = [os.environ.get(v) for v in ("ProgramFiles", "ProgramFiles(x86)", "LOCALAPPDATA")]
    for candidate in [*(Path(r, *parts) for r in roots if r for parts in WINDOWS_BROWSERS), *map(Path, MAC_BROWSERS)]:
        if candidate.is_file():
            return str(candidate)
    return next((found for name in COMMANDS if (found := shutil.which(name))), None)


def chromium_command(chromium: str, profile: str) -> list[str]:
    """Headless Chromium that makes no request of its own and resolves no host."""
    return [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-extensions", "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",
            f"--user-data-dir={profile}"]


def print_pdf(html: Path, pdf: Path) -> str | None:
    """Print the page to A4 PDF with headless Chromium; a Chinese warning instead of an exception.

    Example: print_pdf(Path("outbox/2026-11-28/汇总报告.html"), Path("outbox/2026-11-28/汇总报告.pdf"))
    """
    chromium = browser()
    if chromium is None:
        return (f"没有找到能打印 PDF 的浏览器（Microsoft Edge、Google Chrome 或 Chromium），未生成 PDF。"
                f"可用浏览器打开 {Path(html).name} 后打印；浏览器装在别处的，请用环境变量 JIUZHU_BROWSER 指定它的路径。")
    if not (Path(chromium).is_file() or shutil.which(chromium)):
        return f"没有找到 Chromium 浏览器（{chromium}），未生成 PDF。可用浏览器打开 {Path(html).name} 后打印。"
    pdf = Path(pdf)
    tmp = pdf.with_name(f".{pdf.name}.tmp")
    with tempfile.TemporaryDirectory(prefix="jiuzhu-chromium-") as profile:
        command = chromium_command(chromium, profile) + [
            "--no-pdf-header-footer", f"--print-to-pdf={tmp}", Path(html).resolve().as_uri()]
        try:
            # Its own process group, so that on a timeout the browser's helper processes go too.
            proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, start_new_session=True)
        except OSError as exc:
            return f"Chromium 无法启动（{exc}），未生成 PDF。可用浏览器打开 {Path(html).name} 后打印。"
        try:
            proc.wait(timeout=PDF_TIMEOUT)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            tmp.unlink(missing_ok=True)
            return f"Chromium 打印 PDF 超过 {PDF_TIMEOUT} 秒仍未完成，未生成 PDF。可用浏览器打开 {Path(html).name} 后打印。"
    if not tmp.is_file() or tmp.stat().st_size == 0 or not tmp.read_bytes()[:5] == b"%PDF-":
        tmp.unlink(missing_ok=True)
        return f"Chromium 没有生成 PDF，可用浏览器打开 {Path(html).name} 后打印。"
    os.replace(tmp, pdf)
    return None
