"""Merge checked submissions into the district roster (docs/design.md §3).

Identity is the ID number when the row has one, else township + village + name; always
within one township, so that the same person reported by two townships stays two records
and is listed as a possible duplicate. A later row about a person updates the record
(non-empty values win), and every submitted version is kept. "Later" is by 填报日期: a
file filled in before the one that last updated a person (an e-mail that arrived late)
is kept as history of that person and only gives what the record lacks (its blanks, a
decision where the record has no 办理结果), as if it had come in order. A file filled in on
the same day as that one is its corrected re-send and supersedes its rows: what it leaves
blank of 调查情况, 办理结果 and 备注 is blank again, and its 发现日期 stands.
"""

from __future__ import annotations

import operator
import re
import sqlite3
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from pipeline.model import FileReport, rows_text
from pipeline.roster.overrides import IDENTITY_FIELDS, Fixes
from pipeline.roster.store import dumps, loads
from pipeline.rules import identity, results, spec

FORM_KEYS = [c.key for c in spec.form().columns]
CORRECTED_BLANK = ("investigation", "result", "remark")  # a corrected row's blanks here clear the record's
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
SHARED_FIELDS = ("township", "village", "discovered")  # of the form: few values, kept by every record
REBUILD_INDEXES_AT = 20_000  # persons changed in one run; see save_roster
PERSON_COLUMNS = ["key", "township", "village", "name", "id_number", "data", "status", "programme",
                  "result_date", "referral", "discovered", "first_seen", "updated", "key_since",
                  "decided_on", "submission_id", "sheet", "row"]


def as_text(value) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return str(value)


@dataclass
class Roster:
    """The persons of the store in memory during a merge, with the look-ups identity needs."""

    persons: dict[str, dict] = field(default_factory=dict)
    by_id: dict[tuple[str, str], str] = field(default_factory=dict)
    by_name: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    changed: set[str] = field(default_factory=set)
    filled: dict[int, str | None] = field(default_factory=dict)  # submission id → 填报日期 (ISO)
    # (township, name) → the run date that first saw a row of theirs, rejected and not yet resolved
    rejected_on: dict[tuple[str, str], str] = field(default_factory=dict)
    fixes: Fixes = field(default_factory=Fixes)  # the bureau's corrections (roster/overrides.py)
    # One object for each repeated value of the merged rows (a township, village, date, row
    # number): 300,000 people held each as their own copy, some 60 MB.
    shared: dict = field(default_factory=dict)

    @classmethod
    def load(cls, db: sqlite3.Connection) -> Roster:
        """Every person of the store, each record's text (`data`, the largest column) left there
        until a row meets the person (IN_STORE): a week's rows meet a few hundred of a year's
        20,000 people, whose texts are some 19 MB."""
        roster = cls()
        columns = [r[1] for r in db.execute("PRAGMA table_info(persons)") if r[1] != "data"]
        for row in db.execute(f"SELECT {', '.join(columns)} FROM persons"):
            person = dict(row)
            person["data"] = IN_STORE
            roster.add(person)
        roster.filled = {r[0]: r[1] for r in db.execute("SELECT id, filled_date FROM submissions")}
        roster.rejected_on = {(r[0], r[1]): r[2] for r in db.execute(
            "SELECT r.township, r.name, min(s.received) FROM rejected_rows r JOIN submissions s "
            "ON s.id = r.submission_id WHERE r.resolved_by IS NULL AND r.name IS NOT NULL GROUP BY 1, 2")}
        roster.fixes = Fixes.load(db)
        return roster

    def merged_into(self, township: str, village: str | None, name: str, id_number: str | None) -> str | None:
        """The person a row is about when find does not know it: its key was merged into theirs
        (jiuzhu merge), or is theirs under a name or number the bureau corrected (jiuzhu correct)."""
        own = identity.person_key(township, village, name, id_number)  # a person renamed keeps their key
        key = self.fixes.aliases.get(own, own)
        return key if key in self.persons else None

    def newer_than(self, filled: str | None, person: dict) -> bool:
        """Whether the file that last updated `person` was filled in after `filled`."""
        last = self.filled.get(person["submission_id"])
        return bool(filled and last and _ISO_DATE.fullmatch(filled) and _ISO_DATE.fullmatch(last)
                    and filled < last)

    def corrects(self, filled: str | None, person: dict) -> bool:
        """Whether a file filled in on `filled` re-sends, corrected, the one that last updated `person`."""
        return bool(filled and _ISO_DATE.fullmatch(filled) and self.filled.get(person["submission_id"]) == filled)

    def add(self, person: dict) -> None:
        key = person["key"]
        self.persons[key] = person
        if person["id_number"]:
            self.by_id[(person["township"], person["id_number"])] = key
        names = self.by_name.get((person["township"], person["name"]), ())
        if key not in names:  # a tuple: most names are one person's, and a tuple is half a list
            self.by_name[(person["township"], person["name"])] = (*names, key)

    def find(self, township: str, village: str | None, name: str, id_number: str | None) -> str | None:
        """The key of the person a row is about, or None for someone new."""
        if id_number and (township, id_number) in self.by_id:
            return self.by_id[(township, id_number)]
        candidates = [self.persons[k] for k in self.by_name.get((township, name), [])]
        if id_number:  # a record with another ID number is another person of the same name
            candidates = [p for p in candidates if not p["id_number"]]
        if village:
            candidates = [p for p in candidates if not p["village"] or p["village"] == village]
        return candidates[0]["key"] if len(candidates) == 1 else None

    def corrected_id(self, township: str, village: str | None, name: str, filled: str | None,
                     ids_in_file: set) -> str | None:
        """The person whose ID number a corrected re-send changes (a digit typed wrong, still a valid
        number): the one of that township and name (and village) behind the file it corrects, whose
        number the re-send no longer gives. The person keeps their key, so visits stay theirs."""
        candidates = [p for k in self.by_name.get((township, name), []) if (p := self.persons[k])["id_number"]
                      and p["id_number"] not in ids_in_file and self.corrects(filled, p)
                      and (not village or not p["village"] or p["village"] == village)]
        return candidates[0]["key"] if len(candidates) == 1 else None


