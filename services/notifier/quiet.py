"""Quiet hours: buyer notices decided inside the shop's quiet window wait until it ends."""

from __future__ import annotations

from datetime import datetime, time, timedelta, tzinfo


def in_quiet_hours(local: time, window: tuple[time, time]) -> bool:
    """`window` is ``(start, end)`` in wall time; it wraps midnight when start > end."""
    start, end = window
    if start < end:
        return start <= local < end
    return local >= start or local < end


def quiet_until(now: datetime, window: tuple[time, time] | None, tz: tzinfo) -> datetime | None:
    """When the quiet hours around `now` end (an aware datetime), or None when `now` is
    outside them (or the shop has none)."""
    if window is None:
        return None
    local = now.astimezone(tz)
    if not in_quiet_hours(local.time().replace(tzinfo=None), window):
        return None
    end = window[1]
    candidate = datetime.combine(local.date(), end, tzinfo=tz)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), end, tzinfo=tz)
    return candidate
