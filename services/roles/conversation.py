"""One conversation as a role service sees it, and how chat events change it (pure).

Response clocks: `first_response` starts at the first unanswered buyer message of a
session, `next_response` at a buyer message after an agent reply; further buyer messages
while a clock runs do not restart it; an agent message stops it at its `occurred_at`;
`conversation.closed` stops it and ends the session (the next buyer message opens a new
one). Stopping judges the clock on event time (`clock_state.stop`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from contracts import Intent, Priority, SlaKind
from services.roles.assignment import QUEUED
from services.roles.clock_state import ClockState, Notice, stop, to_us
from services.roles.clocks import business_due_times


@dataclass(slots=True)
class ConvState:
    """`agent`, `reason`, `assignment_cause` (of the last assignment decision) and `at` are
    written by the assignment script only; the rest by the partition's owner."""

    conv_id: str
    buyer: str = ""
    agent: str = ""
    reason: str = ""
    assignment_cause: str = ""  # stored as the field `acause`
    at: int = 0
    priority: str = Priority.NORMAL.value
    opened: int = 0  # epoch ms of the session's first buyer message (queue order)
    answered: bool = False
    trace: str = ""
    clock: ClockState | None = None
    complained: str = ""  # the clock cause whose stretch already raised a complaint

    @property
    def queued(self) -> bool:
        return not self.agent and self.reason == QUEUED

    @property
    def running(self) -> ClockState | None:
        """The response clock while it runs."""
        return self.clock if self.clock is not None and self.clock.running else None


@dataclass(slots=True)
class Change:
    started: bool = False  # a response clock started, caused by this event
    notices: list[Notice] = field(default_factory=list)  # owed by the clock it stopped
    stopped: ClockState | None = None  # the clock this event stopped
    complaint: bool = False  # raise a complaint escalation now (once per unanswered stretch)
    wants_agent: bool = False  # the conversation needs an agent


def on_buyer_message(conv: ConvState, event, role: str, policy, shard: str) -> Change:
    payload, routing = event.payload, getattr(event, "routing", None)
    change = Change()
    conv.buyer = payload.buyer_id
    if not conv.opened:
        conv.opened = to_us(event.occurred_at) // 1000
    if routing is not None and Priority(routing.priority).rank > Priority(conv.priority).rank:
        conv.priority = Priority(routing.priority).value
    if conv.running is None:
        sla = SlaKind.NEXT_RESPONSE if conv.answered else SlaKind.FIRST_RESPONSE
        conv.clock = response_clock(sla, event, role, policy, shard)
        conv.trace = event.trace_id or ""
        change.started = True
    if routing is not None and routing.intent == Intent.COMPLAINT:
        stretch = conv.running.cause if conv.running is not None else event.event_id
        change.complaint = conv.complained != stretch
        conv.complained = stretch
    change.wants_agent = not conv.agent
    return change


def on_agent_message(conv: ConvState, event) -> Change:
    conv.answered = True
    return _stop(conv, event)


def on_closed(conv: ConvState, event) -> Change:
    change = _stop(conv, event)
    conv.answered, conv.opened, conv.priority = False, 0, Priority.NORMAL.value
    return change


def _stop(conv: ConvState, event) -> Change:
    clock = conv.running
    if clock is None:
        return Change()
    return Change(notices=stop(clock, to_us(event.occurred_at)), stopped=clock)


def response_clock(sla: SlaKind, event, role: str, policy, shard: str) -> ClockState:
    """The response clock a buyer message starts (business time of the shop's calendar)."""
    budget = getattr(getattr(policy.sla, role), sla.value)
    start = to_us(event.occurred_at)
    due = business_due_times(policy.calendar, start, budget, policy.warn_at,
                             policy.level3_after)
    return ClockState(sla.value, event.event_id, start, due, shard, trace=event.trace_id or "")
