"""One conversation as a role service sees it, and how chat events change it (pure).

Response clocks: `first_response` starts at the first unanswered buyer message of a
session, `next_response` at a buyer message after an agent reply; further buyer messages
while a clock runs do not restart it; an agent message stops it; `conversation.closed`
stops it and ends the session (the next buyer message opens a new one)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from contracts import Intent, Priority, SlaKind, SubjectKind
from services.roles.assignment import QUEUED
from services.roles.clocks import Clock, business_milestones, deadline_of

# Fields the handler writes after ack; the assignment fields are written by Lua only.
HANDLER_FIELDS = ("buyer", "priority", "opened", "clock", "cause", "started", "answered",
                  "stopped", "trace")


def _ms(at: datetime) -> int:
    return round(at.timestamp() * 1000)


@dataclass(slots=True)
class ConvState:
    conv_id: str
    buyer: str = ""
    agent: str = ""
    reason: str = ""
    acause: str = ""
    at: int = 0
    priority: str = Priority.NORMAL.value
    opened: int = 0
    clock: str = ""
    cause: str = ""
    started: int = 0
    answered: bool = False
    stopped: str = ""
    trace: str = ""

    @property
    def queued(self) -> bool:
        return not self.agent and self.reason == QUEUED

    @classmethod
    def from_hash(cls, conv_id: str, data: dict[str, str]) -> ConvState:
        ints = {k: int(data[k]) for k in ("at", "opened", "started") if data.get(k)}
        texts = {k: data[k] for k in ("buyer", "agent", "reason", "acause", "priority", "clock",
                                      "cause", "stopped", "trace") if data.get(k)}
        return cls(conv_id, **texts, **ints, answered=data.get("answered") == "1")

    def handler_fields(self) -> dict[str, str]:
        values = {k: getattr(self, k) for k in HANDLER_FIELDS}
        values["answered"] = "1" if self.answered else ""
        return {k: str(v) for k, v in values.items()}


@dataclass(slots=True)
class Change:
    started: SlaKind | None = None  # a response clock started, caused by this event
    stopped: bool = False  # the running response clock stopped
    complaint: bool = False  # raise a complaint escalation now
    wants_agent: bool = False  # the conversation needs an agent


def on_buyer_message(state: ConvState, event) -> Change:
    payload, routing = event.payload, getattr(event, "routing", None)
    change = Change()
    state.buyer = payload.buyer_id
    if not state.opened:
        state.opened = _ms(event.occurred_at)
    if routing is not None and Priority(routing.priority).rank > Priority(state.priority).rank:
        state.priority = Priority(routing.priority).value
    if not state.clock:
        kind = SlaKind.NEXT_RESPONSE if state.answered else SlaKind.FIRST_RESPONSE
        state.clock, state.cause, state.started = kind.value, event.event_id, _ms(event.occurred_at)
        state.trace = event.trace_id or ""
        change.started = kind
    change.complaint = routing is not None and routing.intent == Intent.COMPLAINT
    change.wants_agent = not state.agent
    return change


def on_agent_message(state: ConvState, event) -> Change:
    state.answered = True
    return _stop(state)


def on_closed(state: ConvState, event) -> Change:
    change = _stop(state)
    state.answered, state.opened, state.priority = False, 0, Priority.NORMAL.value
    return change


def _stop(state: ConvState) -> Change:
    if not state.clock:
        return Change()
    state.stopped, state.clock, state.started = state.cause, "", 0
    return Change(stopped=True)


def response_clock(state: ConvState, event, role: str, policy) -> Clock:
    """The response clock `state` just started (business time of the shop's calendar)."""
    sla = SlaKind(state.clock)
    budget = getattr(getattr(policy.sla, role), sla.value)
    milestones = business_milestones(policy.calendar, event.occurred_at, budget, policy.warn_at,
                                     policy.level3_after)
    return Clock(event.shop_id, role, SubjectKind.CONVERSATION, state.conv_id, sla, state.cause,
                 deadline_of(milestones), milestones, event.trace_id)
