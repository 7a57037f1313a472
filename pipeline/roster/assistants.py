"""协理员 coverage: the villages (村、社区) that have no social-assistance assistant.

The notice (二、（二）) asks that every village have at least one 社会救助协理员. A township
shows its assistants by sending the 协理员名册; a village listed there with the name left
blank has none. The villages of a township are those of its roster and those where its
people live, so a village with people found but missing from the roster counts too. A
township that has not sent a roster is not judged: nothing is known of its assistants.
"""

from __future__ import annotations

import sqlite3

import pandas as pd

from pipeline.rules import spec, townships

COLUMNS = ["township", "village", "people", "key_population", "listed"]


def load(db: sqlite3.Connection) -> pd.DataFrame:
    """Every assistants' roster row in the store: township, village, assistant ('' for none), phone."""
    return pd.read_sql_query("SELECT township, village, assistant, phone FROM assistants "
                             "ORDER BY township, village, assistant", db)


def vacancies(roster_rows: pd.DataFrame, classified: pd.DataFrame) -> pd.DataFrame:
    """Villages without an assistant, in the district's township order, then by village.

    Columns: township, village, people (found there), key_population (pending and
    observation there), listed (the village is on the township's roster, with no name).
    Example: vacancies(load(db), classified)
    """
    if roster_rows.empty:
        return pd.DataFrame(columns=COLUMNS)
    named = roster_rows[roster_rows["assistant"].fillna("").str.strip() != ""]
    covered = set(zip(named["township"], named["village"]))
    listed = set(zip(roster_rows["township"], roster_rows["village"]))
    towns = set(roster_rows["township"])
    people = classified[classified["township"].isin(towns) & classified["village"].notna()]
    found = people.groupby(["township", "village"]).size()
    key = people[people["status"].isin(spec.KEY_STATUSES)].groupby(["township", "village"]).size()
    order = townships.order()
    places = sorted((listed | set(found.index)) - covered, key=lambda p: (order.get(p[0], len(order)), p))
    return pd.DataFrame([{"township": t, "village": v, "people": int(found.get((t, v), 0)),
                          "key_population": int(key.get((t, v), 0)), "listed": (t, v) in listed}
                         for t, v in places], columns=COLUMNS)


def without_roster(roster_rows: pd.DataFrame) -> list[str]:
    """The townships that have sent no 协理员名册, in the district's order: their villages are
    not judged, and the bureau should ask for it."""
    sent = set(roster_rows["township"]) if not roster_rows.empty else set()
    return [t.name for t in townships.listed() if t.name not in sent]



def roster_sentences(roster_rows: pd.DataFrame) -> tuple[str, str]:
    """(what to add to the vacancy list's note, what to say when it is empty): which townships
    have sent no roster, since a list without them must not read as full coverage."""
    missing = without_roster(roster_rows)
    if not missing:
        return "全区各乡镇（街道）均已报送协理员名册。", "全区每个村（社区）都有协理员。"
    if len(missing) == len(townships.listed()):
        none = "尚未收到任何乡镇（街道）的协理员名册，协理员空缺无法统计；请督促各乡镇（街道）报送。"
        return none, none
    some = f"尚未报送协理员名册的乡镇（街道）（{len(missing)}个）：{'、'.join(missing)}；请督促报送。"
    return some, f"已报送协理员名册的乡镇（街道）中，每个村（社区）都有协理员。{some}"
