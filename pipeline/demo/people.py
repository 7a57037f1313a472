"""Fictitious people for the synthetic submissions (Faker zh_CN word lists in synth_text.py):
who they are, what was found, and what the township decided; and their visits."""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass, fields, replace
from datetime import date, timedelta

from pipeline.demo import synth_text as words
from pipeline.demo.synth_text import villages
from pipeline.rules import spec
from pipeline.rules import townships as district  # make_district takes a list called townships
from pipeline.rules.idcard import check_char

AS_OF = date(2026, 11, 28)
OUTCOMES = ("new_assisted", "observation", "closed", "pending")
DEFAULT_MIX = {"new_assisted": 0.35, "observation": 0.2, "closed": 0.15, "pending": 0.3}
IDENTITY_KEYS = ("name", "id_number", "township", "village")


@dataclass(eq=True)
class Person(MutableMapping):
    """One row of the form, keyed like spec.form() (`p["name"]` or `p.name`), plus the
    outcome it was made for. Empty cells are None; dates are `date` objects.

    Example: dict(make_people("城西街道", 1)[0])["township"] → "城西街道"
    """

    seq: int | str | None = None
    method: str | None = None
    finder: str | None = None
    township: str | None = None
    name: str | None = None
    household: str | None = None
    suspected: str | None = None
    investigation: str | None = None
    result: str | None = None
    remark: str | None = None
    id_number: str | float | None = None
    village: str | None = None
    discovered: date | str | None = None
    phone: str | int | None = None
    outcome: str = "pending"

    def __getitem__(self, key: str):
        if key not in _PERSON_KEYS:
            raise KeyError(key)
        return getattr(self, key)

    def __setitem__(self, key: str, value) -> None:
        if key not in _PERSON_KEYS:
            raise KeyError(key)
        setattr(self, key, value)

    def __delitem__(self, key: str) -> None:
        """Deleting a field empties the cell."""
        self[key] = None

    def __iter__(self) -> Iterator[str]:
        return iter(_PERSON_KEYS)

    def __len__(self) -> int:
        return len(_PERSON_KEYS)

    def copy(self) -> Person:
        return replace(self)


_PERSON_KEYS = tuple(f.name for f in fields(Person))


def rng_for(*parts) -> random.Random:
    return random.Random(":".join(map(str, parts)))  # str seeds are hashed with SHA-512: stable


def district_code() -> str:
    return str(spec.load_yaml("townships.yaml")["district"]["code"])


def make_id(rng: random.Random, birth: date, *, male: bool | None = None, region: str | None = None) -> str:
    """A fictitious 18-character ID number (GB 11643) with a valid check character.

    Region defaults to the district (500114 黔江区); the 17th digit is odd for men.
    Example: make_id(random.Random(1), date(1980, 1, 1))[:14] → "50011419800101"
    """
    male = rng.random() < 0.5 if male is None else male
    order = rng.randint(0, 99) * 10 + rng.choice((1, 3, 5, 7, 9) if male else (0, 2, 4, 6, 8))
    order = order or 2  # 000 is never issued
    first17 = f"{region or district_code()}{birth:%Y%m%d}{order:03d}"
    return first17 + check_char(first17)


def _counts(n: int, mix: Mapping[str, float]) -> list[str]:
    """Exactly n outcomes in the shares of `mix` (largest remainder)."""
    unknown = set(mix) - set(OUTCOMES)
    if unknown:
        raise ValueError(f"unknown outcomes in mix: {sorted(unknown)}")
    total = sum(mix.values()) or 1.0
    exact = {k: n * v / total for k, v in mix.items()}
    counts = {k: int(v) for k, v in exact.items()}
    short = n - sum(counts.values())
    for k in sorted(exact, key=lambda k: (counts[k] - exact[k], OUTCOMES.index(k)))[:short]:
        counts[k] += 1
    return [k for k in OUTCOMES for _ in range(counts.get(k, 0))]


def _weighted(rng: random.Random, values, weights):
    weights = list(weights)[: len(values)] + [0.05] * (len(values) - len(weights))
    return rng.choices(values, weights=weights)[0]


def short_form(vocab: spec.Vocabulary, value: str) -> str:
    """The first short form listed for a value in vocabularies.yaml (低保 for 城乡低保)."""
    for spelling, canonical in vocab.forms.items():
        if canonical == value and spelling != spec.fold(value):
            return spelling
    return value


def _suspected(rng: random.Random) -> list[str]:
    values = spec.vocabulary("assistance_types").values
    k = rng.choices((1, 2, 3), weights=(60, 30, 10))[0]
    chosen: list[str] = []
    while len(chosen) < min(k, len(values)):
        value = _weighted(rng, values, (35, 8, 25, 15, 6, 5, 4, 2))
        if value not in chosen:
            chosen.append(value)
    return chosen


