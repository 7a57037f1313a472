"""Read 乡镇（街道）办理结果 — free text — into an outcome, a programme and a date.

The accepted phrasings are data in schemas/results.yaml, whose header explains how a
result is read; this module only applies them. Anything it cannot place is reported as
an inconsistent_result problem, never guessed. Dates inside the text are found by
rules/dates.py, which every date cell uses too.

Results repeat a lot across a 10,000-row file, so the text part of each reading is cached
and the per-row work is a dictionary hit plus the checks that depend on the row.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache, lru_cache

from pipeline.errors import SpecError
from pipeline.rules import spec
from pipeline.rules.dates import EARLIEST_DATE, DateLike, date_likes
from pipeline.tools.chinese import cn_date


@dataclass(frozen=True)
class Outcome:
    """What a 办理结果 says.

    status: new_assisted | observation | closed | pending ("pending" also when the text
    could not be classified; then problem_code is set). programme: canonical programme
    (城乡低保, 特困供养, 临时救助, …, 低收入人口动态监测) or "转介". date: the date found in
    the text (the 纳入 date for new_assisted). referral: the department of a 转介.
    problem_code: None, "inconsistent_result" or "invalid_date"; problem: the Chinese
    message(s), joined with ；, that say what to do.
    """

    status: str
    programme: str | None
    date: date | None
    referral: str | None
    problem_code: str | None
    problem: str | None


# --- the phrasings from schemas/results.yaml ----------------------------------------

_BREAKS = frozenset(",;。!?:|")  # clause breaks after NFKC (，；：！？ fold to these)
_CLAUSE_END = re.compile(r"[,;。!?:|]")
_IN_CLAUSE_DATE = "\ue000"  # a masked date that ends no clause (neither \s nor a break)


def _key(text) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text)))


@dataclass(frozen=True)
class _Rules:
    keywords: re.Pattern
    # keyword -> pending | not_eligible | ended | observation | assist | referral | programme
    kind_of: dict[str, str]
    programme_of: dict[str, str]  # spelling -> canonical programme
    stop: re.Pattern
    trailing: re.Pattern
    bare_rest: re.Pattern
    blank: frozenset[str]
    referral_programme: str
    date_optional: frozenset[str]
    no_hardship_values: frozenset[str]
    no_hardship: re.Pattern


def _alternation(words, suffix: str = "") -> re.Pattern:
    ordered = sorted({w for w in words if w}, key=len, reverse=True)
    return re.compile("(?:" + "|".join(map(re.escape, ordered)) + ")" + suffix)


@cache
def _rules() -> _Rules:
    raw = spec.load_yaml("results.yaml")
    try:
        kind_of: dict[str, str] = {}
        programme_of: dict[str, str] = {}

        def add(word, kind: str) -> None:
            key = _key(word)
            if kind_of.get(key, kind) != kind:
                raise SpecError(f"schemas/results.yaml：「{key}」同时出现在 {kind_of[key]} 和 {kind} 中")
            kind_of[key] = kind

        for kind in ("pending", "applied", "not_eligible", "ended", "observation", "assist"):
            for word in raw[kind]:
                add(word, kind)
        for canonical, spellings in raw["programmes"].items():
            for spelling in (canonical, *(spellings or ())):
                add(spelling, "programme")
                programme_of[_key(spelling)] = canonical
        referral = raw["referral"]
        for verb in referral["verbs"]:
            add(verb, "referral")
            for particle in referral["particles"]:
                add(f"{verb}{particle}", "referral")
        bare = _key(referral["bare_verb"])
        add(bare, "referral")
        # Longest first, so that at one position 纳入观察 wins over 纳入. The bare verb (转)
        # only counts right before a department (转区医保局), not in 病情好转.
        before = "|".join(map(re.escape, referral["bare_before"]))
        words = _alternation(w for w in kind_of if w != bare).pattern
        keywords = re.compile(f"{words}|{re.escape(bare)}(?={before})")
        remark = raw["remark"]
        return _Rules(
            keywords=keywords,
            kind_of=kind_of,
            programme_of=programme_of,
            stop=_alternation(map(_key, raw["not_eligible_stop"])),
            trailing=_alternation([*programme_of, *map(_key, referral["trailing"]), "(", ")", "、"], "$"),
            bare_rest=re.compile(_alternation(map(_key, raw["bare_fillers"])).pattern
                                 + r"|[\d.,;。!?:|、()\[\]【】\"'“”‘’+\-\ue000]"),
            blank=frozenset(_key(w) for w in raw["blank"]),
            referral_programme=raw["referral_programme"],
            date_optional=frozenset(raw["date_optional"]),
            no_hardship_values=frozenset(_key(w) for w in remark["no_hardship_values"]),
            no_hardship=_alternation(map(_key, remark["no_hardship_phrases"])),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise SpecError(f"schemas/results.yaml 格式有误：{exc!r}") from exc


def rules_check() -> None:
    """Read schemas/results.yaml (spec.check_all)."""
    _rules()


_PUNCT = "。.,;:!?、()\"'“”‘’"


@lru_cache(maxsize=65536)
def _is_blank(text: str | None) -> bool:
    if text is None:
        return True
    if len(text.strip()) > 12:  # far longer than any blank word: skip the folding
        return False
    key = _key(text)
    return not key.strip(_PUNCT) or key in _rules().blank or key.strip(_PUNCT) in _rules().blank


# --- reading a result ---------------------------------------------------------------

_EXAMPLE = "如：纳入城乡低保，2026年11月20日"
# What looks like a date that find_date could not read: digits or numerals with 年/月/日 or separators.
_DATE_ISH = re.compile(r"[0-9〇零一二三四五六七八九十]+(?:[年月日号/.。-][0-9〇零一二三四五六七八九十]*){2,}日?")


def _unreadable(text: str) -> str:
    shown = text if len(text) <= 40 else text[:40] + "…"
    return (f"无法识别办理结果「{shown}」，请按‘纳入城乡低保，2026年11月20日’‘不符合救助条件’"
            "‘不符合救助条件，列入观察’等写法填写；还在办理的写‘已上报，审批中’或留空")


def _date_problem(like: DateLike, label: str) -> tuple[str, str]:
    messages = {
        "invalid": f"{label}「{like.text}」不是有效日期，请填写真实日期，{_EXAMPLE}",
        "month_only": f"{label}「{like.text}」只写到月份，请写明具体日期（年月日），{_EXAMPLE}",
        "short_year": f"{label}「{like.text}」年份不完整，请写4位年份，{_EXAMPLE}",
        "no_year": f"{label}「{like.text}」缺少年份，请写完整日期，{_EXAMPLE}",
    }
    return "invalid_date", messages[like.kind]


@dataclass(frozen=True, eq=False)  # hashed by identity: _read hands out one object per text
class _Reading:
    """The row-independent part of an Outcome."""

    status: str
    programme: str | None = None
    date: date | None = None
    referral: str | None = None
    problems: tuple[tuple[str, str], ...] = ()
    filled: bool = False  # a result was given: the investigation must be there too
    remark_decides: bool = False  # closed by a not_eligible phrase: 备注 may make it observation


@dataclass(frozen=True)
class _Hit:
    kind: str
    word: str
    start: int
    end: int  # end of the stretch the keyword covers


def _scan(text: str) -> list[_Hit]:
    """The keywords of a masked text, left to right, each with the stretch it covers."""
    rules = _rules()
    hits: list[_Hit] = []
    pos = 0
    while m := rules.keywords.search(text, pos):
        word, start, end = m.group(), m.start(), m.end()
        kind = rules.kind_of[word]
        clause_end = (c.start() if (c := _CLAUSE_END.search(text, end)) else len(text))
        if kind == "applied":
            if _decided_after(text, end, clause_end):
                pos = end  # 申请低保未通过: a step on the way to the decision written after it
                continue
            kind = "pending"
        if kind == "pending":
            # The whole clause is pending: 纳入低保审批中 is not yet 纳入低保.
            while start > 0 and text[start - 1] not in _BREAKS:
                start -= 1
            while hits and hits[-1].start >= start:
                hits.pop()
            end = clause_end
        elif kind == "not_eligible":
            stop = rules.stop.search(text, end, clause_end)
            end = stop.end() if stop else clause_end
        elif kind == "referral":
            end = clause_end
        hits.append(_Hit(kind, word, start, end))
        pos = max(end, m.end())
    return hits


_DECISIONS = frozenset({"not_eligible", "observation"})
_LATER_DECISIONS = frozenset({"assist", "not_eligible", "observation", "ended"})


def _decided_after(text: str, end: int, clause_end: int) -> bool:
    """Whether the text after an `applied` keyword records the decision: a not_eligible or
    observation phrase in the rest of its clause (申请特困供养未获批准, 建议列入观察), or
    any decision in a later clause (已申请临时救助，2026.11.25已发放2000元)."""
    rest = text[end:]
    clause = clause_end - end
    return any(h.kind in (_DECISIONS if h.start < clause else _LATER_DECISIONS) for h in _scan(rest))


def _department(text: str, hit: _Hit) -> str | None:
    """区医保局 from 转介区医保局医疗救助."""
    rest = text[hit.start + len(hit.word):hit.end]
    trailing = _rules().trailing
    while (shorter := trailing.sub("", rest)) != rest:
        rest = shorter
    return rest or None


def _is_bare(text: str, hits: list[_Hit]) -> bool:
    """Nothing but programmes, dates (masked), amounts and fillers: 城乡低保 2022.11.20."""
    rest = text
    for hit in reversed(hits):
        rest = rest[:hit.start] + rest[hit.end:]
    return not _rules().bare_rest.sub("", rest)


def _granted_elsewhere(text: str, hits: list[_Hit]) -> str | None:
    """不符合低保条件，临时救助500元: not eligible for one programme and brought into another
    in a clause of its own. The keyword of that programme when every clause is either a
    not_eligible one or a bare programme (see _is_bare); else None."""
    granted = None
    start = 0
    for end in [*(m.start() for m in _CLAUSE_END.finditer(text)), len(text)]:
        inside = [h for h in hits if start <= h.start < end]
        clause, start = text[start:end], end + 1
        if any(h.kind == "not_eligible" for h in inside):
            continue
        if any(h.kind != "programme" for h in inside):
            return None
        offset = end - len(clause)
        shifted = [_Hit(h.kind, h.word, h.start - offset, min(h.end, end) - offset) for h in inside]
        if not _is_bare(clause, shifted):
            return None
        granted = granted or (inside[0].word if inside else None)
    return granted


@lru_cache(maxsize=65536)
def _read(result: str) -> _Reading:
    rules = _rules()
    text = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", result)).strip()
    if _is_blank(text):
        return _Reading("pending")
    likes = date_likes(text)
    masked = text
    for like in reversed(likes):  # dates and spaces become clause breaks: 不符合救助条件 列入观察
        after_yu = masked[:like.start].endswith("于")  # but 拟于2026年11月25日纳入低保 is one clause
        masked = masked[:like.start] + (_IN_CLAUSE_DATE if after_yu else "|") + masked[like.end:]
    masked = re.sub(r"\s+", "|", masked)
    hits = _scan(masked)
    kinds = {hit.kind for hit in hits}
    programmes = [rules.programme_of[h.word] for h in hits if h.kind == "programme"]
    referrals = [h for h in hits if h.kind == "referral"]
    first = likes[0] if likes else None
    dated = first is not None and first.kind == "date"

    bare = kinds == {"programme"} and _is_bare(masked, hits)
    brought_in = bool(programmes) and ("assist" in kinds or bare)
    granted = None
    if not brought_in and kinds == {"programme", "not_eligible"}:
        granted = _granted_elsewhere(masked, hits)
        brought_in = granted is not None
    if "ended" in kinds:
        problems = (_date_problem(first, "日期"),) if first is not None and not dated else ()
        return _Reading("closed", None, first.value if dated else None, None, problems, filled=True)
    if referrals or brought_in and ("pending" not in kinds or dated):
        # A referral names the programme the other department gives (转介至区教委，办理教育救助):
        # that programme is theirs to date, so the row is a 转介 and needs no 纳入时间.
        programme = (rules.referral_programme if referrals
                     else rules.programme_of[granted] if granted else programmes[0])
        referral = _department(masked, referrals[0]) if referrals else None
        problems = []
        if first is not None and not dated:
            problems.append(_date_problem(first, "纳入时间"))
        elif first is None and programme not in rules.date_optional:
            written = _DATE_ISH.search(text)  # 二〇二六年十一月三日, 11/20/2026: a date, but not one we read
            problems.append(("invalid_date", f"纳入时间「{written[0]}」无法识别，请写成年月日，{_EXAMPLE}") if written
                            else ("inconsistent_result", f"纳入救助须写明纳入时间，{_EXAMPLE}"))
        return _Reading("new_assisted", programme, first.value if dated else None, referral,
                        tuple(problems), filled=True)
    if "pending" in kinds:
        return _Reading("pending")
    if kinds & {"observation", "not_eligible", "ended"}:
        status = "observation" if "observation" in kinds else "closed"
        problems = (_date_problem(first, "日期"),) if first is not None and not dated else ()
        remark_decides = status == "closed" and "not_eligible" in kinds
        return _Reading(status, None, first.value if dated else None, None, problems,
                        filled=True, remark_decides=remark_decides)
    return _Reading("pending", problems=(("inconsistent_result", _unreadable(text)),), filled=True)


@lru_cache(maxsize=65536)
def _states_hardship(remark: str | None) -> bool:
    """Whether a 备注 on a 不符合 row states a difficulty (rule in results.yaml, `remark`)."""
    if remark is None:
        return False
    rules = _rules()
    key = _key(remark).strip(_PUNCT)
    if not key or key in rules.no_hardship_values:
        return False
    return not rules.no_hardship.search(key)


def parse_result(result: str | None, *, remark: str | None = None, investigation: str | None = None,
                 as_of: date | None = None) -> Outcome:
    """Read one 办理结果 cell, with the row's 备注 and 调查情况 and the run date.

    Problems found (joined in `problem`, the first one's code in `problem_code`): a text
    that matches no phrasing in schemas/results.yaml; a date-like text that is not a date
    (invalid_date); 纳入 without a date; a date after `as_of`; a result given while the
    investigation is empty (None or blank counts as empty, so pass the row's value).

    Example: parse_result("纳入城乡低保，2022年11月20日", investigation="已入户核实")
             → Outcome("new_assisted", "城乡低保", date(2022, 11, 20), None, None, None)
    """
    text = "" if result is None else result if isinstance(result, str) else str(result)
    reading = _read(text)
    hardship = reading.remark_decides and _states_hardship(remark)
    no_investigation = reading.filled and _is_blank(investigation)
    if isinstance(as_of, datetime):
        as_of = as_of.date()
    late = as_of is not None and reading.date is not None and reading.date > as_of
    return _outcome(reading, hardship, no_investigation, as_of if late else None)


@lru_cache(maxsize=65536)
def _outcome(reading: _Reading, hardship: bool, no_investigation: bool,
             late_as_of: date | None) -> Outcome:
    # Outcomes are frozen, so rows that read the same share one object.
    status = "observation" if hardship else reading.status
    problems = list(reading.problems)
    if reading.date is not None and reading.date < EARLIEST_DATE:  # 1900年1月1日: a year typed wrong
        label = "纳入时间" if status == "new_assisted" else "办理结果中的日期"
        problems.insert(0, ("invalid_date", f"{label}{cn_date(reading.date)}早于{EARLIEST_DATE.year}年，请核对年份，{_EXAMPLE}"))
    if late_as_of is not None:
        label = "纳入时间" if status == "new_assisted" else "办理结果中的日期"
        problems.append(("inconsistent_result",
                         f"{label}{cn_date(reading.date)}晚于{cn_date(late_as_of)}（本次检查或汇总的日期），请核对年份和月份；"
                         "还没有办结的，办理结果写‘已上报，审批中’或留空"))
    if no_investigation:
        problems.append(("inconsistent_result", "已填写办理结果但调查情况为空，请补填乡镇（街道）调查情况"))
    return Outcome(status, reading.programme, reading.date, reading.referral,
                   problems[0][0] if problems else None,
                   "；".join(message for _, message in problems) or None)


def with_record_remark(status: str, row: dict, record: dict, as_of: date) -> str:
    """A row's status once merged into its record: 不符合 read from a row with no 备注 of its own
    becomes 救助观察群众 when the record's 备注 (kept from an earlier row) states hardship."""
    if status == "closed" and not row["remark"] and record.get("remark"):
        return parse_result(row["result"], remark=record["remark"], as_of=as_of,
                            investigation=record.get("investigation")).status
    return status
