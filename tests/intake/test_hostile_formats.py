"""Hostile Word files, web pages and archives: each refused with its code and a Chinese
sentence, in its own process (so that its time and memory are its own), within a few
seconds and a few hundred MB, and nothing read outside the file."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.intake import hostile_formats

MAX_SECONDS = 5.0
MAX_RSS_MB = 400
HAN = re.compile(r"[\u4e00-\u9fff]")
CHILD = """
import json, resource, sys, time
from datetime import date
from pathlib import Path
opened = []
sys.addaudithook(lambda event, args: opened.append(str(args[0])) if event == "open" else None)
from pipeline.intake.check import check_file
start = time.perf_counter()
report = check_file(Path(sys.argv[1]), date(2026, 11, 28))
seconds = time.perf_counter() - start
# VmHWM is this process's own peak; ru_maxrss may be the parent's, carried over the fork and exec.
status = Path("/proc/self/status")
peak = [int(line.split()[1]) for line in status.read_text().splitlines() if line.startswith("VmHWM")] \
    if status.exists() else [resource.getrusage(resource.RUSAGE_SELF).ru_maxrss]
print(json.dumps({"codes": [e.code for e in report.errors],
                  "message": report.errors[0].message if report.errors else "",
                  "rows": report.rows, "seconds": seconds, "rss_mb": peak[0] / 1024,
                  "passwd": [name for name in opened if "passwd" in name]}))
"""


def measure(path: Path) -> dict:
    """check_file of one file in a fresh interpreter: its codes, message, time and peak memory."""
    done = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).parents[2])
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("build, code", hostile_formats.CASES, ids=[b.__name__ for b, _ in hostile_formats.CASES])
def test_hostile_file_is_refused_quickly_and_cheaply(build, code, tmp_path: Path):
    seen = measure(build(tmp_path))
    assert seen["codes"] == [code], seen["message"]
    assert HAN.search(seen["message"]) and seen["rows"] == 0 and seen["passwd"] == []
    assert seen["seconds"] < MAX_SECONDS, seen
    assert seen["rss_mb"] < MAX_RSS_MB, seen
