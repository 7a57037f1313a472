"""The formats only LibreOffice reads well: Word 97-2003 (.doc), RTF (which Word saves under a
.doc name) and Kingsoft Writer (.wps) become a .docx, Kingsoft's spreadsheet (.et) an .xlsx,
read then like any other.

Each conversion runs `soffice --headless` in a temporary folder of its own: its own profile
(-env:UserInstallation, so a LibreOffice already open elsewhere cannot take the job, and
macros are switched off in it), the input copied in under a plain name, the output read
back into memory and the folder removed. A conversion that outlives convert_seconds is
killed with its whole process group. Without LibreOffice the file is refused with
unsupported_type and a sentence naming what to install.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path, PurePosixPath

from pipeline.errors import InputFileError
from pipeline.intake.blob import Blob, Source
from pipeline.intake.refusals import AGAIN, NO_OFFICE, SUFFIX_MESSAGES
from pipeline.rules import spec

# kind → (LibreOffice's filter for the output, its suffix, what a person would save it as)
TARGETS = {"doc": ("docx:MS Word 2007 XML", ".docx", ".docx 或 .xlsx"),
           "wps": ("docx:MS Word 2007 XML", ".docx", ".docx 或 .xlsx"),
           "rtf": ("docx:MS Word 2007 XML", ".docx", ".docx 或 .xlsx"),
           "et": ("xlsx:Calc MS Excel 2007 XML", ".xlsx", ".xlsx")}
WHAT = {"doc": "Word 97-2003 文档（.doc）", "wps": "WPS 文字文档（.wps）", "rtf": "RTF 格式的 Word 文档",
        "et": "WPS 表格文件（.et）"}
# Macros never run: the profile's security level is "very high" and macro execution disabled.
NO_MACROS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="MacroSecurityLevel" oor:op="fuse"><value>3</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="DisableMacrosExecution" oor:op="fuse"><value>true</value></prop></item>
</oor:items>
"""


def soffice() -> str | None:
    """LibreOffice's command, when it is installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def converted(path: Source, kind: str) -> Blob:
    """The .docx or .xlsx LibreOffice makes of a .doc, .wps or .et, named as the original is.

    Raises InputFileError: unsupported_type without LibreOffice, unreadable when it cannot
    convert the file or takes longer than convert_seconds.
    """
    command = soffice()
    target, suffix, resave = TARGETS[kind]
    if command is None:
        advice = SUFFIX_MESSAGES[".et"] if kind == "et" else f"这是{WHAT[kind]}。"
        raise InputFileError("unsupported_type", advice + NO_OFFICE.format(target=resave))
    with tempfile.TemporaryDirectory(prefix="jiuzhu-convert-") as work:
        folder = Path(work)
        profile = folder / "profile"
        (profile / "user").mkdir(parents=True)
        (profile / "user" / "registrymodifications.xcu").write_text(NO_MACROS, encoding="utf-8")
        source = folder / f"input.{kind}"
        source.write_bytes(path.read_bytes())
        out = folder / "out"
        _run([command, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore", "--nolockcheck",
              "--nodefault", "--nologo", "--convert-to", target, "--outdir", str(out), str(source)], kind)
        result = out / f"input{suffix}"
        if not result.is_file():
            raise InputFileError("unreadable", f"LibreOffice 无法转换这个{WHAT[kind]}，文件可能已损坏。{AGAIN}")
        data = result.read_bytes()
    name = path.path if isinstance(path, Blob) else PurePosixPath(path.name)
    return Blob(name.with_suffix(suffix), data)


def _run(args: list[str], kind: str) -> None:
    """Run one conversion in its own process group; on a timeout the whole group is killed."""
    seconds = spec.thresholds()["convert_seconds"]
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        _kill(proc)
        raise InputFileError("unreadable", (
            f"LibreOffice 转换这个{WHAT[kind]}超过 {seconds} 秒仍未完成，已停止。文件可能已损坏或过大；"
            "请用 Word 或 WPS 打开后另存为 .docx（或用 Excel 另存为 .xlsx）再发送。")) from None
    finally:
        if proc.poll() is None:
            _kill(proc)


def _kill(proc: subprocess.Popen) -> None:
    """The conversion and every process it started (on POSIX, its process group)."""
    if hasattr(os, "killpg"):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    else:
        proc.kill()
    proc.wait()
