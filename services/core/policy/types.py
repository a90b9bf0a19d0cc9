"""Validated scalar types of the policy file and the business_hours key rules.

Business-hours keys are a day (``mon`` .. ``sun``) or an inclusive range ``<day>-<day>``.
Ranges may wrap around the week (``fri-mon`` = Fri, Sat, Sun, Mon); ``mon-mon`` is
rejected (write ``mon``). For each weekday the most specific matching key wins (fewest
days), ties going to the key that comes later in the (merged) mapping.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainValidator

from services.core.durations import parse_duration

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"([0-9]{1,2}):([0-9]{2})")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class StrictModel(BaseModel):
    """Base of the policy models: frozen, and unknown keys are errors (typo safety)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _non_blank(text: str) -> str:
    if not text.strip():
        raise ValueError(f"must not be blank, got {text!r}")
    return text


def _env_name(name: str) -> str:
    if not _ENV_NAME.fullmatch(name):
        raise ValueError("secret_env must be an environment variable name, not the secret")
    return name


def _duration(value: Any) -> timedelta:
    td = value if isinstance(value, timedelta) else parse_duration(value)
    if td <= timedelta(0):
        raise ValueError(f"duration must be positive, got {value!r}")
    return td


def _zone(value: Any) -> ZoneInfo:
    if isinstance(value, ZoneInfo):
        return value
    if not isinstance(value, str) or not value:
        raise ValueError(f"invalid timezone {value!r} (expected an IANA name like 'Asia/Shanghai')")
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"unknown timezone {value!r} (expected an IANA name)") from None


def hhmm_minutes(value: Any) -> int:
    """``"HH:MM"`` (00:00 .. 24:00) -> minutes since midnight."""
    match = _HHMM.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        hint = ' (quote times in YAML: "22:00")' if isinstance(value, int) else ""
        raise ValueError(f"invalid time {value!r}, expected 'HH:MM'{hint}")
    hours, minutes = int(match[1]), int(match[2])
    if hours > 24 or minutes > 59 or (hours == 24 and minutes):
        raise ValueError(f"invalid time {value!r}, expected 00:00 .. 24:00")
    return hours * 60 + minutes


def _iso_date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value  # YAML already parses unquoted 2026-10-01
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"invalid date {value!r}, expected YYYY-MM-DD")


def day_key_days(key: str) -> tuple[int, ...]:
    """Weekdays (0 = Monday) named by a business_hours key; ``ValueError`` if malformed."""
    first, sep, last = key.partition("-")
    if first in DAYS and not sep:
        return (DAYS.index(first),)
    if first in DAYS and last in DAYS and first != last:
        lo, hi = DAYS.index(first), DAYS.index(last)
        return tuple((lo + i) % 7 for i in range((hi - lo) % 7 + 1))
    raise ValueError(f"invalid day or day range {key!r}, expected e.g. 'sat' or 'mon-fri'")


def _check_day_key(key: str) -> str:
    day_key_days(key)
    return key


def _check_intervals(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    for start, end in intervals:
        if start >= end:
            raise ValueError(f"interval start must be before end, got {_fmt(start)}-{_fmt(end)}")
    spans = sorted(intervals)
    for (_, prev_end), (start, end) in zip(spans, spans[1:], strict=False):
        if start < prev_end:
            raise ValueError(f"overlapping intervals ending {_fmt(prev_end)} and {_fmt(end)}")
    return spans


def _fmt(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def resolve_week(hours: dict[str, list[tuple[int, int]]]) -> dict[int, list[tuple[int, int]]]:
    """Per weekday, the intervals of the most specific key (later key wins a tie)."""
    best: dict[int, tuple[int, int, list[tuple[int, int]]]] = {}
    for position, (key, intervals) in enumerate(hours.items()):
        days = day_key_days(key)
        for day in days:
            rank = (-len(days), position)
            if day not in best or rank > best[day][:2]:
                best[day] = (*rank, intervals)
    return {day: entry[2] for day, entry in sorted(best.items())}


def _quiet_hours(value: Any) -> tuple[time, time] | None:
    if value is None or value == []:
        return None
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ValueError(f"quiet_hours must be ['HH:MM', 'HH:MM'] or [], got {value!r}")
    start, end = (hhmm_minutes(v) % (24 * 60) for v in value)
    if start == end:
        raise ValueError(f"quiet_hours start and end must differ, got {value!r}")
    return time(start // 60, start % 60), time(end // 60, end % 60)


Duration = Annotated[timedelta, PlainValidator(_duration)]
Zone = Annotated[ZoneInfo, PlainValidator(_zone)]
Minute = Annotated[int, PlainValidator(hhmm_minutes)]
IsoDate = Annotated[date, PlainValidator(_iso_date)]
DayKey = Annotated[str, AfterValidator(_check_day_key)]
Intervals = Annotated[list[tuple[Minute, Minute]], AfterValidator(_check_intervals)]
QuietHours = Annotated[tuple[time, time] | None, PlainValidator(_quiet_hours)]
Text = Annotated[str, Field(strict=True), AfterValidator(_non_blank)]


def _model_path(value: str) -> str:
    if not value.endswith(".npz"):
        raise ValueError(f"expected a model file path ending in .npz, got {value!r}")
    return value


ModelPath = Annotated[str, Field(strict=True), AfterValidator(_non_blank),
                      AfterValidator(_model_path)]
Count = Annotated[int, Field(strict=True, ge=1)]
EnvName = Annotated[str, Field(strict=True), AfterValidator(_env_name)]
"""The NAME of an environment variable (that holds a secret: never the secret itself)."""
