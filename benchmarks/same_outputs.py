"""Prove that two revisions of jiuzhu write byte-identical outputs from the same inputs.

    .venv/bin/python benchmarks/same_outputs.py BASE [HEAD] [--keep DIR] [--large]

BASE and HEAD are git revisions; HEAD defaults to the working tree as it is (uncommitted
changes included). A revision is exported with `git archive` into a scratch folder, so the
main checkout's index, branches and worktrees are never touched. Both sides run with this
interpreter (sys.executable) as `python -m pipeline ...` with PYTHONPATH=<tree root>, so
nothing here depends on the package's internal layout (the tree's schemas/ and templates/
sit beside the package, where spec.data_dir finds them). Byte code goes to one scratch
PYTHONPYCACHEPREFIX, never into the trees, and an untimed `demo` per side fills it first, so
that no side's times include compiling; JIUZHU_* variables of the caller are dropped.

Every command of every scenario runs in the same absolute folder (<scratch>/work, with the
data in work/d), which is then moved to <scratch>/<side>/<scenario>: both sides see the
same paths, and so do the store and the reports. Scenarios, all as of 2026-11-28:
  1 demo       `demo d`: three weeks from 30 townships, mistakes, zero report, PDF, roster
  2 workers=1  the same with JIUZHU_WORKERS=1; also compared with scenario 1 of its side
  3 report     a copy of 1, then `report` (rebuilds 汇总报告.html)
  4 check      `check --json` on each file of a fixed inbox (1's last week, taken once from
               BASE) and on all of them at once; `template --township 城西街道`, `--assistants`
  5 rerun      a copy of 1, plus a byte-identical copy of a file archived that day and a
               renamed file of an earlier week (both made once from BASE), then `run` again
  6 large      (--large) 30 townships x 300 rows written once by BASE's synth module
               (pipeline.synth or pipeline.demo.synth), then `run`

Comparison: every file of the two result folders byte for byte, relative paths exactly
(a file on one side only is a difference), except:
  (a) *.sqlite3 is compared as a logical dump: PRAGMA user_version, sqlite_master, and every
      table's rows sorted, without runs.token (random by design); the -wal/-shm/.lock side
      files are ignored (a -wal is read together with its store).
  (b) each command's exit code, stdout and stderr are compared too, after replacing the
      scratch folder by <SCRATCH> and the tree's root by <TREE>, and with each run of
      `run`'s progress lines (「  读取 X …」) sorted: two processes take the files from a shared
      queue and a file is told when read, so their order varies from run to run by design.
  (c) the undo snapshots beside a store ({store}.snapshots/NNNN-<time>-run.*) are paired by
      sequence and command: their copies of the store as logical dumps, their records without
      the clock times and the run token;
A difference shows a short unified diff of text files (json, html, csv, xml, logs); for an
.xlsx/.xlsm it names the zip members that differ, with a diff of their XML.
Exit 0 when everything is identical, 1 otherwise, 2 when a side could not be set up.
Each side's time per scenario is printed (for speed work); timing never fails the check.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import io
import itertools
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
AS_OF = "2026-11-28"
DEMO = ["demo", "d", "--as-of", AS_OF]
RUN = ["run", "--inbox", "d/inbox", "--outbox", "d/outbox", "--store", "d/jiuzhu.sqlite3", "--as-of", AS_OF]
REPORT = ["report", "--outbox", "d/outbox", "--store", "d/jiuzhu.sqlite3", "--as-of", AS_OF]
SCENARIOS = ["1 demo", "2 workers=1", "3 report", "4 check", "5 rerun"]
LARGE_ROWS = 300
IGNORED_COLUMNS = {("runs", "token")}
TEXT_SUFFIXES = {".json", ".html", ".csv", ".txt", ".xml", ".log", ".yaml", ".md"}
DIFF_LINES = 14
# Run with the BASE tree to write the large inbox: the synth module's place may change.
SYNTH_SNIPPET = """
import importlib.util, sys, datetime, pathlib
def found(name):
    try:
        return importlib.util.find_spec(name)
    except ModuleNotFoundError:  # a parent that is a module, not a package
        return None
name = next((n for n in ("pipeline.synth", "pipeline.demo.synth") if found(n)), None)
if name is None:
    sys.exit("neither pipeline.synth nor pipeline.demo.synth exists")
