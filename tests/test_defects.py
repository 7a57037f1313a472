"""The defects found by attacking the run (issue 17), each on real files and real processes:
names that are not UTF-8 or too long, every inbox entry accounted for, the lock on what the
paths really are."""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from pipeline.demo import synth
from pipeline.errors import JiuzhuError, RunLockedError
from pipeline.publish import Lock
from pipeline.run import run

AS_OF = date(2026, 11, 28)


def _report(outbox: Path, day: date = AS_OF) -> dict:
    return json.loads((outbox / day.isoformat() / "run-report.json").read_text(encoding="utf-8"))


def _statuses(outbox: Path) -> dict[str, tuple]:
    return {f["file"]: (f["status"], [e["code"] for e in f["errors"]]) for f in _report(outbox)["files"]}


def test_a_gbk_file_name_is_read_as_gb18030_and_the_run_goes_on(tmp_path: Path):
    inbox, outbox, store = tmp_path / "inbox", tmp_path / "outbox", tmp_path / "s.sqlite3"
    inbox.mkdir()
    made = synth.make_submission(tmp_path / "made.xlsx", "城西街道", 4, seed=1, as_of=AS_OF).path
    name = "城西街道1128明细表.xlsx"
    gbk = os.path.join(os.fsencode(inbox), name.encode("gbk"))  # as a zip made on Chinese Windows unpacks
    with open(gbk, "wb") as fh:
        fh.write(made.read_bytes())
    run(inbox, outbox, store, AS_OF)
    assert _statuses(outbox) == {name: ("accepted", [])}
    assert (inbox / "archive" / AS_OF.isoformat() / name).is_file()
    run(inbox, outbox, store, AS_OF)  # and every later run
    db = sqlite3.connect(store)
    assert db.execute("SELECT file, status FROM submissions").fetchall() == [(name, "accepted")]


def test_long_names_are_shortened_keeping_the_township_and_the_date(tmp_path: Path):
    inbox, outbox, store = tmp_path / "inbox", tmp_path / "outbox", tmp_path / "s.sqlite3"
    inbox.mkdir()
    stem = "城西街道" + "社会救助主动发现明细表" * 7 + "1128"  # 252 bytes of UTF-8 with .xlsx
    synth.make_submission(inbox / f"{stem}.xlsx", "城西街道", 4, seed=1, as_of=AS_OF, errors={"required": 1})
    run(inbox, outbox, store, AS_OF)
    feedback = _report(outbox)["files"][0]["feedback"]
    name = Path(feedback).name
    assert len(name.encode("utf-8")) <= 255 and (outbox / AS_OF.isoformat() / feedback).is_file()
    assert name.startswith("城西街道") and name.endswith("1128_退回意见.xlsx") and "…" in name
    # The same name received again, other bytes: the archive's （2） must fit too.
    synth.make_submission(inbox / f"{stem}.xlsx", "城西街道", 5, seed=2, as_of=AS_OF)
    run(inbox, outbox, store, AS_OF)
    archived = sorted(p.name for p in (inbox / "archive" / AS_OF.isoformat()).iterdir())
    assert len(archived) == 2 and all(len(n.encode("utf-8")) <= 255 for n in archived)
    assert archived[0].startswith("城西街道") and "（2）" in archived[0]


def test_every_entry_of_the_inbox_is_accounted_for_and_no_link_is_followed(tmp_path: Path):
    inbox, outbox, store = tmp_path / "inbox", tmp_path / "outbox", tmp_path / "s.sqlite3"
    inbox.mkdir()
    synth.make_submission(inbox / ".城西街道1128.xlsx", "城西街道", 3, seed=1, as_of=AS_OF)  # hidden, still sent
    outside = tmp_path / "outside.xlsx"
    synth.make_submission(outside, "石会镇", 3, seed=2, as_of=AS_OF)
    (inbox / "石会镇1128.xlsx").symlink_to(outside)
    (inbox / "失效链接.xlsx").symlink_to(tmp_path / "gone.xlsx")
    (inbox / "文件夹链接").symlink_to(tmp_path, target_is_directory=True)
    os.mkfifo(inbox / "管道.xlsx")
    (inbox / "Thumbs.db").write_bytes(b"system")
    run(inbox, outbox, store, AS_OF)
    statuses = _statuses(outbox)
    assert statuses[".城西街道1128.xlsx"] == ("accepted", [])
    for link in ("石会镇1128.xlsx", "失效链接.xlsx", "文件夹链接"):
        assert statuses[link] == ("rejected", ["unsupported_type"])
        assert (inbox / "rejected" / link).is_symlink()  # the link itself, never what it points to
    assert statuses["管道.xlsx"] == ("rejected", ["unreadable"])
    assert "Thumbs.db" not in statuses and (inbox / "Thumbs.db").exists()
    assert outside.is_file()  # read from nowhere, moved nowhere


