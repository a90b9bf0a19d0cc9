"""Deterministic ids, timer payloads and the escalation and assignment messages (pure).

    timer_id      = derive_id("timer", shop, role, subject kind, subject id, slot, state, level)
    escalation_id = derive_id("escalation", shop, role, subject kind, subject id, sla, cause,
                              state, level)

A clock's `cause` is what started it: the buyer message's event_id for a response clock,
`<order or case id>@<deadline>` for a platform deadline, the event_id (or, for complaints,
the cause of the conversation's unanswered stretch) for a `raised` escalation. A re-fire
or a redelivery repeats the same id; a new deadline (a delay, a fresh scan) is a new cause.
Timer ids do not depend on the cause: a restarted clock upserts its three timers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from contracts import (
    Assignment,
    AssignmentReason,
    Escalation,
    EscalationState,
    Role,
    SlaKind,
    Subject,
    SubjectKind,
    derive_id,
)
from services.roles.clocks import Clock

LEVELS = ((EscalationState.WARNING, 1), (EscalationState.BREACHED, 2),
          (EscalationState.BREACHED, 3))


def timer_ids(shop: str, role: str, kind: str, subject_id: str, slot: str) -> list[str]:
    return [derive_id("timer", shop, role, kind, subject_id, slot, state, str(level))
            for state, level in LEVELS]


def escalation_id(shop: str, role: str, kind: str, subject_id: str, sla: str, cause: str,
                  state: str, level: int) -> str:
    return derive_id("escalation", shop, role, kind, subject_id, sla, cause, state, str(level))


@dataclass(frozen=True, slots=True)
class Due:
    """What a timer carries: everything its escalation needs."""

    shop: str
    role: str
    kind: str
    subject_id: str
    sla: str
    cause: str
    state: str
    level: int
    deadline: str | None
    trace_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def encode(self) -> bytes:
        return orjson.dumps({s: getattr(self, s) for s in self.__slots__})

    @classmethod
    def decode(cls, raw: bytes) -> Due:
        return cls(**orjson.loads(raw))

    @property
    def escalation_id(self) -> str:
        return escalation_id(self.shop, self.role, self.kind, self.subject_id, self.sla,
                             self.cause, self.state, self.level)


def timer_ops(clock: Clock) -> dict[str, tuple[str, datetime, bytes] | None]:
    """Timer id -> (timer_id, due_at, payload) to schedule, or None to cancel (a clock
    without a warning cancels a warning left by the previous clock in the slot)."""
    ids = dict(zip(LEVELS, timer_ids(clock.shop, clock.role, clock.kind, clock.subject_id,
                                     clock.slot), strict=True))
    ops: dict[str, tuple[str, datetime, bytes] | None] = dict.fromkeys(ids.values())
    for m in clock.milestones:
        extra = clock.extra if m.state == EscalationState.BREACHED else {}
        due = Due(clock.shop, clock.role, clock.kind.value, clock.subject_id, clock.sla.value,
                  clock.cause, m.state.value, m.level, clock.deadline.isoformat(), clock.trace_id,
                  extra)
        timer_id = ids[(m.state, m.level)]
        ops[timer_id] = (timer_id, m.at, due.encode())
    return ops


def escalation(due: Due, fired_at: datetime) -> Escalation:
    return Escalation(
        escalation_id=due.escalation_id, shop_id=due.shop, role=Role(due.role),
        subject=Subject(kind=SubjectKind(due.kind), id=due.subject_id), sla=SlaKind(due.sla),
        level=due.level, state=EscalationState(due.state),
        deadline=datetime.fromisoformat(due.deadline) if due.deadline else None,
        fired_at=fired_at, trace_id=due.trace_id, **due.extra,
    )


def raised(shop: str, role: str, kind: SubjectKind, subject_id: str, sla: SlaKind, cause: str,
           trace_id: str | None) -> Due:
    """An event that escalates at once: state `raised`, level 2, no deadline."""
    return Due(shop, role, kind.value, subject_id, sla.value, cause,
               EscalationState.RAISED.value, 2, None, trace_id)


def assignment(shop: str, role: str, conv_id: str, agent_id: str | None, reason: str,
               at: datetime, trace_id: str | None) -> Assignment:
    return Assignment(conversation_id=conv_id, shop_id=shop, role=Role(role),
                      agent_id=agent_id or None, reason=AssignmentReason(reason), at=at,
                      trace_id=trace_id)
