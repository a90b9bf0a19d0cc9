"""Business-hours clock arithmetic: pure functions, no I/O.

Opening hours are wall-clock intervals per weekday in the shop's timezone. Each local
day's intervals are turned into absolute (UTC) instants on their own, so DST changes are
handled by zoneinfo: a wall time that does not exist (spring forward) maps with
``fold=0``, an ambiguous one (fall back) to its first occurrence, and a shift spanning the
change counts the real elapsed time (an 01:00-03:00 shift lasts 1 h on a spring-forward
night, 01:00-02:00 lasts 2 h on a fall-back night). Work is per interval, so long
durations skip whole days; nothing iterates per minute.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo

__all__ = ["BusinessCalendar", "MINUTES_PER_DAY"]

MINUTES_PER_DAY = 24 * 60
_DAY = timedelta(days=1)
_ZERO = timedelta(0)
_DAYS_CACHED = 4096  # about 11 years of days per calendar
_SPANS_REMEMBERED = 8
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
"""The unit of the epoch-microsecond times (`epoch_us`) clocks compute with."""


def epoch_us(at: datetime) -> int:
    """Epoch microseconds of an aware datetime, exactly."""
    delta = at - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _instant(us: int) -> datetime:
    return _EPOCH + us * MICROSECOND


def _minutes(value: time | int, *, end: bool) -> int:
    """Minutes since local midnight; an end of ``time(0, 0)`` means 24:00."""
    if isinstance(value, time):
        if value.second or value.microsecond or value.tzinfo is not None:
            raise ValueError(f"business hours are whole minutes of wall time, got {value!r}")
        minutes = value.hour * 60 + value.minute
        return MINUTES_PER_DAY if end and minutes == 0 else minutes
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected a datetime.time or minutes since midnight, got {value!r}")
    return value


def _require_aware(value: datetime, name: str) -> None:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")


class BusinessCalendar:
    """Weekly opening hours in one timezone, minus holidays.

    ``weekly`` maps a weekday (0 = Monday .. 6 = Sunday) to ``(start, end)`` intervals,
    each bound a ``datetime.time`` or an int of minutes since midnight (``1440`` or an
    end of ``time(0)`` is 24:00). Intervals must satisfy ``start < end`` and must not
    overlap; touching ones are merged. Missing weekdays are closed; ``holidays`` are
    local dates with no business hours. A week with no hours at all is a ``ValueError``,
    so the arithmetic below always terminates.
    """

    def __init__(
        self,
        tz: tzinfo,
        weekly: Mapping[int, Sequence[tuple[time | int, time | int]]],
        holidays: Iterable[date] = (),
    ) -> None:
        self.tz = tz
        days: list[list[tuple[int, int]]] = [[] for _ in range(7)]
        for weekday, intervals in weekly.items():
            if weekday not in range(7):
                raise ValueError(f"weekday must be 0 (Monday) .. 6 (Sunday), got {weekday!r}")
            spans = sorted((_minutes(s, end=False), _minutes(e, end=True)) for s, e in intervals)
            for start, end in spans:
                if not 0 <= start < end <= MINUTES_PER_DAY:
                    raise ValueError(f"invalid interval {start}..{end} min on weekday {weekday}")
                if days[weekday] and start < days[weekday][-1][1]:
                    raise ValueError(f"overlapping intervals on weekday {weekday}")
                if days[weekday] and start == days[weekday][-1][1]:
                    days[weekday][-1] = (days[weekday][-1][0], end)
                else:
                    days[weekday].append((start, end))
        if not any(days):
            raise ValueError("no business hours on any day of the week")
        self.weekly: tuple[tuple[tuple[int, int], ...], ...] = tuple(map(tuple, days))
        self.holidays: frozenset[date] = frozenset(holidays)
        self._days: dict[date, tuple[tuple[datetime, datetime], ...]] = {}
        self._spans: list[tuple[int, int, int]] = []
        """Recently found opening intervals in epoch µs, newest first, as (end of the
        opening before, start, end): every instant from the first to the last finds
        its next business time in this interval (`add_business_us`)."""

    def __repr__(self) -> str:
        return f"BusinessCalendar(tz={self.tz!r}, weekly={self.weekly!r}, holidays=...)"

    def _instant(self, day: date, minute: int) -> datetime:
        day, minute = (day + _DAY, 0) if minute == MINUTES_PER_DAY else (day, minute)
        local = datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=self.tz)
        return local.astimezone(UTC)

    def _day(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The UTC opening intervals of local ``day`` (none on holidays and closed days),
        computed once per day: clocks and reports ask about the same days again and again."""
        spans = self._days.get(day)
        if spans is None:
            closed = day in self.holidays or not self.weekly[day.weekday()]
            spans = () if closed else tuple(
                (self._instant(day, start), self._instant(day, end))
                for start, end in self.weekly[day.weekday()])
            if len(self._days) >= _DAYS_CACHED:
                self._days.clear()
            self._days[day] = spans
        return spans

    def _intervals(self, day: date) -> Iterator[tuple[datetime, datetime]]:
        """Open intervals in UTC from local ``day`` on: ascending, disjoint, endless."""
        prev: datetime | None = None
        closed_days = 0
        while True:
            spans = self._day(day)
            if not spans:
                closed_days += 1
                if closed_days > 7 * (len(self.holidays) + 1):  # defensive: cannot happen
                    raise ValueError("calendar has no business hours left")
            else:
                closed_days = 0
                for lo, hi in spans:
                    if prev is not None and lo < prev:
                        lo = prev  # DST gap folding: never count an instant twice
                    if hi > lo:
                        yield lo, hi
                        prev = hi
            day += _DAY

    def _from(self, instant: datetime) -> Iterator[tuple[datetime, datetime]]:
        # Start one local day early so nothing that could cover ``instant`` is missed.
        return self._intervals(instant.astimezone(self.tz).date() - _DAY)

    def add_business_time(self, start: datetime, duration: timedelta) -> datetime:
        """The instant at which ``duration`` of business time has elapsed since ``start``.

        Counting begins at the next opening if ``start`` is outside business hours; a
        budget that runs out exactly at closing time is due at closing time. ``start``
        must be aware; the result is in the calendar's timezone. ``duration`` >= 0.
        """
        _require_aware(start, "start")
        if duration < _ZERO:
            raise ValueError(f"duration must not be negative, got {duration!r}")
        if duration == _ZERO:
            return start.astimezone(self.tz)
        cursor, remaining = start.astimezone(UTC), duration
        for lo, hi in self._from(cursor):
            if hi <= cursor:
                continue
            lo = max(lo, cursor)
            if remaining <= hi - lo:
                return (lo + remaining).astimezone(self.tz)
            remaining -= hi - lo
            cursor = hi
        raise AssertionError("unreachable")  # pragma: no cover

    def add_business_times(self, start: datetime,
                           durations: Sequence[timedelta]) -> list[datetime]:
        """`add_business_time` for several ascending durations, in one walk of the
        calendar (a clock's warning, deadline and level 3 cost one walk, not three)."""
        _require_aware(start, "start")
        if any(b < a for a, b in zip(durations, durations[1:], strict=False)) or (
                durations and durations[0] < _ZERO):
            raise ValueError(f"durations must be ascending and >= 0, got {durations!r}")
        cursor = start.astimezone(UTC)
        if durations and self._open_through(cursor, cursor + durations[-1]):
            return [(cursor + d).astimezone(self.tz) for d in durations]
        out = [start.astimezone(self.tz) for d in durations if d == _ZERO]
        pending = [d for d in durations if d > _ZERO]
        used = _ZERO
        for lo, hi in self._from(cursor):
            if not pending:
                return out
            if hi <= cursor:
                continue
            lo = max(lo, cursor)
            span = hi - lo
            while pending and pending[0] - used <= span:
                out.append((lo + (pending.pop(0) - used)).astimezone(self.tz))
            used += span
            cursor = hi
        raise AssertionError("unreachable")  # pragma: no cover

    def add_business_us(self, start_us: int, durations_us: Sequence[int]) -> list[int]:
        """`add_business_times` in epoch microseconds, for the role services' clocks:
        a start whose budgets end within the opening interval it falls in (or the next
        one, from a closed hour) is answered from the intervals found before, in integer
        arithmetic, without converting a datetime. Durations as `add_business_times`
        takes them: ascending, none negative (else ValueError)."""
        if durations_us and durations_us[0] >= 0 and list(durations_us) == sorted(durations_us):
            _, lo, hi = self._span(start_us)
            begin = lo if start_us < lo else start_us
            if begin + durations_us[-1] <= hi:
                return [begin + d if d else start_us for d in durations_us]
        return [epoch_us(at) for at in self.add_business_times(
            _instant(start_us), [d * MICROSECOND for d in durations_us])]

    def business_us_between(self, a_us: int, b_us: int) -> int:
        """`business_time_between` in epoch microseconds: two instants within one
        opening interval found before (or `a_us` in the closed hours before it) are
        answered in integer arithmetic."""
        if b_us < a_us:
            return -self.business_us_between(b_us, a_us)
        _, lo, hi = self._span(a_us)
        if b_us <= hi:
            return max(0, b_us - max(a_us, lo))
        return self.business_time_between(_instant(a_us), _instant(b_us)) // MICROSECOND

    def _span(self, at_us: int) -> tuple[int, int, int]:
        """The opening interval the business time after `at_us` begins in, as (a time
        from which nothing is open until it, its start, its end): remembered, or found
        by a walk of the calendar (which starts a day early, so an interval without one
        before it has nothing open between `at_us` and its start)."""
        for span in self._spans:
            if span[0] <= at_us < span[2]:
                return span
        before = None
        for lo, hi in self._from(_instant(at_us)):
            lo_us, hi_us = epoch_us(lo), epoch_us(hi)
            if hi_us > at_us:
                span = (min(at_us, lo_us) if before is None else before, lo_us, hi_us)
                self._spans.insert(0, span)
                del self._spans[_SPANS_REMEMBERED:]
                return span
            before = hi_us
        raise AssertionError("unreachable")  # pragma: no cover

    def _open_through(self, lo: datetime, hi: datetime) -> bool:
        """Whether one opening interval of `lo`'s local day covers [lo, hi] (UTC): the
        common case of an SLA budget of minutes, answered without walking the calendar."""
        for open_at, close_at in self._day(lo.astimezone(self.tz).date()):
            if open_at <= lo and hi <= close_at:
                return True
        return False

    def business_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Business time elapsed from ``a`` to ``b`` (negative if ``b`` is before ``a``).

        Inverse of ``add_business_time``: ``business_time_between(s, add_business_time(s,
        d)) == d`` for every ``d >= 0``.
        """
        _require_aware(a, "a")
        _require_aware(b, "b")
        if b < a:
            return -self.business_time_between(b, a)
        lo_bound, hi_bound = a.astimezone(UTC), b.astimezone(UTC)
        total = _ZERO
        for lo, hi in self._from(lo_bound):
            if lo >= hi_bound:
                return total
            overlap = min(hi, hi_bound) - max(lo, lo_bound)
            if overlap > _ZERO:
                total += overlap
        raise AssertionError("unreachable")  # pragma: no cover

    def is_open(self, at: datetime) -> bool:
        """Whether ``at`` (aware) falls inside business hours (start inclusive, end not)."""
        _require_aware(at, "at")
        instant = at.astimezone(UTC)
        for lo, hi in self._from(instant):
            if lo > instant:
                return False
            if instant < hi:
                return True
        raise AssertionError("unreachable")  # pragma: no cover