def _key_since(old: dict | None, status: str, discovered: str, result_date: str | None, as_of: date,
               corrects: bool = False) -> str | None:
    """When a person joined the key population (pending + observation), or None outside it.
    A corrected re-send that takes back a decision leaves the case pending since discovery:
    the decision it supersedes never held."""
    if status not in spec.KEY_STATUSES:
        return None
    if old is None or (corrects and status == "pending"):
        return discovered
    if old["status"] in spec.KEY_STATUSES and old["key_since"]:
        return old["key_since"]
    return result_date or as_of.isoformat()


def _decided_on(old: dict | None, status: str, reported: str, corrects: bool = False) -> str | None:
    """When the current decision was reported: kept while a re-sent row repeats it, `reported`
    (the file's 填报日期, else the run) when it is new. None while pending. A record from before
    this was kept has only the date it was last updated."""
    if status == "pending":
        return None
    if old is not None and not corrects and old["status"] == status:
        return old.get("decided_on") or old["updated"]
    return reported


def _column(records: pd.DataFrame, key: str) -> list:
    if key not in records:
        return [None] * len(records)
    return [v if v is None or v.__class__ is str else as_text(v) for v in records[key].tolist()]


def _shared(roster: Roster, values: list) -> list:
    """`values` with each text and whole number replaced by the roster's one copy of it."""
    share = roster.shared.setdefault
    return [share(v, v) if v.__class__ is str or v.__class__ is int else v for v in values]


IN_STORE = -1  # a person's `data` not yet read: the text is the one in the persons table


def _stored(db: sqlite3.Connection, version: int, versions: list, base: int, key: str) -> str:
    """The text of a version: one of this file's (after `base`, not yet written), or one in the store;
    IN_STORE: the person's record as the persons table holds it."""
    if version == IN_STORE:
        return db.execute("SELECT data FROM persons WHERE key = ?", (key,)).fetchone()[0]
    if version > base:
        return versions[version - base - 1][4]
    return db.execute("SELECT data FROM versions WHERE id = ?", (version,)).fetchone()[0]