importlib.import_module(name).make_district(pathlib.Path(sys.argv[1]), rows_per_township=int(sys.argv[2]),
                                            seed=0, as_of=datetime.date.fromisoformat(sys.argv[3]), fmt="mixed")
"""


class Side:
    """One revision: its tree, the commands' transcripts and the time spent per scenario."""

    def __init__(self, key: str, label: str, root: Path, scratch: Path):
        self.key, self.label, self.root, self.scratch = key, label, root, scratch
        self.times: dict[str, float] = {}
        drop = lambda k: k.startswith("JIUZHU_") or k == "PYTHONDONTWRITEBYTECODE"  # see warm_up
        self.env = {k: v for k, v in os.environ.items() if not drop(k)}
        self.env.update(PYTHONPATH=str(root), PYTHONPYCACHEPREFIX=str(scratch / "pycache"))

    def python(self, args: list[str], cwd: Path, scenario: str, log: list[str], env: dict | None = None,
               shown: str | None = None) -> int:
        """Run `python args` with this side's tree; time it; append exit code and output to log."""
        start = time.perf_counter()
        done = subprocess.run([sys.executable, *args], cwd=cwd, env={**self.env, **(env or {})},
                              capture_output=True)
        self.times[scenario] = self.times.get(scenario, 0.0) + time.perf_counter() - start
        clean = lambda b: progress_sorted(b.decode("utf-8", "replace").replace(
            str(self.scratch), "<SCRATCH>").replace(str(self.root), "<TREE>"))
        log.append(f"$ {shown or ' '.join(args)}\n[exit {done.returncode}]\n--- stdout\n{clean(done.stdout)}"
                   f"--- stderr\n{clean(done.stderr)}")
        return done.returncode

    def jiuzhu(self, args: list[str], cwd: Path, scenario: str, log: list[str], env: dict | None = None) -> int:
        return self.python(["-m", "pipeline", *args], cwd, scenario, log, env, "jiuzhu " + " ".join(args))


def fail(message: str) -> None:
    """A side cannot be set up: say why, exit 2 (the scratch folder is still removed)."""
    print(message, file=sys.stderr)
    raise SystemExit(2)


def progress_sorted(text: str) -> str:
    """text with each run of consecutive progress lines (「  读取 X …」) in sorted order."""
    runs = itertools.groupby(text.split("\n"), key=lambda line: line.startswith("  读取 "))
    return "\n".join(line for progress, lines in runs for line in (sorted(lines) if progress else lines))


def warm_up(side: Side) -> None:
    """An untimed demo, so that later commands find their byte code compiled (without a cache,
    as with PYTHONDONTWRITEBYTECODE and a fresh tree, every command would compile pandas anew)."""
    work = side.scratch / "warm-up"
    work.mkdir()
    where = subprocess.run([sys.executable, "-c", "import pipeline; print(pipeline.__file__)"], cwd=work,
                           env=side.env, capture_output=True, text=True).stdout.strip()
    if not Path(where).is_relative_to(side.root):   # PYTHONPATH must win over the venv's install
        fail(f"{side.label}: `import pipeline` gives {where or 'nothing'}, not {side.root}")
    side.jiuzhu(DEMO, work, "warm-up", [])
    shutil.rmtree(work)


def export(rev: str, dest: Path) -> str:
    """Write the tree of `rev` into dest with git archive; its short commit id."""
    sha = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"],
                         check=True, capture_output=True, text=True).stdout.strip()
    tar = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", sha], check=True,
                         capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        archive.extractall(dest, filter="data")
    return sha[:10]


# --- the scenarios ---------------------------------------------------------------------------------