@pytest.mark.parametrize("other", ["spelling", "symlink"])
def test_the_lock_is_on_the_store_itself_however_it_is_written(tmp_path: Path, other: str):
    inbox, outbox = tmp_path / "inbox", tmp_path / "outbox"
    inbox.mkdir()
    (tmp_path / "data").mkdir()
    store = tmp_path / "data" / "s.sqlite3"
    if other == "spelling":
        again = tmp_path / "data" / ".." / "data" / "s.sqlite3"
    else:
        again = tmp_path / "link.sqlite3"
        store.touch()
        again.symlink_to(store)
    with Lock(store):
        with pytest.raises(RunLockedError, match="台账数据库"):
            run(inbox, outbox, again, AS_OF)


@pytest.mark.parametrize("shared", ["inbox", "outbox"])
def test_a_second_run_on_the_same_inbox_or_outbox_refuses(tmp_path: Path, shared: str):
    folders = {"inbox": tmp_path / "inbox", "outbox": tmp_path / "outbox"}
    folders["inbox"].mkdir()
    with Lock(tmp_path / "first.sqlite3", folders["inbox"], folders["outbox"]):
        mine = {**{k: tmp_path / f"mine-{k}" for k in folders}, shared: folders[shared]}
        mine["inbox"].mkdir(exist_ok=True)
        with pytest.raises(RunLockedError, match=f"文件夹 {folders[shared].resolve()}"):
            run(mine["inbox"], mine["outbox"], tmp_path / "second.sqlite3", AS_OF)
    assert not (folders["inbox"] / ".jiuzhu-lock").exists()


def _week_outputs(outbox: Path) -> dict[str, bytes]:
    folder = outbox / AS_OF.isoformat()
    return {name: (folder / name).read_bytes() for name in ("run-report.json", "汇总报告.html")}


def test_a_late_attachment_run_the_same_day_gives_the_report_of_one_run_with_all_files(tmp_path: Path):
    def inbox_of(root: Path, late: bool) -> Path:
        inbox = root / "inbox"
        synth.make_district(inbox, rows_per_township=6, seed=5, as_of=AS_OF, townships=["城西街道", "石会镇"],
                            errors={"石会镇": {"required": 1}})
        if late:
            synth.make_submission(inbox / "濯水镇1128.xlsx", "濯水镇", 4, seed=6, as_of=AS_OF)
        return inbox

    once = tmp_path / "once"
    run(inbox_of(once, late=True), once / "outbox", once / "s.sqlite3", AS_OF)
    twice = tmp_path / "twice"
    inbox = inbox_of(twice, late=False)
    run(inbox, twice / "outbox", twice / "s.sqlite3", AS_OF)
    synth.make_submission(inbox / "濯水镇1128.xlsx", "濯水镇", 4, seed=6, as_of=AS_OF)
    run(inbox, twice / "outbox", twice / "s.sqlite3", AS_OF)
    assert _week_outputs(twice / "outbox") == _week_outputs(once / "outbox")
    assert len(_report(twice / "outbox")["files"]) == 3
    # A run again with nothing new (a kill after COMMIT, then the rerun) keeps the week whole.
    run(inbox, twice / "outbox", twice / "s.sqlite3", AS_OF)
    assert _week_outputs(twice / "outbox") == _week_outputs(once / "outbox")
    # and `jiuzhu report` rebuilds exactly that page.
    from pipeline.rebuild import rebuild
    page = (twice / "outbox" / AS_OF.isoformat() / "汇总报告.html").read_bytes()
    rebuild(twice / "outbox", twice / "s.sqlite3", AS_OF)
    assert (twice / "outbox" / AS_OF.isoformat() / "汇总报告.html").read_bytes() == page


