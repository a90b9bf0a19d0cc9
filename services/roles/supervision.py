"""Supervisor actions from the console (pure, on the batch's decider):

- `escalation.acknowledged`: the supervisor took charge of a deadline. The clock whose
  milestone has that escalation id is marked `acked` and stored so: it publishes no
  further level (a redelivery, a restart or a late timer finds the mark). An id of an
  older deadline (the clock stopped or restarted since) or of a `raised` escalation
  (no deadline) changes nothing. A conversation's clock is owned by the partition the
  action arrives on, so its timer is cancelled at once; an order's or case's clock lives
  on a `kefu.orders` partition, so its timer is left to that partition's owner, which
  finds the clock acknowledged when it fires and publishes nothing. That owner may be
  writing the same clocks meanwhile (another replica): the acknowledgement is stored
  apart from them (`Changes.acks`), so neither write undoes the other.
- `conversation.reassigned`: the conversation moves to the named agent, if that agent is
  online with free capacity (checked again by the assignment script, which moves the
  capacity: the former agent's set loses it, the new one's gains it); the former
  agent's freed place then serves the queue. An agent without room leaves the
  conversation where it is, and a conversation that is neither held nor queued
  (closed) is not reopened.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from contracts import SubjectKind
from services.roles.clock_state import LEVELS, NO_WARNING, ClockState
from services.roles.escalation import RESPONSE_SLOT, Subjects, escalation_id

if TYPE_CHECKING:
    from services.roles.decider import Decider


def is_milestone_of(who: Subjects, clock: ClockState, eid: str) -> bool:
    """Is `eid` the escalation id of one of `clock`'s milestones?"""
    return any(
        clock.due[index] != NO_WARNING
        and eid == escalation_id(who.shop, who.role, who.kind, who.subject_id, clock.sla,
                                 clock.cause, state.value, level)
        for index, (state, level) in enumerate(LEVELS))


def on_acknowledged(decider: Decider, event) -> None:
    p = event.payload
    if p.role != decider.role:
        return
    who = Subjects(event.shop_id, decider.role, p.subject.kind.value, p.subject.id)
    if p.subject.kind == SubjectKind.CONVERSATION:
        clock = decider.conv(who.shop, who.subject_id).clock
        if clock is not None and not clock.acked and is_milestone_of(who, clock, p.escalation_id):
            clock.acked = True
            decider.set_timer(who, RESPONSE_SLOT, clock)
        return
    key = (who.shop, who.kind, who.subject_id)
    clocks = decider.changes.clocks.get(key) or decider.snapshot.clocks.get(key, {})
    for sla, clock in clocks.items():  # read, not taken over: the owner writes the clocks
        if not clock.acked and is_milestone_of(who, clock, p.escalation_id):
            clock.acked = True
            decider.changes.acks.setdefault(key, {})[sla] = clock.cause


def on_reassigned(decider: Decider, event, decided: bool) -> None:
    p, shop = event.payload, event.shop_id
    if decided or p.role != decider.role:
        return
    conv = decider.conv(shop, p.conversation_id)
    if conv.agent == p.to_agent_id or not (conv.agent or conv.queued):
        return
    placer = decider.placer(shop)
    op = placer.move(conv, p.to_agent_id, cause=event.event_id)
    if op is not None:
        decider.reserve(shop, [op, *placer.drain(event.event_id)], event.trace_id)
