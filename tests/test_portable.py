"""What Windows lacks, made unavailable here: the command-line tests and a whole demo run with
no `fcntl` and no `os.fork`, and the browser found where Windows keeps it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Imported first by every Python started with this folder on PYTHONPATH.
NO_POSIX = """\
import os, sys
sys.modules["fcntl"] = None  # `import fcntl` raises ImportError, as on Windows
for name in ("fork", "forkpty", "register_at_fork"):
    if hasattr(os, name):
        delattr(os, name)
"""


def _without_posix(tmp_path: Path) -> dict:
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(NO_POSIX, encoding="utf-8")
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}


def test_the_cli_tests_pass_without_fcntl_and_fork(tmp_path: Path):
    env = _without_posix(tmp_path)
    probe = subprocess.run([sys.executable, "-c", "import os, sys; import pipeline.run, pipeline.publish, "
                            "pipeline.cli; print(hasattr(os, 'fork'), sys.modules['fcntl'])"],
                           env=env, capture_output=True, text=True, timeout=60)
    assert probe.stdout.split() == ["False", "None"], probe.stderr
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_cli.py"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and "failed" not in done.stdout


def test_a_demo_run_and_a_report_work_without_fcntl_and_fork(tmp_path: Path):
    env = _without_posix(tmp_path)
    demo = tmp_path / "演示"
    done = subprocess.run([sys.executable, "-m", "pipeline", "demo", str(demo), "--as-of", "2026-11-28"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (demo / "outbox" / "2026-11-28" / "汇总报告.html").is_file()
    assert not list(demo.rglob(".jiuzhu-lock")) and not list(demo.glob("*.lock"))  # no lock left behind
    again = subprocess.run([sys.executable, "-m", "pipeline", "report", "--outbox", str(demo / "outbox"),
                            "--store", str(demo / "jiuzhu.sqlite3"), "--as-of", "2026-11-28"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]


def test_the_browser_is_found_where_windows_keeps_it(tmp_path: Path, monkeypatch):
    from pipeline import settings
    from pipeline.reports import pdf

    edge = tmp_path / "Program Files" / "Microsoft" / "Edge" / "Application" / "msedge.exe"
    edge.parent.mkdir(parents=True)
    edge.write_bytes(b"")
    monkeypatch.setattr(settings, "CHROMIUM", None)
    monkeypatch.delenv("JIUZHU_BROWSER", raising=False)
    monkeypatch.setenv("ProgramFiles", str(tmp_path / "Program Files"))
    monkeypatch.setenv("PATH", str(tmp_path))
    assert pdf.browser() == str(edge)
    monkeypatch.setenv("JIUZHU_BROWSER", "/opt/其他/chrome")  # a configured path wins
    assert pdf.browser() == "/opt/其他/chrome"
    monkeypatch.delenv("JIUZHU_BROWSER")
    monkeypatch.setenv("ProgramFiles", str(tmp_path / "nowhere"))
    assert pdf.browser() is None
    warning = pdf.print_pdf(tmp_path / "a.html", tmp_path / "a.pdf")
    assert "没有找到能打印 PDF 的浏览器（Microsoft Edge、Google Chrome 或 Chromium）" in warning
    assert "JIUZHU_BROWSER" in warning
