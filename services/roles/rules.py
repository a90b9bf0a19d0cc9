"""Order and case clocks (pure): each role's rules turn an event from `kefu.orders` into
commands, given what the service remembers of the subject's clocks (`ClockRecord`, a
view of each stored `ClockState`). The batch's decider carries the commands out.

Platform deadlines count calendar time. A stopped clock stays stopped (late scans and
late events do not restart it); its record expires with the subject's key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from contracts import SlaKind, SubjectKind
from services.core.policy import ShopPolicy
from services.roles.clock_state import ClockState, from_us


@dataclass(frozen=True, slots=True)
class ClockRecord:
    """A clock as the rules see it: running (from `start` to `deadline`) or stopped."""

    running: bool
    start: datetime | None = None
    deadline: datetime | None = None


STOPPED = ClockRecord(False)


def record_of(state: ClockState | None) -> ClockRecord | None:
    """What the rules see of a stored clock."""
    if state is None:
        return None
    if not state.running:
        return STOPPED
    return ClockRecord(True, from_us(state.start), from_us(state.deadline))


@dataclass(frozen=True, slots=True)
class Start:
    kind: SubjectKind
    subject_id: str
    sla: SlaKind
    start: datetime
    deadline: datetime
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Stop:
    kind: SubjectKind
    subject_id: str
    sla: SlaKind


@dataclass(frozen=True, slots=True)
class Raise:
    kind: SubjectKind
    subject_id: str
    sla: SlaKind
    cause: str


Command = Start | Stop | Raise
ClockView = Callable[[SubjectKind, str, SlaKind], ClockRecord | None]
"""(kind, subject id, sla) -> what is known of that clock of the event's shop."""
Rules = Callable[[Any, ClockView, ShopPolicy], list[Command]]
"""(event, clocks, shop policy) -> commands; an event a role does not own gives []."""


def may_start(view: ClockView, kind: SubjectKind, subject_id: str, sla: SlaKind) -> bool:
    """A clock starts unless it was stopped (a shipped order's ship-by, a delivered parcel)."""
    record = view(kind, subject_id, sla)
    return record is None or record.running
