"""What the bureau's corrections (roster/corrections.py) hold against later submissions, during
a merge (roster/merge.py): a corrected field keeps its value, a key merged into another sends
its rows there, a withdrawn person stays withdrawn. What a township's row said otherwise is not
applied but noted: in the file's notes (the run's warnings, 汇总报告) and as an audit row of kind
`conflict` (a value kept against the row's) or `resubmitted` (a withdrawn person sent again),
which the summary's 人工更正 section lists.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import date

from pipeline.model import rows_text
from pipeline.roster import audit
from pipeline.roster.store import loads
from pipeline.rules import results, spec

IDENTITY_FIELDS = ("township", "village", "name", "id_number")
OUTCOME_FIELDS = ("result", "remark", "investigation")  # what 办理结果 is read with
PRIVATE_FIELDS = ("name", "id_number", "phone")  # their values are not repeated in notes (汇总报告 masks names)


def field_label(key: str) -> str:
    """A form field as corrections name it: its header without the bracketed examples, and 办理结果,
    调查情况 without the 乡镇（街道） in front ("乡镇报来的办理结果…")."""
    label = spec.short_label(spec.form().column(key).header)
    return label.removeprefix("乡镇（街道）") or label


def change_text(row: dict, show=str) -> str:
    """What an audit row (roster/audit.py) changed, in a sentence; `show` masks a private value."""
    field = row["field"]
    old = show(row["old"]) if row["old"] else "（空）"
    new = show(row["new"]) if row["new"] else "（空）"
    if row["kind"] == "resubmitted":
        return "已撤回的对象再次报送，只作为历史保存，仍不计入"
    if row["kind"] == "conflict":
        return f"乡镇报来的{field_label(field)}「{old}」与人工更正的「{new}」不同，保留更正"
    if field:
        hidden = "（打码后看不出差别；完整内容用 jiuzhu find 查看，或 jiuzhu report --no-mask）" \
            if old == new and row["old"] != row["new"] else ""
        return f"{field_label(field)}：「{old}」→「{new}」{hidden}"
    return f"{row['old'] or ''} → {row['new'] or ''}"


def has_tables(db: sqlite3.Connection) -> bool:
    """Whether the store has the corrections tables (a store not yet migrated to version 5 has none)."""
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'overrides'").fetchone() is not None


@dataclass
class Fixes:
    """The corrections that stand, loaded once per merge; `said` gathers what rows contradicted."""

    values: dict[str, dict[str, str | None]] = field(default_factory=dict)  # key → field → value
    aliases: dict[str, str] = field(default_factory=dict)  # a merged key → the key it was merged into
    withdrawn: set[str] = field(default_factory=set)
    said: list[tuple] = field(default_factory=list)  # (key, field, submitted, kept, sheet, row)

    @classmethod
    def load(cls, db: sqlite3.Connection) -> Fixes:
        fixes = cls()
        if not has_tables(db):
            return fixes
        for key, name, value in db.execute("SELECT person_key, field, value FROM overrides"):
            fixes.values.setdefault(key, {})[name] = value
        fixes.aliases = dict(db.execute("SELECT alias, person_key FROM aliases").fetchall())
        fixes.withdrawn = {r[0] for r in db.execute("SELECT person_key FROM withdrawn")}
        return fixes

    def holds(self, key: str | None) -> bool:
        return key is not None and (key in self.values or key in self.withdrawn)

    def hold(self, key: str, old: dict, data: dict, outcome: tuple, where: tuple, as_of: date) -> tuple[dict, tuple]:
        """The row's values with the corrected ones standing, and the outcome read from them.
        `outcome` is the row's (status, result_date, programme, referral); `where` its (sheet, row)."""
        if key in self.withdrawn:
            self.said.append((key, None, None, None, *where))
        fixed = self.values.get(key, {})
        if not fixed:
            return data, outcome
        data = dict(data)
        for name, value in fixed.items():
            if data.get(name) is not None and data[name] != value:
                self.said.append((key, name, data[name], value, *where))
            data[name] = value
        if set(OUTCOME_FIELDS) & fixed.keys():
            record = loads(old["data"])
            texts = {k: data[k] if data.get(k) is not None else record.get(k) for k in OUTCOME_FIELDS}
            read = results.parse_result(texts["result"], remark=texts["remark"],
                                        investigation=texts["investigation"], as_of=as_of)
            data.update({k: v for k, v in texts.items() if data.get(k) is None and k not in fixed})
            kept = date.fromisoformat(old["result_date"]) if old["result_date"] else None
            outcome = ((old["status"], kept, old["programme"], old["referral"]) if read.problem
                       else (read.status, read.date, read.programme, read.referral))
        return data, outcome

    def save(self, db: sqlite3.Connection, report, submission_id: int, as_of: date) -> None:
        """Record what the file's rows contradicted (audit rows) and tell it in the file's notes."""
        if not self.said:
            return
        again, differ = [], []
        for key, name, submitted, kept, sheet, row in self.said:
            if name is None:
                again.append(row)
                audit.record(db, "resubmitted", key, who=report.township or "乡镇（街道）", why=report.file,
                                   submission_id=submission_id, at=as_of.isoformat())
                continue
            audit.record(db, "conflict", key, who=report.township or "乡镇（街道）", why=report.file,
                               field=name, old=submitted, new=kept, submission_id=submission_id,
                               at=as_of.isoformat())
            shown = "" if name in PRIVATE_FIELDS else f"「{submitted}」"
            kept_shown = "" if name in PRIVATE_FIELDS else f"「{kept}」"
            differ.append(f"第{row}行：乡镇报来的{field_label(name)}{shown}与人工更正的{kept_shown}不同，保留更正")
        if differ:
            report.notes.append("；".join(differ) + "。如乡镇（街道）报来的才是对的，请核实后用 jiuzhu correct 重新更正。")
        if again:
            report.notes.append(f"第{rows_text(sorted(set(again)))}行的对象已由区民政局撤回（报错的对象），这次报送的内容作为历史保存，"
                                "仍不计入统计；如确属应当计入的对象，请核实后用 jiuzhu withdraw --restore 恢复。")
        self.said.clear()
