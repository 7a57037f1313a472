"""The bureau's corrections in the store (README「人工更正」): looking people up (`jiuzhu find`),
and `correct`, `merge`, `withdraw` (and `restore`), each in the caller's transaction with its
audit row (roster/audit.py). What stands against later submissions is in the tables `overrides`,
`aliases` and `withdrawn`; roster/overrides.py holds it during a merge.

A key is what `find` shows (城西街道|id:500114…, 城西街道|胜利村|张三); a key merged away stands
for the person it was merged into; an ID number, a name, or a part of a key that only one person
has, is accepted too.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import date

from pipeline.errors import CorrectionError
from pipeline.roster import audit, merge, overrides
from pipeline.roster.overrides import field_label as _label
from pipeline.roster.store import dumps, loads
from pipeline.rules import identity

FIND_LIMIT = 50


@dataclass
class Found:
    """One person as `jiuzhu find` shows them: the record and everything about it."""

    person: dict
    data: dict
    withdrawn: bool
    aliases: list[str] = field(default_factory=list)
    overrides: dict[str, str | None] = field(default_factory=dict)
    versions: list[dict] = field(default_factory=list)
    visits: list[dict] = field(default_factory=list)
    reminders: list[str] = field(default_factory=list)
    audit: list[dict] = field(default_factory=list)


def find(db: sqlite3.Connection, text: str, limit: int = FIND_LIMIT) -> tuple[list[Found], int]:
    """Every person whose name, ID number or key contains `text` (and the persons that a matching
    merged key went into); (the first `limit` of them, how many matched)."""
    text = text.strip()
    like = f"%{text}%"
    keys = [r[0] for r in db.execute(
        "SELECT key FROM persons WHERE name LIKE ? OR id_number LIKE ? OR key LIKE ? ORDER BY township, name, key",
        (like, like, like))]
    if overrides.has_tables(db):
        keys += [r[0] for r in db.execute("SELECT DISTINCT person_key FROM aliases WHERE alias LIKE ?", (like,))
                 if r[0] not in keys]
    return [about(db, key) for key in keys[:limit]], len(keys)


def about(db: sqlite3.Connection, key: str) -> Found:
    """Everything the store holds about one person (key as in the persons table)."""
    person = dict(db.execute("SELECT * FROM persons WHERE key = ?", (key,)).fetchone())
    fixes = overrides.has_tables(db)
    found = Found(person, loads(person["data"]), fixes and withdrawn(db, key))
    if fixes:
        found.aliases = [r[0] for r in db.execute("SELECT alias FROM aliases WHERE person_key = ? ORDER BY alias", (key,))]
        found.overrides = dict(db.execute("SELECT field, value FROM overrides WHERE person_key = ?", (key,)).fetchall())
        found.audit = audit.of_person(db, key)
    found.versions = [dict(r) for r in db.execute(
        "SELECT v.sheet, v.row, v.data, s.file, s.received, s.filled_date, s.archived FROM versions v "
        "JOIN submissions s ON s.id = v.submission_id WHERE v.person_key = ? ORDER BY v.id", (key,))]
    found.visits = [dict(r) for r in db.execute(
        "SELECT visit_date, visitor, seen, notes FROM visits WHERE person_key = ? ORDER BY visit_date", (key,))]
    found.reminders = [r[0] for r in db.execute(
        "SELECT issued_on FROM reminders WHERE person_key = ? ORDER BY issued_on", (key,))]
    return found


def resolve(db: sqlite3.Connection, text: str) -> str:
    """The person key `text` names: a key, a key merged away, an ID number, a name only one person
    has, or a part of one key.
    Raises CorrectionError saying what to do when it names no one, or more than one."""
    text = text.strip()
    if db.execute("SELECT 1 FROM persons WHERE key = ?", (text,)).fetchone():
        return text
    if overrides.has_tables(db) and (row := db.execute("SELECT person_key FROM aliases WHERE alias = ?", (text,)).fetchone()):
        return row[0]
    keys = [r[0] for r in db.execute("SELECT key FROM persons WHERE id_number = ? OR name = ? ORDER BY key",
                                     (text.upper(), text))]
    if not keys and len(text) >= 2:
        keys = [r[0] for r in db.execute("SELECT key FROM persons WHERE key LIKE ? ORDER BY key", (f"%{text}%",))]
    if len(keys) == 1:
        return keys[0]
    if not keys and len(text) < 2:
        raise CorrectionError(f"「{text}」太短，不能用来确定一个对象。请输入完整的姓名、身份证号码，或 jiuzhu find 显示的“键”"
                              f"（jiuzhu find {text} 可以列出含有它的对象）。")
    if not keys:
        raise CorrectionError(f"名册中没有「{text}」这个对象。请先用 jiuzhu find 查找（可以输入姓名或身份证号码的一部分），"
                              "再复制它显示的“键”。")
    shown = "、".join(keys[:5]) + ("等" if len(keys) > 5 else "")
    raise CorrectionError(f"「{text}」对应名册中 {len(keys)} 个对象（{shown}），不能确定是哪一位。"
                          "请用 jiuzhu find 查看，再输入完整的键。")


def withdrawn(db: sqlite3.Connection, key: str) -> bool:
    return db.execute("SELECT 1 FROM withdrawn WHERE person_key = ?", (key,)).fetchone() is not None


def correct(db: sqlite3.Connection, key: str, name: str, value: str | None, outcome: tuple | None, *,
            who: str, why: str, as_of: date) -> dict:
    """Set one form field of a person and keep it standing (overrides); `outcome` is the
    (status, result_date, programme, referral) read from the corrected row when the field is one
    办理结果 is read with. Returns the audit entry."""
    old = dict(db.execute("SELECT * FROM persons WHERE key = ?", (key,)).fetchone())
    data = loads(old["data"])
    before = data.get(name)
    if before == value:
        raise CorrectionError(f"{_label(name)}已经是「{value or '（空）'}」，没有更正。")
    if name == "id_number" and value and (other := db.execute(
            "SELECT key FROM persons WHERE township = ? AND id_number = ? AND key != ?",
            (old["township"], value, key)).fetchone()):
        raise CorrectionError(f"名册中{old['township']}已有身份证号码为 {value} 的对象（{other[0]}）。"
                              f"如果两条是同一人，请用 jiuzhu merge {other[0]} {key} --why … 合并。")
    data[name] = value
    person = {**old, "data": dumps(data)}
    if name in ("name", "village", "id_number"):
        person[name] = value
    if name == "discovered" and value:
        person["discovered"] = value
        if old["key_since"] == old["discovered"]:
            person["key_since"] = value
    if outcome is not None:
        status, result_date, programme, referral = outcome
        result_date = result_date.isoformat() if result_date else None
        person.update(status=status, result_date=result_date, programme=programme, referral=referral,
                      key_since=merge._key_since(old, status, person["discovered"], result_date, as_of),
                      decided_on=merge._decided_on(old, status, as_of.isoformat()))
    _save_person(db, person)
    entry = {"kind": "correct", "key": key, "field": name, "old": before, "new": value, "who": who, "why": why}
    entry["id"] = audit.record(db, "correct", key, who=who, why=why, field=name, old=before, new=value)
    db.execute("INSERT OR REPLACE INTO overrides (person_key, field, value, correction) VALUES (?,?,?,?)",
               (key, name, value, entry["id"]))
    if name in ("name", "village", "id_number"):  # rows still under the old name or number find the person
        alias = identity.person_key(old["township"], old["village"], old["name"], old["id_number"])
        if alias != key:
            _alias(db, alias, key, entry["id"])
    return entry


def merge_into(db: sqlite3.Connection, keep: str, gone: str, *, who: str, why: str) -> dict:
    """Make `gone` an alias of `keep`: its versions, visits, reminders and corrections move to
    `keep`, whose blanks it fills (its earlier discovery and a decision `keep` lacks included);
    `gone` is no longer on the roster. Returns the audit entry."""
    if keep == gone:
        raise CorrectionError("两个键是同一个对象，不需要合并。")
    a = dict(db.execute("SELECT * FROM persons WHERE key = ?", (keep,)).fetchone())
    b = dict(db.execute("SELECT * FROM persons WHERE key = ?", (gone,)).fetchone())
    data, theirs = loads(a["data"]), loads(b["data"])
    data.update({k: v for k, v in theirs.items() if data.get(k) is None and v is not None})
    person = {**a, "data": dumps(data), "discovered": min(a["discovered"], b["discovered"]),
              "first_seen": min(a["first_seen"], b["first_seen"]),
              "village": a["village"] or b["village"], "id_number": a["id_number"] or b["id_number"]}
    if not loads(a["data"]).get("result") and theirs.get("result"):
        person.update({k: b[k] for k in ("status", "programme", "result_date", "referral", "key_since", "decided_on")})
    elif a["key_since"] and b["key_since"]:
        person["key_since"] = min(a["key_since"], b["key_since"])
    _save_person(db, person)
    for table, column in (("versions", "person_key"), ("visits", "person_key"), ("reminders", "person_key"),
                          ("reminder_letters", "person_key"), ("overrides", "person_key"), ("aliases", "person_key")):
        db.execute(f"UPDATE OR IGNORE {table} SET {column} = ? WHERE {column} = ?", (keep, gone))
        db.execute(f"DELETE FROM {table} WHERE {column} = ?", (gone,))  # what `keep` had already
    db.execute("DELETE FROM withdrawn WHERE person_key = ?", (gone,))
    db.execute("DELETE FROM persons WHERE key = ?", (gone,))
    old = f"{b['name']}（{b['township']}）"
    entry = {"kind": "merge", "key": keep, "other_key": gone, "old": old, "new": f"并入 {keep}", "who": who, "why": why}
    entry["id"] = audit.record(db, "merge", keep, who=who, why=why, other_key=gone, old=old, new=entry["new"])
    _alias(db, gone, keep, entry["id"])
    return entry


def withdraw(db: sqlite3.Connection, key: str, *, who: str, why: str, restore: bool = False) -> dict:
    """Mark a person withdrawn (reported in error: kept, not counted), or (`restore`) counted again."""
    if withdrawn(db, key) != restore:
        raise CorrectionError("这个对象已经撤回，不需要再撤回。" if not restore else
                              "这个对象没有被撤回，一直计入统计，不需要恢复。")
    kind = "restore" if restore else "withdraw"
    old, new = ("已撤回", "计入统计") if restore else ("计入统计", "已撤回（报错，不计入）")
    entry = {"kind": kind, "key": key, "old": old, "new": new, "who": who, "why": why}
    entry["id"] = audit.record(db, kind, key, who=who, why=why, old=old, new=new)
    if restore:
        db.execute("DELETE FROM withdrawn WHERE person_key = ?", (key,))
    else:
        db.execute("INSERT INTO withdrawn (person_key, correction) VALUES (?, ?)", (key, entry["id"]))
    return entry


def _alias(db: sqlite3.Connection, alias: str, key: str, correction: int) -> None:
    db.execute("INSERT OR REPLACE INTO aliases (alias, person_key, correction) VALUES (?,?,?)",
               (alias, key, correction))
    db.execute("UPDATE aliases SET person_key = ? WHERE person_key = ?", (key, alias))


def _save_person(db: sqlite3.Connection, person: dict) -> None:
    columns = merge.PERSON_COLUMNS
    db.execute(f"INSERT OR REPLACE INTO persons ({','.join(columns)}) VALUES ({','.join('?' * len(columns))})",
               [person[c] for c in columns])


