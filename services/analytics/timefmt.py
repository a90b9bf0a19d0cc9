"""Times as the store keeps them: UTC with milliseconds, plus the shop-local date, hour
and weekday that reports group by (computed at ingest, with the shop's timezone)."""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from functools import lru_cache

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def ch_time(at: datetime) -> str:
    """`2026-11-22 01:30:00.000`: a DateTime64(3, 'UTC') literal of an aware datetime."""
    return at.astimezone(UTC).isoformat(" ", "milliseconds")[:23]


def ch_time_us(us: int) -> str:
    """`ch_time` of an instant in epoch microseconds (1970 or later)."""
    day, ms = divmod(us // 1000, 86_400_000)
    seconds, milli = divmod(ms, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{_utc_date(day)} {hours:02d}:{minutes:02d}:{seconds:02d}.{milli:03d}"


@lru_cache(maxsize=4096)
def _utc_date(day: int) -> str:
    return date.fromordinal(_EPOCH_ORDINAL + day).isoformat()


def ch_time_or_none(at: datetime | None) -> str | None:
    return None if at is None else ch_time(at)


def local_fields(at: datetime, tz: tzinfo) -> dict[str, object]:
    """The shop-local calendar position of `at`: date, hour 0-23, weekday 1 (Mon) - 7."""
    local = at.astimezone(tz)
    return {
        "local_date": local.date().isoformat(),
        "local_hour": local.hour,
        "local_weekday": local.isoweekday(),
    }


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def to_ms(at: datetime) -> int:
    return round(at.timestamp() * 1000)
