"""`jiuzhu undo`: roll back the last command that changed the roster, from the snapshot taken
before it (pipeline/roster/snapshots.py); and `jiuzhu backup`.

Undoing a run puts the store back as it was before the run, moves the run's submissions back
from inbox/archive/<date>/ (or inbox/rejected/) into the inbox, sets its outbox/<date>/ folder
aside under another name (never deleted), and brings back that date's earlier outputs when the
run had replaced them. Undoing a correction puts the store back. The store as it was just before
the undo is kept as one more snapshot, so an undo loses nothing either. Mail fetched and sent
since is kept (snapshots.MAIL_TABLES): nothing is fetched or sent twice.
"""

from __future__ import annotations

import functools
import os
import shutil
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pipeline import publish
from pipeline.errors import JiuzhuError
from pipeline.roster import audit, letters, runs, snapshots, store
from pipeline.rules import spec

SET_ASIDE = "已撤销"  # outbox/<date>.已撤销-<time>/: the outputs of a run that was undone


@dataclass
class Undone:
    """What `undo` did, in sentences for the operator."""

    label: str
    lines: list[str] = field(default_factory=list)


def _committed(store_path: Path):
    return functools.partial(runs.committed_in, store_path)


def history(store_path: Path) -> list[snapshots.Snapshot]:
    """Every command recorded beside the store, oldest first (`jiuzhu undo --list`)."""
    return snapshots.records(Path(store_path))


def undo(store_path: Path, *, by: str | None = None, yes: bool = False) -> Undone:
    """Roll back the newest command not yet undone. Raises JiuzhuError, saying why, when there is
    none, when a run or undo holds the store, or (without `yes`) when that run's 催办通知 went out."""
    store_path = Path(store_path)
    with publish.Lock(store_path):
        publish.recover(store_path, _committed(store_path))
        snap = snapshots.last_done(store_path, _committed(store_path))
    if snap is None:
        raise JiuzhuError(f"没有可以撤销的操作：{snapshots.folder(store_path)} 中没有尚未撤销的运行或更正记录"
                          "（只保留最近几次，见 schemas/thresholds.yaml 的 keep_snapshots）。")
    rec = snap.record
    folders = [Path(rec[k]) for k in ("inbox", "outbox") if rec.get(k)]
    with publish.Lock(store_path, *folders):
        again = snapshots.last_done(store_path, _committed(store_path))
        if again is None or again.meta != snap.meta:
            raise JiuzhuError("撤销前另一个命令改动了台账，本次没有撤销。请重新运行 jiuzhu undo。")
        _refuse_if_sent(store_path, snap, yes)
        _refuse_if_lost(snap, yes)
        safety = snapshots.take(store_path, "undo", f"撤销「{rec['label']}」之前的台账", by)
        safety.save(state="safety")
        snapshots.restore(store_path, snap)
        done = Undone(rec["label"], [f"台账数据库已恢复到 {rec['taken'].replace('T', ' ')}（{rec['label']}）之前的样子。"])
        if rec.get("moves") is not None:
            done.lines += _files_back(snap)
        done.lines.append(f"撤销前的台账另存为 {safety.copy}，需要时可以用它恢复。")
        snap.save(state="undone", undone=datetime.now().isoformat(timespec="seconds"), undone_by=snapshots.who(by))
        audit.append(store_path, {"kind": "undo", "who": snapshots.who(by), "label": rec["label"], "command": rec["command"]})
        snapshots.prune(store_path, spec.thresholds()["keep_snapshots"])
    return done


def _refuse_if_lost(snap: snapshots.Snapshot, yes: bool) -> None:
    """What the undo needs must be there before anything is changed: the snapshot's copy of the
    store, and (without `yes`) the run's files in the archive, or the store would go back while
    the files stay where they are, and the next run would not see them."""
    rec = snap.record
    if rec["store_existed"] and not snap.copy.is_file():
        raise JiuzhuError(f"快照文件 {snap.copy} 不见了（被删除或移走），无法恢复「{rec['label']}」之前的台账，"
                          "没有撤销。请找回这个文件，或用 jiuzhu backup 的备份恢复。")
    gone = [Path(dst) for _, dst in rec.get("moves") or [] if not Path(dst).exists()]
    if gone and not yes:
        raise JiuzhuError(
            f"这次运行处理的 {len(rec['moves'])} 个文件中有 {len(gone)} 个已不在原来存放的位置（如 {gone[0]}），"
            "没有撤销：撤销后台账里就没有这些文件了，下次汇总也不会再读它们。请先把它们放回原处再运行 jiuzhu undo；"
            "确实不要这些文件的，请加 --yes 再运行。")