def apply_rows(db: sqlite3.Connection, roster: Roster, report: FileReport, submission_id: int,
               as_of: date) -> None:
    """Upsert the accepted rows of one file into the roster and keep every version."""
    records = report.records
    if records is None or records.empty:
        return
    today = as_of.isoformat()
    filled = report.filled_on
    roster.filled[submission_id] = filled
    reported = filled if filled and filled <= today else today
    versions, older, completed, moved, renumbered = [], 0, 0, [], []
    ids_in_file = set(records["id_number"].dropna()) if "id_number" in records else set()
    # A row's form fields, column by column; those a person's record keeps, shared.
    form = zip(*(_shared(roster, _column(records, k)) if k in SHARED_FIELDS else _column(records, k)
                 for k in FORM_KEYS))
    rest = zip(records["status"].tolist(), records["result_date"].tolist(),
               *(_shared(roster, records[k].tolist()) for k in ("programme", "referral", "_sheet", "_row")))
    # This file's versions are written at its end, numbered on from the store's last: a new
    # person's record is their first version word for word, so it is kept there (as its id)
    # rather than in memory twice, and read back when the roster is saved.
    base = db.execute("SELECT coalesce(max(id), 0) FROM versions").fetchone()[0]
    for values, (status, result_date, programme, referral, sheet, row) in zip(form, rest):
        data = dict(zip(FORM_KEYS, values))
        township, name, village, id_number = data["township"], data["name"], data["village"], data["id_number"]
        key = roster.find(township, village, name, id_number)
        if key is None and id_number and not report.returned and \
                (key := roster.corrected_id(township, village, name, filled, ids_in_file)):
            renumbered.append(int(row))
        text = dumps(data)  # the version as the township sent it
        if key is None and (key := roster.merged_into(township, village, name, id_number)):
            # a row about a key merged into another person: theirs are the name and number
            data.update({k: roster.persons[key][k] for k in IDENTITY_FIELDS if k not in roster.fixes.values.get(key, {})})
            township, name = data["township"], data["name"]
        old = roster.persons.get(key) if key else None
        if old is not None and old["data"].__class__ is int:  # not read yet, or new in this run and met again
            old["data"] = _stored(db, old["data"], versions, base, old["key"])
        if old is not None and roster.fixes.holds(key):  # corrected fields stand against the row
            data, (status, result_date, programme, referral) = roster.fixes.hold(
                key, old, data, (status, result_date, programme, referral), (sheet, int(row)), as_of)
            township, name = data["township"], data["name"]
        if old is not None and roster.newer_than(filled, old):
            versions.append((key, submission_id, sheet, int(row), text))
            older += 1
            if _fill_from_late_row(roster, old, data, (status, result_date, programme, referral), as_of, reported):
                completed += 1
            continue
        # A corrected re-send (same 填报日期 as the file behind the record) supersedes that
        # file's row: what it leaves blank of the case is blank, its 发现日期 is the date.
        # A 退回意见 workbook sent back holds only the rows that were rejected: it corrects those,
        # which never reached the roster, and takes nothing back from the people already on it.
        corrects = old is not None and not report.returned and roster.corrects(filled, old)
        if old is not None:
            earlier = loads(old["data"])
            if corrects:
                earlier.update({k: data[k] for k in CORRECTED_BLANK})
            merged = {**earlier, **{k: v for k, v in data.items() if v is not None}}
            merged_text = dumps(merged)
        else:
            merged, merged_text = data, text
            key = identity.person_key(township, village, name, id_number)
        # Without a 发现日期, a person is discovered when a run first saw them, be it in a row
        # that was sent back for correction.
        discovered = ((old or {}).get("discovered") or data["discovered"]
                      or roster.rejected_on.get((township, name)) or today)
        if data["discovered"] and (old is None or corrects or data["discovered"] < discovered):
            discovered = data["discovered"]
        elif data["discovered"] and data["discovered"] > discovered:
            moved.append(int(row))  # the earlier date stands: the clock is not reset by a later one
        result_date = roster.shared.setdefault(iso := result_date.isoformat(), iso) if result_date else None
        status = results.with_record_remark(status, data, merged, as_of)
        if old is not None and not data["result"] and not corrects:  # an empty 办理结果 never undoes a decision
            status, result_date = old["status"], old["result_date"]
        decided = data["result"] or old is None or corrects
        person = {
            "key": key, "township": township, "village": merged.get("village"), "name": name,
            "id_number": merged.get("id_number"), "data": merged_text if old is not None else base + len(versions) + 1,
            "status": status,
            "programme": programme if decided else old["programme"],
            "result_date": result_date,
            "referral": referral if decided else old["referral"],
            "discovered": discovered, "first_seen": (old or {}).get("first_seen") or today,
            "updated": today, "key_since": _key_since(old, status, discovered, result_date, as_of, corrects),
            "decided_on": _decided_on(old, status, reported, corrects),
            "submission_id": submission_id, "sheet": sheet, "row": int(row),
        }
        if old is not None and old["key"] != key:
            roster.persons.pop(old["key"])
        roster.add(person)
        roster.changed.add(key)
        versions.append((key, submission_id, sheet, int(row), text))
    db.executemany("INSERT INTO versions (person_key, submission_id, sheet, row, data) VALUES (?,?,?,?,?)",
                   versions)
    roster.fixes.save(db, report, submission_id, as_of)
    if older:
        kept = (f"这些行作为历史保存，只补上了其中 {completed} 人较新记录中空着的内容，" if completed
                else "这些行只作为历史保存，")
        report.notes.append(f"本文件填报日期为 {filled}，其中 {older} 人在库中已有更晚填报的记录：{kept}没有覆盖较新的信息。")
    if renumbered:
        report.notes.append(f"第{rows_text(renumbered)}行 {len(renumbered)} 人的身份证号码与所改正的原文件不同，已按改正后的号码更新同一人的记录"
                            "（原号码不再使用）。")
    if moved:
        # Rows, not names: the notes are printed in 汇总报告 too, where names are masked.
        report.notes.append(f"第{rows_text(moved)}行 {len(moved)} 人的发现日期比之前报送的晚，仍按之前的发现日期计算办理时限和超期；"
                            "如果之前的日期是填错的，请乡镇（街道）核实后告知区民政局更正。")
    # A row sent back is kept under its own township, or the file's when its own was no township:
    # a corrected row resolves it under either.
    by_township: dict[str, set[str]] = {}
    for township, name in zip(records["township"].tolist(), records["name"].tolist()):
        for where in {township, report.township}:
            by_township.setdefault(where, set()).add(name)
    db.executemany("UPDATE rejected_rows SET resolved_by = ? WHERE resolved_by IS NULL AND township = ? AND name IN "
                   "(SELECT value FROM json_each(?))",
                   [(submission_id, township, dumps(sorted(names))) for township, names in sorted(by_township.items(),
                                                                                             key=lambda kv: str(kv[0]))])
    _resolve_nameless(db, records, report.township, submission_id)


