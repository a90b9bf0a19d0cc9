"""Duration strings as used in the policy file: ``45s``, ``3m``, ``48h``, ``7d``, ``1h30m``.

Grammar (strict): one or more ``<digits><unit>`` parts, units ``d`` (24 h), ``h``, ``m``,
``s``, ``ms``, each unit at most once and from largest to smallest (``1h30m``, not
``30m1h``). No sign, no spaces, no decimals, lower-case units. ``0s`` is a valid (zero)
duration; callers that need a positive value check that themselves.
"""

from __future__ import annotations

import re
from datetime import timedelta

__all__ = ["format_duration", "parse_duration"]

# Largest unit first; "ms" must be tried before "m" in the regex alternation.
_UNITS: dict[str, timedelta] = {
    "d": timedelta(days=1),
    "h": timedelta(hours=1),
    "m": timedelta(minutes=1),
    "s": timedelta(seconds=1),
    "ms": timedelta(milliseconds=1),
}
_RANK = {unit: rank for rank, unit in enumerate(_UNITS)}
_PART = re.compile(r"([0-9]+)(ms|d|h|m|s)")
_WHOLE = re.compile(r"(?:[0-9]+(?:ms|d|h|m|s))+")


def parse_duration(text: str) -> timedelta:
    """Parse a duration string such as ``"3m"`` or ``"1h30m"`` into a ``timedelta``.

    Raises ``ValueError`` naming the offending value for anything else, including
    ``""``, ``"5"`` (no unit), ``"-3m"``, ``"3x"``, ``"30m1h"`` and non-strings.
    """
    if not isinstance(text, str):
        raise ValueError(f"invalid duration {text!r} (a duration is a string such as '3m')")
    if not _WHOLE.fullmatch(text):
        raise ValueError(f"invalid duration {text!r}")
    total = timedelta(0)
    last_rank = -1
    for digits, unit in _PART.findall(text):
        if _RANK[unit] <= last_rank:
            raise ValueError(f"invalid duration {text!r}")
        last_rank = _RANK[unit]
        try:
            total += int(digits) * _UNITS[unit]
        except OverflowError:
            raise ValueError(f"invalid duration {text!r} (too large)") from None
    return total


def format_duration(td: timedelta) -> str:
    """Format a non-negative ``timedelta`` in the same grammar, e.g. ``"1h30m"``, ``"0s"``.

    ``parse_duration(format_duration(td)) == td`` for whole milliseconds; any
    sub-millisecond remainder is dropped. Negative values raise ``ValueError``.
    """
    if not isinstance(td, timedelta):
        raise ValueError(f"not a timedelta: {td!r}")
    if td < timedelta(0):
        raise ValueError(f"negative duration {td!r} cannot be formatted")
    rest = td // timedelta(milliseconds=1)
    parts = []
    for unit, size in _UNITS.items():
        count, rest = divmod(rest, size // timedelta(milliseconds=1))
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"