def prepare(name: str, side: Side, work: Path, shared: Path) -> list[list[str]]:
    """Put scenario `name`'s inputs into work (the cwd, fresh and empty); its jiuzhu commands."""
    if name in ("1 demo", "2 workers=1"):
        return [DEMO]
    if name in ("3 report", "5 rerun"):
        shutil.copytree(side.scratch / side.key / "1 demo", work, dirs_exist_ok=True)
        if name == "3 report":
            return [REPORT]
        for late in sorted((shared / "late").iterdir()):
            shutil.copy2(late, work / "d" / "inbox" / late.name)
        return [RUN]
    if name == "4 check":
        shutil.copytree(shared / "fixed_inbox", work / "inbox")
        files = sorted(p.relative_to(work).as_posix() for p in (work / "inbox").iterdir())
        return [["check", "--json", "--as-of", AS_OF, *group] for group in [[f] for f in files] + [files]] + [
            ["template", "--township", "城西街道", "-o", "城西街道明细表.xlsx"],
            ["template", "--assistants", "-o", "协理员名册.xlsx"]]
    shutil.copytree(shared / "large_inbox", work / "d" / "inbox")   # 6 large
    return [RUN]


def share_demo_inputs(base: Side, shared: Path, log: list[str]) -> None:
    """From BASE's scenario 1, once: the fixed inbox of scenario 4 and the late files of scenario 5."""
    inbox = base.scratch / base.key / "1 demo" / "d" / "inbox"
    weeks = sorted((inbox / "archive").iterdir()) if (inbox / "archive").is_dir() else []
    if len(weeks) < 2 or weeks[-1].name != AS_OF:
        fail(f"{base.label}'s demo did not archive its weeks in {inbox}:\n" + "\n".join(log)[-3000:])
    shutil.copytree(weeks[-1], shared / "fixed_inbox")
    for rejected in sorted((inbox / "rejected").glob("*")):
        shutil.copy2(rejected, shared / "fixed_inbox" / rejected.name)
    (shared / "late").mkdir()
    first = sorted(weeks[-1].iterdir())[0]   # the same bytes as a file archived today, another name
    shutil.copy2(first, shared / "late" / f"{first.stem}（补发）{first.suffix}")
    old = sorted(weeks[0].iterdir())[0]      # a file of two weeks ago, sent again under a new name
    shutil.copy2(old, shared / "late" / f"{old.stem}（晚到）{old.suffix}")


def share_large_inbox(sides: list[Side], shared: Path) -> None:
    """The large inbox, written once by BASE's synth (HEAD's when BASE's cannot)."""
    for side in sides:
        log: list[str] = []
        target = shared / "large_inbox"
        shutil.rmtree(target, ignore_errors=True)
        if side.python(["-c", SYNTH_SNIPPET, str(target), str(LARGE_ROWS), AS_OF], shared, "synth", log) == 0:
            print(f"large inbox: {len(list(target.iterdir()))} files written by {side.label}'s synth")
            return
        print(f"{side.label} could not write the large inbox:\n{log[-1][-3000:]}", file=sys.stderr)
    fail("no large inbox")


# --- comparison -----------------------------------------------------------------------------------

def short_diff(a: list[str], b: list[str], name: str) -> list[str]:
    """The first lines of a unified diff; a long changed line is shown from just before its first
    differing character (the first changed pair's, so that both lines show the same place)."""
    lines = list(difflib.unified_diff(a, b, f"BASE/{name}", f"HEAD/{name}", n=1, lineterm=""))
    old = next((x for x in lines[2:] if x.startswith("-")), "")
    new = next((x for x in lines[2:] if x.startswith("+")), "")
    at = max(0, len(os.path.commonprefix([old[1:], new[1:]])) - 60)
    clip = lambda x: x if len(x) < 200 else x[0] + ("…" if at else "") + x[1 + at:][:200] + " …"
    cut = [clip(line) if line[:1] in "-+" and not line.startswith(("---", "+++")) else line[:200]
           for line in lines[:DIFF_LINES]]
    return cut + ([f"… {len(lines) - DIFF_LINES} more diff lines"] if len(lines) > DIFF_LINES else [])


def text_lines(data: bytes, xml: bool = False) -> list[str]:
    text = data.decode("utf-8", "replace")
    return (text.replace("><", ">\n<").replace('" ', '"\n  ') if xml else text).splitlines()  # a tag or attribute a line