def _resolve_nameless(db: sqlite3.Connection, records: pd.DataFrame, file_township: str | None,
                      submission_id: int) -> None:
    """A row sent back because its name was blank has no name to be found by: the corrected row
    resolves it when it has the same ID number, or the same 家庭基本情况 word for word."""
    open_rows = db.execute("SELECT id, township, data FROM rejected_rows WHERE resolved_by IS NULL AND name IS NULL "
                           "AND township IN (SELECT value FROM json_each(?))",
                           (dumps(sorted({*map(str, records["township"].tolist()), str(file_township)})),)).fetchall()
    if not open_rows:
        return
    ids, households = set(), set()
    ids_column = records["id_number"].tolist() if "id_number" in records else [None] * len(records)
    for township, id_number, household in zip(records["township"].tolist(), ids_column, records["household"].tolist()):
        for where in {township, file_township}:
            if id_number:
                ids.add((where, str(id_number)))
            if household and str(household).strip():
                households.add((where, _squeezed(household)))
    resolved = []
    for row_id, township, text in open_rows:
        data = loads(text)
        typed_id = _squeezed(data.get("id_number") or "").upper()
        if (typed_id and (township, typed_id) in ids) or (
                data.get("household") and (township, _squeezed(data["household"])) in households):
            resolved.append((submission_id, row_id))
    db.executemany("UPDATE rejected_rows SET resolved_by = ? WHERE id = ?", resolved)


def _squeezed(text) -> str:
    return "".join(str(text).split())


