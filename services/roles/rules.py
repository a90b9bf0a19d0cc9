"""Order and case clocks (pure): each role's rules turn an event from `kefu.orders` into
commands, given what the service remembers of the subject's clocks; `plan` turns the
commands into clock records, timer clocks and `raised` escalations.

Platform deadlines count calendar time. A stopped clock stays stopped (late scans and
late events do not restart it); its record expires with the subject's key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from contracts import SlaKind, SubjectKind
from services.core.policy import ShopPolicy
from services.roles.clocks import Clock, calendar_milestones
from services.roles.escalation import Due, raised


@dataclass(frozen=True, slots=True)
class ClockRecord:
    running: bool
    start: datetime | None = None
    deadline: datetime | None = None

    def encode(self) -> str:
        if not self.running:
            return "stopped"
        return f"running|{self.start.isoformat()}|{self.deadline.isoformat()}"

    @classmethod
    def decode(cls, text: str) -> ClockRecord:
        parts = text.split("|")
        if parts[0] != "running" or len(parts) != 3:
            return cls(False)
        return cls(True, datetime.fromisoformat(parts[1]), datetime.fromisoformat(parts[2]))


STOPPED = ClockRecord(False)


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


@dataclass(slots=True)
class Plan:
    records: dict[tuple[SubjectKind, str, SlaKind], ClockRecord] = field(default_factory=dict)
    started: list[Clock] = field(default_factory=list)
    stopped: list[tuple[SubjectKind, str, SlaKind]] = field(default_factory=list)
    raised: list[Due] = field(default_factory=list)


def plan(commands: list[Command], *, shop: str, role: str, policy: ShopPolicy,
         trace_id: str | None) -> Plan:
    out = Plan()
    for cmd in commands:
        if isinstance(cmd, Start):
            key = (cmd.kind, cmd.subject_id, cmd.sla)
            out.records[key] = ClockRecord(True, cmd.start, cmd.deadline)
            cause = f"{cmd.subject_id}@{cmd.deadline.astimezone(UTC).isoformat()}"
            milestones = calendar_milestones(cmd.start, cmd.deadline, policy.warn_at,
                                             policy.level3_after)
            out.started.append(Clock(shop, role, cmd.kind, cmd.subject_id, cmd.sla, cause,
                                     cmd.deadline, milestones, trace_id, dict(cmd.extra)))
        elif isinstance(cmd, Stop):
            out.records[(cmd.kind, cmd.subject_id, cmd.sla)] = STOPPED
            out.stopped.append((cmd.kind, cmd.subject_id, cmd.sla))
        else:
            out.raised.append(raised(shop, role, cmd.kind, cmd.subject_id, cmd.sla, cmd.cause,
                                     trace_id))
    return out


def may_start(view: ClockView, kind: SubjectKind, subject_id: str, sla: SlaKind) -> bool:
    """A clock starts unless it was stopped (a shipped order's ship-by, a delivered parcel)."""
    record = view(kind, subject_id, sla)
    return record is None or record.running