def sqlite_dump(path: Path) -> list[str]:
    """The store as sorted text, without runs.token; read from a copy (with its -wal, if any)."""
    with tempfile.TemporaryDirectory() as tmp:
        for suffix in ("", "-wal"):
            if Path(f"{path}{suffix}").exists():
                shutil.copy2(f"{path}{suffix}", f"{tmp}/store{suffix}")
        with contextlib.closing(sqlite3.connect(f"{tmp}/store")) as db:
            lines = [f"PRAGMA user_version = {db.execute('PRAGMA user_version').fetchone()[0]}"]
            master = db.execute("SELECT type, name, sql FROM sqlite_master ORDER BY type, name").fetchall()
            lines += [f"{kind} {name}: {sql}" for kind, name, sql in master]
            for kind, table, _ in master:
                if kind != "table":
                    continue
                cols = [c[1] for c in db.execute(f'PRAGMA table_info("{table}")') if (table, c[1]) not in IGNORED_COLUMNS]
                rows = sorted(repr(r) for r in db.execute(f'SELECT {", ".join(f"[{c}]" for c in cols)} FROM "{table}"'))
                lines.append(f"table {table} ({', '.join(cols)}): {len(rows)} rows")
                lines += [f"{table}: {row}" for row in rows]
    return lines


def explain(a: Path, b: Path, name: str) -> list[str]:
    """Why two files with different bytes differ: a diff of their text, or of an xlsx's members."""
    if a.suffix in (".xlsx", ".xlsm"):
        try:
            with zipfile.ZipFile(a) as za, zipfile.ZipFile(b) as zb:
                ma = {i.filename: za.read(i) for i in za.infolist()}
                mb = {i.filename: zb.read(i) for i in zb.infolist()}
        except zipfile.BadZipFile as exc:
            return [f"not a zip file: {exc}"]
        out = [f"member only in {side}: {m}" for side, x, y in (("BASE", ma, mb), ("HEAD", mb, ma))
               for m in sorted(set(x) - set(y))]
        changed = [m for m in ma if m in mb and ma[m] != mb[m]]
        for member in changed[:3]:
            out += [f"member {member} differs"] + short_diff(text_lines(ma[member], True),
                                                             text_lines(mb[member], True), f"{name}!{member}")
        out += [f"… and {len(changed) - 3} more members differ"] if len(changed) > 3 else []
        return out or ["same members, same contents: the zip container differs (order, dates or compression)"]
    da, db = a.read_bytes(), b.read_bytes()
    if a.suffix in TEXT_SUFFIXES or b"\0" not in da[:4096]:
        return short_diff(text_lines(da), text_lines(db), name)
    return [f"binary file differs ({len(da)} vs {len(db)} bytes)"]


# The undo snapshots beside a store are named and stamped with the clock time of their run:
# paired by sequence and command, their records compared without the times and the run token.
SNAPSHOT = re.compile(r"(\.snapshots/\d{4}-)\d{8}T\d{6}(-[a-z]+\.)")
CLOCK_KEYS = ("taken", "undone", "token")


def files_of(root: Path) -> dict[str, Path]:
    """Relative path (snapshot times masked) → file."""
    side_file = lambda p: ".sqlite3" in p.name and p.name.endswith(("-wal", "-shm", ".lock"))
    return {SNAPSHOT.sub(r"\1<time>\2", p.relative_to(root).as_posix()): p
            for p in root.rglob("*") if p.is_file() and not side_file(p)}


def snapshot_record(path: Path, root: Path) -> bytes:
    record = {k: v for k, v in json.loads(path.read_text(encoding="utf-8")).items() if k not in CLOCK_KEYS}
    return json.dumps(record, ensure_ascii=False, sort_keys=True).replace(str(root), "<ROOT>").encode()