def _fill_from_late_row(roster: Roster, old: dict, data: dict, outcome: tuple, as_of: date, reported: str) -> bool:
    """A row filled in before the file behind the record (an e-mail that came late) gives
    what the record lacks, as if it had come in order: its values where the record's are
    blank, its decision where the record has no 办理结果, its 发现日期 when earlier. Whether
    it changed anything."""
    earlier = loads(old["data"])
    fills = {k: v for k, v in data.items() if v is not None and earlier.get(k) is None}
    discovered = min(filter(None, (old["discovered"], data["discovered"])))
    if not fills and discovered == old["discovered"]:
        return False
    merged = {**earlier, **fills}
    person = {**old, "data": dumps(merged), "discovered": discovered, "updated": as_of.isoformat(),
              "village": merged.get("village"), "id_number": merged.get("id_number")}
    if "result" in fills:
        status, result_date, programme, referral = outcome
        status = results.with_record_remark(status, data, merged, as_of)
        result_date = result_date.isoformat() if result_date else None
        person.update(status=status, programme=programme, result_date=result_date, referral=referral,
                      key_since=_key_since(old, status, discovered, result_date, as_of),
                      decided_on=_decided_on(old, status, reported))
    roster.add(person)
    roster.changed.add(old["key"])
    return True


def save_roster(db: sqlite3.Connection, roster: Roster) -> None:
    """Write the persons a merge changed.

    When most of a large roster changed (a district's first run), the look-up indexes are
    dropped and built again once the rows are in: one sort instead of a scattered insertion
    per person, which took 10 s of a 300,000-person run instead of 4–6 s. A record kept as
    the id of its version (apply_rows) is copied from there.
    """
    fields = operator.itemgetter(*PERSON_COLUMNS)
    changed = sorted(roster.changed)
    # A generator, not a list: on a district's first run the roster is all in memory already.
    rows = (fields(roster.persons[k]) for k in changed)
    rebuild = len(changed) >= REBUILD_INDEXES_AT and 2 * len(changed) >= len(roster.persons)
    indexes = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'persons' "
                         "AND sql IS NOT NULL").fetchall() if rebuild else []
    for name, _ in indexes:
        db.execute(f'DROP INDEX "{name}"')
    placeholders = ",".join(f"CASE typeof(?{n}) WHEN 'integer' THEN (SELECT data FROM versions WHERE id = ?{n}) "
                            f"ELSE ?{n} END" if c == "data" else f"?{n}" for n, c in enumerate(PERSON_COLUMNS, 1))
    db.executemany(f"INSERT OR REPLACE INTO persons ({','.join(PERSON_COLUMNS)}) VALUES ({placeholders})", rows)
    for _, sql in indexes:
        db.execute(sql)


SAME_ID = "同一身份证号，不同乡镇（街道）"
SAME_NAME = "同一乡镇（街道）同名，身份证号不同"


def possible_duplicates(roster: pd.DataFrame) -> pd.DataFrame:
    """Records that may be one person twice, with `reason` and `group` (what they share):
    the same ID number in more than one township; and in one township, the same name under
    different ID numbers, in the same village or where a village is not given (an ID
    corrected in a later week makes a new record; the old one would stay pending for ever).
    Two namesakes in two villages are two people."""
    with_id = roster[roster["id_number"].notna()]
    shared = with_id[with_id["id_number"].duplicated(keep=False)]  # few: grouped below
    counts = shared.groupby("id_number")["township"].nunique()
    by_id = shared[shared["id_number"].isin(counts[counts > 1].index)].sort_values(["id_number", "township"])
    by_id = by_id.assign(reason=SAME_ID, group=by_id["id_number"])
    namesakes = with_id[with_id.duplicated(["township", "name"], keep=False)]
    named = namesakes.groupby(["township", "name"]).agg(ids=("id_number", "nunique"),
                                                        villages=("village", "nunique"))
    twice = named[(named["ids"] > 1) & (named["villages"] <= 1)].index
    by_name = namesakes[pd.MultiIndex.from_frame(namesakes[["township", "name"]]).isin(twice)]
    by_name = by_name.sort_values(["township", "name", "first_seen", "id_number"])
    by_name = by_name.assign(reason=SAME_NAME, group=by_name["township"] + " " + by_name["name"])
    return pd.concat([by_id, by_name], ignore_index=True)