# --- moves that fail, stores that are not what they should be -----------------------------


def _kept(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through read-only folders")
def test_a_read_only_inbox_is_refused_before_the_run_starts(tmp_path: Path):
    inbox, outbox, store = tmp_path / "inbox", tmp_path / "outbox", tmp_path / "s.sqlite3"
    synth.make_submission(inbox / "城西街道1128.xlsx", "城西街道", 3, seed=1, as_of=AS_OF)
    inbox.chmod(0o555)
    try:
        with pytest.raises(JiuzhuError, match="收件箱 .* 无法写入"):
            run(inbox, outbox, store, AS_OF)
    finally:
        inbox.chmod(0o755)
    assert not store.exists() and not (outbox / AS_OF.isoformat()).exists()


@pytest.mark.parametrize("where", ["inbox file named rejected", "outbox is a file"])
def test_a_file_where_a_folder_must_go_is_named_before_the_run(tmp_path: Path, where: str):
    inbox, outbox, store = tmp_path / "inbox", tmp_path / "outbox", tmp_path / "s.sqlite3"
    synth.make_submission(inbox / "城西街道1128.xlsx", "城西街道", 3, seed=1, as_of=AS_OF)
    (tmp_path / "a.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    (tmp_path / "a.pdf").rename(inbox / "附件.pdf")  # goes to rejected/
    if where == "outbox is a file":
        outbox.write_text("x")
        expected = "输出文件夹 .* 是一个文件"
    else:
        (inbox / "rejected").write_text("x")
        expected = "名为「rejected」的文件"
    before = _kept(tmp_path)
    with pytest.raises(JiuzhuError, match=expected):
        run(inbox, outbox, store, AS_OF)
    assert _kept(tmp_path) == before and not store.exists()


def test_a_move_that_fails_midway_is_undone_at_once(tmp_path: Path, monkeypatch):
    from pipeline import publish

    inbox, outbox, store = tmp_path / "inbox", tmp_path / "outbox", tmp_path / "s.sqlite3"
    synth.make_submission(inbox / "城西街道1128.xlsx", "城西街道", 3, seed=1, as_of=AS_OF)
    synth.make_submission(inbox / "石会镇1128.xlsx", "石会镇", 3, seed=2, as_of=AS_OF)
    before = _kept(inbox)
    real, moved = os.replace, []

    def replace(src, dst):  # the second submission's move fails, as on a full disk
        if "archive" in str(dst) and moved:
            raise OSError(28, "No space left on device", str(dst))
        if "archive" in str(dst):
            moved.append(dst)
        return real(src, dst)

    monkeypatch.setattr(publish.os, "replace", replace)
    with pytest.raises(JiuzhuError, match="移动文件时出错（No space left on device.*已恢复到运行前的样子"):
        run(inbox, outbox, store, AS_OF)
    monkeypatch.undo()
    assert _kept(inbox) == before
    assert not (outbox / AS_OF.isoformat()).exists() and not list(tmp_path.glob("s.sqlite3.journal"))
    db = sqlite3.connect(store)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 0  # the first run rolled back: no tables


def test_a_file_replaced_while_the_run_reads_is_left_for_the_next_run(tmp_path: Path, monkeypatch):
    from pipeline.intake import check

    inbox, outbox, store = tmp_path / "inbox", tmp_path / "outbox", tmp_path / "s.sqlite3"
    path = synth.make_submission(inbox / "城西街道1128.xlsx", "城西街道", 3, seed=1, as_of=AS_OF).path
    newer = synth.make_submission(tmp_path / "newer.xlsx", "城西街道", 5, seed=2, as_of=AS_OF).path.read_bytes()
    real = check.check_files

    def check_then_replace(*args, **kwargs):
        report = real(*args, **kwargs)
        path.write_bytes(newer)  # the clerk saves the attachment again while the run goes on
        return report

    monkeypatch.setattr(check, "check_files", check_then_replace)
    result = run(inbox, outbox, store, AS_OF)
    assert any("被替换了" in w for w in result.warnings)
    assert path.read_bytes() == newer and not (inbox / "archive" / AS_OF.isoformat() / path.name).exists()
    monkeypatch.undo()
    assert run(inbox, outbox, store, AS_OF).files[0].rows == 5  # read the next time


@pytest.mark.parametrize("damage, expected", [
    ("empty", "是空文件（0 字节）"),
    ("foreign", "不是 jiuzhu 的台账数据库"),
    ("dropped table", "缺少数据表 visits"),
    ("flipped bytes", "文件已损坏"),
])
def test_a_store_that_is_not_whole_is_refused_with_a_sentence(tmp_path: Path, damage: str, expected: str):
    inbox, outbox, store = tmp_path / "inbox", tmp_path / "outbox", tmp_path / "s.sqlite3"
    inbox.mkdir()
    if damage == "empty":
        store.touch()
    elif damage == "foreign":
        db = sqlite3.connect(store)
        db.execute("CREATE TABLE 账目 (x)")
        db.commit()
        db.close()
    else:
        run(inbox, outbox, store, AS_OF, yes=True)  # a first run on an empty inbox
        if damage == "dropped table":
            db = sqlite3.connect(store)
            db.execute("DROP TABLE visits")
            db.commit()
            db.close()
        else:
            data = bytearray(store.read_bytes())
            data[:16] = b"x" * 16  # the header is gone
            store.write_bytes(bytes(data))
            for side in tmp_path.glob("s.sqlite3-*"):
                side.unlink()
    before = store.read_bytes()
    with pytest.raises(JiuzhuError, match=expected):
        run(inbox, outbox, store, date(2026, 12, 5))
    assert store.read_bytes() == before


@pytest.mark.parametrize("head", ["| head -1", "closed stdout", "ascii"])
def test_what_becomes_of_the_terminal_never_changes_the_run(tmp_path: Path, head: str):
    import subprocess
    import sys

    inbox, outbox, store = tmp_path / "inbox", tmp_path / "outbox", tmp_path / "s.sqlite3"
    synth.make_district(inbox, rows_per_township=4, seed=1, as_of=AS_OF, townships=["城西街道", "石会镇", "濯水镇"])
    command = [sys.executable, "-m", "pipeline", "run", "--inbox", str(inbox), "--outbox", str(outbox),
               "--store", str(store), "--as-of", AS_OF.isoformat()]
    env = {**os.environ, "JIUZHU_WORKERS": "1"}
    if head == "| head -1":
        proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        proc.stdout.readline()
        proc.stdout.close()  # as `| head -1` does once it has its line
        code = proc.wait(timeout=120)
    elif head == "closed stdout":
        code = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120,
                              preexec_fn=lambda: os.close(1)).returncode
    else:
        code = subprocess.run(command, env={**env, "PYTHONIOENCODING": "ascii"}, capture_output=True,
                              timeout=120).returncode
    assert code == 0
    assert len(_report(outbox)["files"]) == 3 and len(list((inbox / "archive" / AS_OF.isoformat()).iterdir())) == 3


@pytest.mark.parametrize("text, expected", [
    ("max_file_bytes: 0\n", "max_file_bytes（文件大小上限（字节））为「0」，应为 1,048,576 到"),
    ("overdue_workdays: 三十\n", "overdue_workdays（超期的工作日数）为「三十」"),
    ("", "内容应是“名称: 值”的列表"),
    ("就是一句话\n", "内容应是“名称: 值”的列表"),
])
def test_a_setting_written_wrong_is_named_with_its_file_and_key(tmp_path: Path, text: str, expected: str):
    import shutil
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    copy = tmp_path / "tree"
    shutil.copytree(root / "pipeline", copy / "pipeline")
    shutil.copytree(root / "schemas", copy / "schemas")
    shutil.copytree(root / "templates", copy / "templates")
    thresholds = copy / "schemas" / "thresholds.yaml"
    if text.startswith(("max", "overdue")):
        key = text.split(":")[0]
        lines = [line for line in thresholds.read_text(encoding="utf-8").splitlines() if not line.startswith(key)]
        text = "\n".join(lines) + "\n" + text
    thresholds.write_text(text, encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "pipeline", "check", str(tmp_path / "x.xlsx")], cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(copy)}, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"设置文件 {thresholds}" in done.stderr and expected in done.stderr


