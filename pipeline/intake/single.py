"""One value checked as `jiuzhu check` would check it in its row (for `jiuzhu correct`): the
person's record written as a form row, the field replaced, normalised and validated with the
same rules and the same sentences as a township's file."""

from __future__ import annotations

from datetime import date

from pipeline.intake.tables import Located
from pipeline.rules import spec


def _located(cells: list) -> Located:
    table = spec.form()
    return Located(kind="form", sheet="更正", visible=True, header_row=1,
                   headers={c.key: c.header for c in table.columns},
                   columns={c.key: i for i, c in enumerate(table.columns)}, missing=[], rows=[2], cells=[cells])


def check_value(record: dict, name: str, text: str, as_of: date) -> tuple[str | None, tuple, list[str]]:
    """(the value as the form stores it, the row's (status, result_date, programme, referral),
    the messages of the problems the new value brings). Problems the record had already are not
    this value's and are not returned."""
    from pipeline.intake.normalise import normalise
    from pipeline.intake.validate import add_outcomes, validate

    table = spec.form()
    before = [record.get(c.key) for c in table.columns]
    after = [text if c.key == name else record.get(c.key) for c in table.columns]
    raw, clean = normalise([("原记录", _located(before)), ("更正后", _located(after))], table)
    clean = add_outcomes(clean, as_of)
    issues = validate(raw, clean, table, headers={}, as_of=as_of)
    had = {(i.code, i.column) for i in issues if i.file == "原记录"}
    problems = [i.message for i in issues if i.file == "更正后" and (i.code, i.column) not in had]
    row = clean.iloc[1]
    value = row[name]
    outcome = (row["status"], row["result_date"], row["programme"], row["referral"])
    return (None if value is None or value != value else str(value)), outcome, problems