def _refuse_if_sent(store_path: Path, snap: snapshots.Snapshot, yes: bool) -> None:
    """A run whose 催办通知 were sent since cannot be undone silently: the letters went out."""
    as_of = snap.record.get("as_of")
    if not as_of or yes or not store_path.is_file():
        return
    db = store.connect(store_path)
    try:
        now = letters.issued_count(db, as_of)
    finally:
        db.close()
    before = 0
    if snap.copy.is_file():
        old = sqlite3.connect(f"{snap.copy.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
        try:
            before = letters.issued_count(old, as_of)
        finally:
            old.close()
    if now > before:
        raise JiuzhuError(
            f"这次汇总（汇总日期 {as_of}）之后，已经有 {now - before} 个对象的催办通知登记为已发出（邮件或纸质）。"
            "撤销会让台账忘记这些通知已发出，而通知本身已经收不回来。确实要撤销的，请加 --yes 再运行；"
            "之后请用 jiuzhu reminders sent 重新登记已发出的通知。")


def _files_back(snap: snapshots.Snapshot) -> list[str]:
    """The run's submissions back into the inbox, its outputs aside, earlier outputs back."""
    rec = snap.record
    lines, back, missing = [], 0, []
    for src, dst in reversed(rec["moves"]):
        src, dst = Path(src), Path(dst)
        if not dst.exists():
            missing.append(dst.name)
            continue
        target = src if not src.exists() else publish.unique(src)
        os.replace(dst, target)
        back += 1
        if target != src:
            lines.append(f"收件箱中已有同名文件 {src.name}，移回的文件改名为 {target.name}。")
    for created in rec.get("created", []):
        try:
            Path(created).rmdir()
        except OSError:
            pass  # not empty: other files are in it
    if back:
        lines.insert(0, f"{back} 个文件已移回收件箱 {rec['inbox']}，下次运行时重新处理。")
    ours = {Path(src).name for src, _ in rec["moves"]}
    others = [p.name for p in Path(rec["inbox"]).iterdir() if p.is_file() and p.name not in ours
              and not p.name.startswith(".")] if Path(rec["inbox"]).is_dir() else []
    if others:
        lines.append(f"注意：收件箱中还有 {len(others)} 个不是这次运行的文件（如 {others[0]}），按 {rec['as_of']} 重新汇总时"
                     "会一起处理。是之后一周的文件的，请先把它们移出收件箱，重新汇总后再放回。")
    if missing:
        lines.append(f"{len(missing)} 个文件已不在存档文件夹中（被移走或删除），没有移回：{'、'.join(missing[:5])}"
                     f"{'等' if len(missing) > 5 else ''}。")
    outdir = Path(rec["outdir"])
    if outdir.exists():
        aside = publish.unique(outdir.with_name(f"{outdir.name}.{SET_ASIDE}-{datetime.now():%Y%m%d-%H%M%S}"))
        os.replace(outdir, aside)
        lines.append(f"这次运行的输出文件夹已改名为 {aside}（没有删除）。")
    if snap.outputs.is_dir():
        shutil.move(str(snap.outputs), str(outdir))
        lines.append(f"同一天上一次运行的输出已放回 {outdir}。")
    return lines


def backup(store_path: Path, target: str | Path) -> tuple[Path, dict]:
    """A consistent copy of the store in `target` (a file, or a folder to put it in: an existing one,
    or text ending in / or \\, made when missing), taken under
    the lock so that no run is half-way. Returns the copy and what it holds."""
    as_folder = str(target).endswith(("/", "\\"))
    store_path, target = Path(store_path), Path(target)
    if not store_path.is_file():
        raise JiuzhuError(f"台账数据库 {store_path} 不存在，没有可备份的内容。请用 --store 指定数据库文件。")
    if as_folder and not target.exists():
        try:
            target.mkdir(parents=True)
        except OSError as exc:
            raise JiuzhuError(f"无法建立文件夹 {target}（{exc.strerror or exc}），没有备份。请检查路径和权限。") from exc
    if target.is_dir():
        target = target / f"{store_path.stem}-备份-{datetime.now():%Y%m%d-%H%M%S}{store_path.suffix or '.sqlite3'}"
        target = publish.unique(target)  # two backups in one second
    if target.exists() and target.resolve() == store_path.resolve():
        raise JiuzhuError(f"{target} 就是台账数据库本身，不能备份到它上面。请写一个新的文件名，或一个文件夹。")
    if target.exists():
        raise JiuzhuError(f"文件 {target} 已存在，没有覆盖。请换一个文件名，或先把它移走。")
    if not target.parent.is_dir():
        raise JiuzhuError(f"文件夹 {target.parent} 不存在，没有备份。请先建立这个文件夹，或换一个位置。")
    with publish.Lock(store_path):
        db = store.connect(store_path)  # a file that is not a jiuzhu store is refused with a sentence
        db.close()
        snapshots.backup(store_path, target)
    db = sqlite3.connect(f"{target.resolve().as_uri()}?mode=ro", uri=True)
    try:
        held = runs.held(db)
    finally:
        db.close()
    return target, held