def test_a_gbk_saved_setting_is_named(tmp_path: Path):
    import shutil
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    for part in ("pipeline", "schemas", "templates"):
        shutil.copytree(root / part, tmp_path / part)
    vocab = tmp_path / "schemas" / "vocabularies.yaml"
    vocab.write_bytes(vocab.read_text(encoding="utf-8").encode("gbk", "replace"))
    done = subprocess.run([sys.executable, "-m", "pipeline", "template", "-o", str(tmp_path / "t.xlsx")],
                          cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(tmp_path)}, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"设置文件 {vocab} 不是 UTF-8 编码" in done.stderr


def test_text_that_looks_like_a_formula_keeps_the_quote_prefix(tmp_path: Path):
    import openpyxl

    inbox, outbox, store = tmp_path / "inbox", tmp_path / "outbox", tmp_path / "s.sqlite3"
    people = synth.make_people("城西街道", 3, seed=1, as_of=AS_OF)
    people[0]["household"] = "=HYPERLINK(\"http://example.test\",\"点我\")"
    people[1]["remark"] = "+86 023"
    synth.write_submission(inbox / "城西街道1128.xlsx", people, township="城西街道", filled_date=AS_OF)
    run(inbox, outbox, store, AS_OF)
    book = openpyxl.load_workbook(outbox / AS_OF.isoformat() / "全区汇总台账.xlsx")
    cells = [c for row in book["全部"].iter_rows() for c in row if isinstance(c.value, str) and c.value[:1] in "=+"]
    assert len(cells) == 2 and all(c.data_type == "s" and c.quotePrefix for c in cells)