def compare(a: Path, b: Path, log_a: list[str], log_b: list[str]) -> tuple[int, list[tuple[str, list[str]]]]:
    """Compare two result folders and their transcripts: (files compared, [(path, details)])."""
    fa, fb = files_of(a), files_of(b)
    diffs = [(p, ["only in BASE" if p in fa else "only in HEAD"]) for p in sorted(fa.keys() ^ fb.keys())]
    for rel in sorted(fa.keys() & fb.keys()):
        pa, pb = fa[rel], fb[rel]
        if pa.name.endswith(".sqlite3"):
            la, lb = sqlite_dump(pa), sqlite_dump(pb)
            if la != lb:
                diffs.append((rel + " (logical dump)", short_diff(la, lb, rel)))
        elif "<time>" in rel and rel.endswith(".json"):
            if snapshot_record(pa, a) != snapshot_record(pb, b):
                diffs.append((rel, ["snapshot record differs (times and token aside)"]))
        elif pa.read_bytes() != pb.read_bytes():
            diffs.append((rel, explain(pa, pb, rel)))
    if log_a != log_b:
        diffs.append(("(exit codes, stdout, stderr)",
                      short_diff("\n".join(log_a).splitlines(), "\n".join(log_b).splitlines(), "commands")))
    return len(fa.keys() | fb.keys()), diffs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base", help="git revision of the reference side")
    parser.add_argument("head", nargs="?", help="git revision to compare (default: the working tree)")
    parser.add_argument("--keep", type=Path, help="keep trees, inputs and results in this new folder")
    parser.add_argument("--large", action="store_true", help=f"also run a 30 x {LARGE_ROWS} rows inbox")
    opts = parser.parse_args()
    if opts.keep and opts.keep.exists() and any(opts.keep.iterdir()):
        parser.error(f"--keep {opts.keep}: the folder is not empty")
    scratch = (opts.keep.resolve() if opts.keep else Path(tempfile.mkdtemp(prefix="same-outputs-")))
    scenarios = SCENARIOS + (["6 large"] if opts.large else [])
    try:
        (scratch / "shared").mkdir(parents=True)
        sides = []
        for key, rev in (("base", opts.base), ("head", opts.head)):
            if rev is None:
                sides.append(Side(key, "HEAD (working tree)", REPO, scratch))
                continue
            try:
                sha = export(rev, scratch / "trees" / key)
            except subprocess.CalledProcessError:
                fail(f"not a revision of {REPO}: {rev}")
            sides.append(Side(key, f"{key.upper()} {rev} ({sha})", scratch / "trees" / key, scratch))
        print(f"{sides[0].label}  vs  {sides[1].label}; python {sys.executable}; scratch {scratch}")
        for side in sides:
            warm_up(side)
        if opts.large:
            share_large_inbox(sides, scratch / "shared")
        logs: dict[tuple[str, str], list[str]] = {}
        for name in scenarios:
            for side in sides:           # the sides take turns, so that their times meet the same load
                work, log = scratch / "work", logs.setdefault((side.key, name), [])
                work.mkdir()
                for args in prepare(name, side, work, scratch / "shared"):
                    side.jiuzhu(args, work, name, log, {"JIUZHU_WORKERS": "1"} if name == "2 workers=1" else None)
                (scratch / side.key).mkdir(exist_ok=True)
                work.rename(scratch / side.key / name)
                if name == "1 demo" and side is sides[0]:
                    share_demo_inputs(side, scratch / "shared", log)
        # What is compared: every scenario across the sides, and 1-worker against default per side.
        pairs = [(f"{name}: BASE vs HEAD", ("base", name), ("head", name)) for name in scenarios]
        pairs[2:2] = [(f"2 workers=1 vs 1 demo ({key.upper()})", (key, "1 demo"), (key, "2 workers=1"))
                      for key in ("base", "head")]
        results = [(title, *compare(scratch / a[0] / a[1], scratch / b[0] / b[1], logs[a], logs[b]))
                   for title, a, b in pairs]
        print(f"\n{'comparison':<34} {'files':>6}  {'result':<16} {'BASE s':>7} {'HEAD s':>7}")
        for title, count, diffs in results:
            scenario = title.split(":")[0]
            times = [f"{s.times[scenario]:7.2f}" if ":" in title and scenario in s.times else f"{'-':>7}"
                     for s in sides]
            verdict = "identical" if not diffs else f"DIFFERENT ({len(diffs)})"
            print(f"{title:<34} {count:>6}  {verdict:<16} {times[0]} {times[1]}")
        for title, _, diffs in results:
            for path, details in diffs:
                print(f"\n[{title}] {path}\n    " + "\n    ".join(details))
        different = any(diffs for _, _, diffs in results)
        print("\nall outputs identical" if not different else "\noutputs DIFFER (see above)")
        if opts.keep:
            print(f"kept in {scratch} (base/, head/: results and *.log transcripts; shared/: inputs)")
            for (key, name), log in logs.items():
                (scratch / key / f"{name}.log").write_text("\n".join(log), encoding="utf-8")
        return int(different)
    finally:
        if not opts.keep:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
