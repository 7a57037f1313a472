"""`jiuzhu find`, `correct`, `merge` and `withdraw`: the bureau's corrections, with an audit trail.

Each change is made the way a run is: under the store's lock, after a snapshot (so that
`jiuzhu undo` takes it back), in one transaction with its audit row; then a line is appended to
`{store}.audit.jsonl` (roster/audit.py), which an undo does not take back. A corrected value
stands against later submissions: roster/overrides.py, README「人工更正」.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pipeline import publish
from pipeline.errors import CorrectionError, JiuzhuError
from pipeline.intake.single import check_value
from pipeline.roster import audit, snapshots, store
from pipeline.roster import corrections as fixes
from pipeline.roster.overrides import change_text
from pipeline.roster.overrides import field_label as _label
from pipeline.rules import spec

FIXED = ("seq", "township")  # 序号 is never used; a person of another township is merged, not moved
OUTCOME_FIELDS = ("result", "remark", "investigation")


@dataclass
class Done:
    """What a correction did, in sentences for the operator."""

    label: str
    entry: dict
    lines: list[str] = field(default_factory=list)


def correctable() -> list[spec.Column]:
    return [c for c in spec.form().columns if c.key not in FIXED]


def field_key(text: str) -> str:
    """The form field a FIELD argument names: its header on the form, the short label before the
    bracket (办理结果), a header spelling the reader accepts, or the key (result)."""
    table = spec.form()
    key = text.strip() if text.strip() in table.keys else table.match(text)
    if key in FIXED:
        raise CorrectionError(f"「{_label(key)}」不能更正："
                              + ("序号在每份输出中重新编排。" if key == "seq" else
                                 "如果对象其实是另一个乡镇（街道）的，请在那个乡镇的记录上用 jiuzhu merge 合并，"
                                 "或用 jiuzhu withdraw 撤回报错的这一条。"))
    if key is None:
        names = "、".join(_label(c.key) for c in correctable())
        raise CorrectionError(f"明细表中没有「{text}」这一栏。可以更正的栏目：{names}。")
    return key


def _open(store_path: Path):
    if not Path(store_path).is_file():
        raise JiuzhuError(f"找不到台账数据库 {store_path}。请用 --store 指定数据库文件（默认 jiuzhu.sqlite3）。")
    return store.connect(store_path)


def find(store_path: Path, text: str) -> tuple[list[fixes.Found], int]:
    """Every person whose name, ID number or key contains `text`; (the first 50, how many).

    Example: find(Path("jiuzhu.sqlite3"), "张三")
    """
    if not text.strip():
        raise CorrectionError("请输入要查找的姓名、身份证号码或它们的一部分，如 jiuzhu find 张三。")
    db = _open(store_path)
    try:
        return fixes.find(db, text)
    finally:
        db.close()


def _change(store_path: Path, command: str, why: str, by: str | None,
            plan: Callable[[object], tuple[str, Callable[[object], dict]]]) -> Done:
    """Resolve and check (`plan` gives the label and the change), snapshot, change in one transaction."""
    if not (why or "").strip():
        raise CorrectionError("请用 --why 写明更正的原因（如 --why \"乡镇来电核实，身份证号码抄错\"），它会记入更正记录。")
    store_path = Path(store_path)
    with publish.Lock(store_path):
        db = _open(store_path)
        try:
            label, change = plan(db)
            snap = snapshots.take(store_path, command, label, by)
            try:
                with store.transaction(db):
                    entry = change(db)
            except BaseException:
                snapshots.remove(snap)
                raise
            snap.save(state="done")
            snapshots.prune(store_path, spec.thresholds()["keep_snapshots"])
        finally:
            db.close()
        log = audit.append(store_path, {**entry, "label": label})
    return Done(label, entry, [f"已记入更正记录（{snapshots.who(by)}，原因：{why.strip()}），见 {log}。",
                               "如有错误，可以用 jiuzhu undo 撤销这次操作。"])


def _name(db, key: str) -> str:
    return fixes.about(db, key).person["name"]


def correct(store_path: Path, key: str, field_text: str, value: str, *, why: str, by: str | None = None,
            as_of: date | None = None) -> Done:
    """Correct one field of a person; it stands against later submissions (README「人工更正」).

    Example: correct(Path("jiuzhu.sqlite3"), "城西街道|id:500114…", "办理结果", "纳入城乡低保，2026年11月20日",
                     why="乡镇来电更正")
    """
    name = field_key(field_text)
    as_of = as_of or date.today()
    who = snapshots.who(by)

    def plan(db):
        key_ = fixes.resolve(db, key)
        found = fixes.about(db, key_)
        clean, outcome, problems = check_value(found.data, name, value, as_of)
        if problems:
            raise CorrectionError(f"「{value}」不能作为{_label(name)}：{'；'.join(problems)}")
        shown = _label(name)
        return (f"更正 {found.person['name']} 的 {shown}",
                lambda db: fixes.correct(db, key_, name, clean, outcome if name in OUTCOME_FIELDS else None,
                                         who=who, why=why.strip(), as_of=as_of))

    done = _change(store_path, "correct", why, by, plan)
    entry = done.entry
    done.lines.insert(0, f"{_label(name)}：「{entry['old'] or '（空）'}」→「{entry['new'] or '（空）'}」。"
                         "之后乡镇（街道）报来不同的值时保留这次更正，并在汇总报告中注明。")
    return done


def merge(store_path: Path, keep: str, gone: str, *, why: str, by: str | None = None) -> Done:
    """Merge the person `gone` into `keep` (the same person recorded twice).

    Example: merge(Path("jiuzhu.sqlite3"), "城西街道|id:500114…", "城西街道|胜利村|张三", why="同一人")
    """
    who = snapshots.who(by)

    def plan(db):
        a, b = fixes.resolve(db, keep), fixes.resolve(db, gone)
        if a == b:
            raise CorrectionError(f"「{keep}」和「{gone}」是同一个对象（{a}），不需要合并。")
        return (f"合并 {_name(db, b)}（{b}）到 {_name(db, a)}（{a}）",
                lambda db: fixes.merge_into(db, a, b, who=who, why=why.strip()))

    done = _change(store_path, "merge", why, by, plan)
    done.lines.insert(0, f"{done.entry['other_key']} 的报送历史、走访和催办记录已移到 {done.entry['key']}，"
                         "不再单独计数；之后按原来的键报来的行也记到这个对象上。")
    return done


def withdraw(store_path: Path, key: str, *, why: str, by: str | None = None, restore: bool = False) -> Done:
    """Withdraw a person reported in error (kept in the store, not counted), or `restore` them.

    Example: withdraw(Path("jiuzhu.sqlite3"), "城西街道|胜利村|张三", why="重复报送，查无此人")
    """
    who = snapshots.who(by)

    def plan(db):
        key_ = fixes.resolve(db, key)
        doing = "恢复计入" if restore else "撤回"
        return (f"{doing} {_name(db, key_)}（{key_}）",
                lambda db: fixes.withdraw(db, key_, who=who, why=why.strip(), restore=restore))

    done = _change(store_path, "withdraw", why, by, plan)
    done.lines.insert(0, "这个对象重新计入台账和各项统计。" if restore else
                      "这个对象仍保存在台账数据库中（jiuzhu find 可以查到），不再计入台账、统计、超期和走访缺口；"
                      "乡镇（街道）之后再报来时只作为历史保存，并在汇总报告中注明。")
    return done




def describe(found: fixes.Found) -> list[str]:
    """A person as `jiuzhu find` prints them: the record, then its history, visits, reminders and
    corrections, one line each."""
    p, data = found.person, found.data
    status = spec.STATUS_LABELS.get(p["status"], p["status"])
    if found.withdrawn:
        status += "（已撤回，不计入统计）"
    where = "，".join(filter(None, (p["village"], f"身份证号码 {p['id_number']}" if p["id_number"] else None)))
    lines = [f"{p['township']} {p['name']}{f'（{where}）' if where else ''}",
             f"  键：{p['key']}",
             f"  状态：{status}；发现日期 {p['discovered']}；办理结果：{data.get('result') or '（空）'}"]
    if found.overrides:
        lines.append("  人工更正（之后的报送不覆盖）：" + "；".join(
            f"{_label(k)}「{v or '（空）'}」" for k, v in sorted(found.overrides.items())))
    if found.aliases:
        lines.append(f"  也按这些键查到（合并或更正前的）：{'、'.join(found.aliases)}")
    lines.append(f"  报送历史（{len(found.versions)} 次）：")
    for v in found.versions:
        row = store.loads(v["data"])
        filled = f"，填报日期 {v['filled_date']}" if v["filled_date"] else ""
        lines.append(f"    {v['received']} 汇总  {v['file']}（工作表「{v['sheet']}」第{v['row']}行{filled}）"
                     f"  办理结果：{row.get('result') or '（空）'}")
    lines.append(f"  走访（{len(found.visits)} 次）：" + ("无" if not found.visits else ""))
    lines += [f"    {v['visit_date']} {v['visitor'] or ''} {'见到本人' if v['seen'] else '未见到本人'}"
              f"{'：' + v['notes'] if v['notes'] else ''}" for v in found.visits]
    lines.append(f"  催办通知：{'、'.join(found.reminders) + ' 发出' if found.reminders else '无'}")
    for a in found.audit:
        why = f"（{a['why']}）" if a["why"] else ""
        lines.append(f"  {audit.KIND_LABELS.get(a['kind'], a['kind'])}：{a['at'].replace('T', ' ')} {a['who']}  "
                     f"{change_text(a)}{why}")
    return lines
