"""Deterministic ids, timer payloads and the escalation and assignment messages (pure).

    timer_id      = "<role>|<subject kind>|<len>:<shop>|<len>:<subject id>|<slot>"
    escalation_id = derive_id("escalation", shop, role, subject kind, subject id, sla, cause,
                              state, level)

A clock's `cause` is what started it: the buyer message's event_id for a response clock,
`<order or case id>@<deadline>` for a platform deadline, the event_id (or, for complaints,
the cause of the conversation's unanswered stretch) for a `raised` escalation. A re-fire
or a redelivery repeats the same id; a new deadline (a delay, a fresh scan) is a new
cause. A clock has one timer (for its next milestone), whatever its cause: a restarted
clock moves it. A correction (`retracted`, `resolved`) has its own state in the id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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
from services.roles.clock_state import ClockState, Notice, from_us

RESPONSE_SLOT = "response"
"""A conversation runs one response clock at a time (first or next): one timer slot."""


def timer_id(shop: str, role: str, kind: str, subject_id: str, slot: str) -> str:
    """Unique per clock slot; ids are length-prefixed, so no two tuples give one text.
    Internal (never on the wire): cheaper than a derived UUID, one or two per event."""
    return f"{role}|{kind}|{len(shop)}:{shop}|{len(subject_id)}:{subject_id}|{slot}"


def escalation_id(shop: str, role: str, kind: str, subject_id: str, sla: str, cause: str,
                  state: str, level: int) -> str:
    return derive_id("escalation", shop, role, kind, subject_id, sla, cause, state, str(level))


@dataclass(frozen=True, slots=True)
class TimerPayload:
    """What a clock's timer carries: where its clock is stored, and which milestone of
    which cause it waits for (a timer of an older cause or a published milestone is
    stale and fires nothing)."""

    shop: str
    kind: str
    subject_id: str
    slot: str
    cause: str
    index: int

    def encode(self) -> bytes:
        return orjson.dumps([self.shop, self.kind, self.subject_id, self.slot, self.cause,
                             self.index])

    @classmethod
    def decode(cls, raw: bytes) -> TimerPayload:
        shop, kind, subject_id, slot, cause, index = orjson.loads(raw)
        if not all(isinstance(v, str) for v in (shop, kind, subject_id, slot, cause)) \
                or type(index) is not int:
            raise ValueError("not a role timer payload")
        return cls(shop, kind, subject_id, slot, cause, index)


@dataclass(frozen=True, slots=True)
class Subjects:
    """Who an escalation is about: shop, role, subject kind and id."""

    shop: str
    role: str
    kind: str
    subject_id: str


def clock_escalation(who: Subjects, clock: ClockState, notice: Notice, fired_at: datetime,
                     resolved_at: datetime | None = None) -> Escalation:
    """The escalation a clock owes: a milestone (`warning` / `breached`) or a correction
    of one (`retracted`, or `resolved` with when it stopped)."""
    state = notice.state
    eid = escalation_id(who.shop, who.role, who.kind, who.subject_id, clock.sla, clock.cause,
                        state.value, notice.level)
    extra = {"action": clock.action} if clock.action and state == EscalationState.BREACHED \
        else {}
    return Escalation(
        escalation_id=eid, shop_id=who.shop, role=Role(who.role),
        subject=Subject(kind=SubjectKind(who.kind), id=who.subject_id), sla=SlaKind(clock.sla),
        level=notice.level, state=state, deadline=from_us(clock.deadline, fired_at.tzinfo),
        fired_at=fired_at, trace_id=clock.trace or None,
        resolved_at=resolved_at if state == EscalationState.RESOLVED else None, **extra,
    )


def raised(who: Subjects, sla: SlaKind, cause: str, fired_at: datetime,
           trace_id: str | None) -> Escalation:
    """An event that escalates at once: state `raised`, level 2, no deadline."""
    state = EscalationState.RAISED
    eid = escalation_id(who.shop, who.role, who.kind, who.subject_id, sla.value, cause,
                        state.value, 2)
    return Escalation(
        escalation_id=eid, shop_id=who.shop, role=Role(who.role),
        subject=Subject(kind=SubjectKind(who.kind), id=who.subject_id), sla=sla, level=2,
        state=state, deadline=None, fired_at=fired_at, trace_id=trace_id,
    )


def assignment(shop: str, role: str, conv_id: str, agent_id: str | None, reason: str,
               at: datetime, trace_id: str | None) -> Assignment:
    return Assignment(conversation_id=conv_id, shop_id=shop, role=Role(role),
                      agent_id=agent_id or None, reason=AssignmentReason(reason), at=at,
                      trace_id=trace_id)
