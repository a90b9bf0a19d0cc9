"""SLA clock arithmetic (pure). A clock has a budget that ends at its `deadline`; it emits a
`warning` (level 1) at `warn_at` of the budget, `breached` level 2 at 100 % and `breached`
level 3 at `level3_after`. Conversation clocks count business time of the shop's calendar;
platform deadlines (orders, cases, parcels) count calendar time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from contracts import EscalationState, SlaKind, SubjectKind
from services.core.business_hours import BusinessCalendar
from services.roles.clock_state import to_us

_ZERO = timedelta(0)


@dataclass(frozen=True, slots=True)
class Milestone:
    state: EscalationState
    level: int
    at: datetime


@dataclass(frozen=True, slots=True)
class Clock:
    """One running deadline of one subject; `cause` names what started it (for the ids)."""

    shop: str
    role: str
    kind: SubjectKind
    subject_id: str
    sla: SlaKind
    cause: str
    deadline: datetime
    milestones: tuple[Milestone, ...]
    trace_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # added to the breached escalations

    @property
    def slot(self) -> str:
        """Timer slot: a conversation runs one response clock at a time (first or next)."""
        return "response" if self.kind == SubjectKind.CONVERSATION else self.sla.value


def business_milestones(
    calendar: BusinessCalendar, start: datetime, budget: timedelta, warn_at: float,
    level3_after: float,
) -> tuple[Milestone, ...]:
    """Milestones of a budget of business time starting at `start` (counting begins at the
    next opening when `start` is outside business hours)."""
    warn, deadline, level3 = calendar.add_business_times(
        start, [budget * warn_at, budget, budget * level3_after])
    return _milestones(warn, deadline, level3)


def calendar_milestones(
    start: datetime, deadline: datetime, warn_at: float, level3_after: float
) -> tuple[Milestone, ...]:
    """Milestones of a platform deadline in calendar time; a deadline at or before `start`
    has no warning and breaches at once (level 3 too)."""
    budget = max(deadline - start, _ZERO)
    return _milestones(start + budget * warn_at, deadline, deadline + budget * (level3_after - 1))


def _milestones(warn: datetime, deadline: datetime, level3: datetime) -> tuple[Milestone, ...]:
    out = []
    if warn < deadline:
        out.append(Milestone(EscalationState.WARNING, 1, warn))
    out.append(Milestone(EscalationState.BREACHED, 2, deadline))
    out.append(Milestone(EscalationState.BREACHED, 3, level3))
    return tuple(out)


def deadline_of(milestones: tuple[Milestone, ...]) -> datetime:
    return next(m.at for m in milestones if m.level == 2)


def due_times(milestones: tuple[Milestone, ...]) -> tuple[int, int, int]:
    """Epoch µs of the warning (0 when there is none), the deadline and level 3."""
    by_level = {m.level: to_us(m.at) for m in milestones}
    return by_level.get(1, 0), by_level[2], by_level[3]