# --- any mix of good and broken files ----------------------------------------------------


def _builders() -> list:
    import inspect

    from tests import hostile

    return [fn for name, fn in sorted(inspect.getmembers(hostile, inspect.isfunction))
            if not name.startswith("_") and fn.__module__ == hostile.__name__
            and list(inspect.signature(fn).parameters)[:1] == ["folder"]]


@pytest.mark.parametrize("round_", range(3))
def test_any_mix_of_good_and_hostile_files_leaves_the_good_ones_whole(tmp_path: Path, round_: int):
    import random
    import shutil

    rng = random.Random(round_)
    builders = _builders()
    rng.shuffle(builders)
    mine = builders[round_::3]  # over the three rounds every hostile file of the suite is sent once
    good = ["城西街道", "石会镇", "濯水镇"]
    for name in ("mixed", "good"):
        inbox = tmp_path / name / "inbox"
        synth.make_district(inbox, rows_per_township=5, seed=round_, as_of=AS_OF, townships=good,
                            errors={"石会镇": {"required": 1}}, fmt="mixed")
    sent = set()
    for n, build in enumerate(mine):
        made = build(Path(tempfile_dir(tmp_path, n)))
        target = tmp_path / "mixed" / "inbox" / f"{build.__name__}_{made.name}"
        shutil.copyfile(made, target) if made.is_file() else shutil.copytree(made, target)
        sent.add(target.name)
    results = {}
    for name in ("mixed", "good"):
        root = tmp_path / name
        results[name] = run(root / "inbox", root / "outbox", root / "s.sqlite3", AS_OF)
    mixed, alone = (_report(tmp_path / n / "outbox") for n in ("mixed", "good"))
    def sender(entry: str) -> str:  # a form inside an archive is named archive/form
        return entry.split("/", 1)[0]

    assert sent == {sender(f["file"]) for f in mixed["files"]} - {f["file"] for f in alone["files"]}
    assert [f for f in mixed["files"] if sender(f["file"]) not in sent] == alone["files"]
    for name in ("走访缺口.xlsx", "超期催办.xlsx"):
        assert (tmp_path / "mixed" / "outbox" / AS_OF.isoformat() / name).read_bytes() == \
               (tmp_path / "good" / "outbox" / AS_OF.isoformat() / name).read_bytes()
    persons = {}
    for name in ("mixed", "good"):
        db = sqlite3.connect(tmp_path / name / "s.sqlite3")
        persons[name] = db.execute("SELECT key, data, status FROM persons ORDER BY key").fetchall()
        db.close()
    assert persons["mixed"] == persons["good"] and len(persons["good"]) == 14  # 15 rows, 1 sent back


def tempfile_dir(root: Path, n: int) -> Path:
    folder = root / "built" / str(n)
    folder.mkdir(parents=True)
    return folder
