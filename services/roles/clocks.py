"""SLA clock arithmetic (pure). A clock has a budget that ends at its `deadline`; it emits a
`warning` (level 1) at `warn_at` of the budget, `breached` level 2 at 100 % and `breached`
level 3 at `level3_after`. Conversation clocks count business time of the shop's calendar;
platform deadlines (orders, cases, parcels) count calendar time."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache

from services.core.business_hours import MICROSECOND, BusinessCalendar
from services.roles.clock_state import NO_WARNING, to_us

_ZERO = timedelta(0)


DueTimes = tuple[int, int, int]
"""Epoch µs of a clock's warning (NO_WARNING when its budget leaves none), deadline
(level 2) and level 3."""


def business_due_times(calendar: BusinessCalendar, start_us: int, budget: timedelta,
                       warn_at: float, level3_after: float) -> DueTimes:
    """A budget of business time starting at `start_us` (counting begins at the next
    opening when it is outside business hours)."""
    warn, deadline, level3 = calendar.add_business_us(
        start_us, _shares_us(budget, warn_at, level3_after))
    return (warn if warn < deadline else NO_WARNING), deadline, level3


@lru_cache(maxsize=256)
def _shares_us(budget: timedelta, warn_at: float, level3_after: float) -> tuple[int, ...]:
    return tuple(budget * share // MICROSECOND for share in (warn_at, 1, level3_after))


def calendar_due_times(start: datetime, deadline: datetime, warn_at: float,
                       level3_after: float) -> DueTimes:
    """A platform deadline in calendar time; a deadline at or before `start` has no
    warning and breaches at once (level 3 too)."""
    budget = max(deadline - start, _ZERO)
    warn = start + budget * warn_at
    level3 = deadline + budget * (level3_after - 1)
    return (to_us(warn) if warn < deadline else NO_WARNING), to_us(deadline), to_us(level3)
