"""Who a row is about (docs/design.md §3): the ID number when there is one, else the township,
village (when given) and name.

Two keys, one rule. The roster's key (`person_key`) is always within one township, so that
the same ID reported by two townships stays two records and is listed as a possible
duplicate; it is stored, so its spelling never changes. Within one file (`row_identity`) a
valid ID is the same person whatever township the row gives: the file may not list them twice.
"""

from __future__ import annotations

ID_PREFIX = "id:"


def person_key(township: str, village: str | None, name: str, id_number: str | None) -> str:
    """The roster's key of a person: 城西街道|id:500114…, or 城西街道|胜利村|张三 without an ID."""
    return f"{township}|{ID_PREFIX}{id_number}" if id_number else f"{township}|{village or ''}|{name}"


def row_identity(township, village, name, valid_id: str | None) -> str | None:
    """Who a row of one file is about: id:500114… for a valid ID, n:城西街道|胜利村|张三 else;
    None for a row without a name (it is sent back for that, not compared)."""
    if valid_id:
        return f"{ID_PREFIX}{valid_id}"
    if not isinstance(name, str):
        return None
    return f"n:{township if isinstance(township, str) else ''}|{village if isinstance(village, str) else ''}|{name}"


def by_id(key) -> bool:
    """Whether a row identity is its ID number's."""
    return isinstance(key, str) and key.startswith(ID_PREFIX)
