"""Rows of a DataFrame as plain dicts, fast.

DataFrame.to_dict("records") costs about five times more than zipping the columns' lists
(pandas 3, object columns); on 300,000 rows that is seconds in every pass over the roster.
"""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd


def records(frame: pd.DataFrame) -> Iterator[dict]:
    """Like frame.to_dict("records"): one dict per row, values as Python objects."""
    columns = list(frame.columns)
    for values in zip(*(frame[c].tolist() for c in columns)):
        yield dict(zip(columns, values))
