"""Names and ID numbers as the summary shows them by default: 张*明, 500114********1234."""

from __future__ import annotations

import re
from typing import Any

NAME_SEPARATORS = "·•・‧.．"
_SEPARATOR = re.compile(f"([{re.escape(NAME_SEPARATORS)}])")


def mask_name(name: Any) -> str:
    """张三丰 → 张*丰, 张三 → 张*, 欧阳娜娜 → 欧**娜; each part of 阿依古丽·买买提 on its own.

    The first and last character stay, the middle becomes one * per character.
    """
    if not isinstance(name, str) or not name.strip():
        return ""
    parts = _SEPARATOR.split(name.strip())
    out = []
    for part in parts:  # separators come back as parts of their own, and stay
        if len(part) <= 1:
            out.append(part)
        elif len(part) == 2:
            out.append(part[0] + "*")
        else:
            out.append(part[0] + "*" * (len(part) - 2) + part[-1])
    return "".join(out)


def mask_id(number: Any) -> str:
    """500114199001011234 → 500114********1234: the district and the last four stay."""
    text = "" if number is None or (isinstance(number, float) and number != number) else str(number)
    return text[:6] + "*" * (len(text) - 10) + text[-4:] if len(text) > 10 else text