def people_of(township: str, n: int, *, seed: int, as_of: date, mix: Mapping[str, float] | None,
            with_ids: bool, taken_ids: set[str]) -> list[Person]:
    if district.canonical(township) != township:
        raise ValueError(f"not a township of the district: {township!r}")
    rng = rng_for("people", seed, township)
    outcomes = _counts(n, mix or DEFAULT_MIX)
    rng.shuffle(outcomes)
    methods = spec.vocabulary("methods").values
    types_vocab = spec.vocabulary("assistance_types")
    places = villages(township)
    names: set[str] = set()
    people = []
    for seq, outcome in enumerate(outcomes, start=1):
        male = rng.random() < 0.5
        name = words.person_name(rng, male, minority_share=0.01)
        while name in names:  # unique per township: without an ID, identity is the name
            name = words.person_name(rng, male, minority_share=0.01)
        names.add(name)
        age = int(rng.triangular(18, 92, 68))
        birth = date(as_of.year - age, 1, 1) + timedelta(days=rng.randint(0, 364))
        id_number = None
        if with_ids:
            id_number = make_id(rng, birth, male=male)
            while id_number in taken_ids:
                id_number = make_id(rng, birth, male=male)
            taken_ids.add(id_number)
        discovered = as_of - timedelta(days=int(rng.triangular(0, 75, 10)))
        method = _weighted(rng, methods, (55, 20, 25))
        finder = words.finder(rng, method)
        types = _suspected(rng)
        shown = [short_form(types_vocab, t) if rng.random() < 0.15 else t for t in types]
        investigation = rng.choice(words.INVESTIGATION[outcome])
        if outcome == "pending" and rng.random() < 0.6:
            investigation = None
        result, remark = words.result(rng, outcome, types, discovered, as_of)
        people.append(Person(
            seq=seq, method=method, finder=finder, township=township, name=name,
            household=words.household(rng, male=male, age=age),
            suspected=("、" if rng.random() < 0.85 else "，").join(shown),
            investigation=investigation, result=result, remark=remark, id_number=id_number,
            village=rng.choice(places), discovered=discovered,
            phone=words.mobile(rng) if rng.random() < 0.85 else None, outcome=outcome))
    return people


def make_people(township: str, n: int, *, seed: int = 0, as_of: date = AS_OF,
                mix: Mapping[str, float] | None = None, with_ids: bool = True) -> list[Person]:
    """n fictitious people of one township, each a valid row of the form.

    `mix` gives the share of each outcome (new_assisted, observation, closed, pending);
    the counts are exact. Names are unique in the township and IDs unique overall.
    Example: [p.outcome for p in make_people("城西街道", 3, mix={"pending": 1})] → ["pending"] * 3
    """
    return people_of(township, n, seed=seed, as_of=as_of, mix=mix, with_ids=with_ids, taken_ids=set())


def make_visits(people: list[Mapping], as_of: date = AS_OF, *, seed: int = 0,
                seen_share: float = 0.8) -> list[dict]:
    """走访记录 rows for the key population (pending and observation) of `people`.

    About 85% of them are visited in as_of's month, a share `seen_share` of those seen in
    person; some also have a visit in the month before. Keys: spec.visits_table().keys.
    Example: {v["seen"] for v in make_visits(make_people("城西街道", 50), date(2026, 11, 28))} → {"是", "否"}
    """
    rng = rng_for("visits", seed)
    yes, no = spec.vocabulary("seen").values[:2]
    month_start = as_of.replace(day=1)
    previous_start = (month_start - timedelta(days=1)).replace(day=1)
    visits = []
    for index, person in enumerate(people):
        if person.get("outcome", "pending") not in ("pending", "observation"):
            continue
        found = person.get("discovered")
        found = found if isinstance(found, date) else month_start
        visitor = rng.choice(words.VISITORS).format(name=words.person_name(rng, rng.random() < 0.5))

        def visit(day: date, seen: bool) -> dict:
            return {"name": person.get("name"), "id_number": person.get("id_number"),
                    "township": person.get("township"), "village": person.get("village"),
                    "visit_date": day, "visitor": visitor, "seen": yes if seen else no,
                    "notes": rng.choice(words.VISIT_SEEN if seen else words.VISIT_NOT_SEEN)}

        if found < month_start and rng.random() < 0.3:
            start = max(found, previous_start)
            day = start + timedelta(days=rng.randint(0, (month_start - start).days - 1))
            visits.append((index, visit(day, True)))
        if rng.random() < 0.85:
            start = max(found, month_start)
            day = start + timedelta(days=rng.randint(0, max((as_of - start).days, 0)))
            visits.append((index, visit(min(day, as_of), rng.random() < seen_share)))
    visits.sort(key=lambda pair: (pair[1]["visit_date"], pair[0]))
    keys = spec.visits_table().keys
    return [{key: v.get(key) for key in keys} for _, v in visits]


