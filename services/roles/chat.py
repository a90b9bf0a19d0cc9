"""Conversation events of a role topic: response clocks, complaints, assignment, agent
presence. Decisions are pure (`conversation.py`, `assignment.py`); this module wires them
to the batch context, the ledger and the outputs."""

from __future__ import annotations

from collections.abc import Callable

from contracts import (
    ASSIGNMENTS,
    ESCALATIONS,
    AgentStatus,
    Assignment,
    EventType,
    SlaKind,
    SubjectKind,
)
from services.core.outputs import Outgoing
from services.core.policy import ShopPolicy
from services.roles import capacity
from services.roles.context import RoleContext
from services.roles.conversation import (
    on_agent_message,
    on_buyer_message,
    on_closed,
    response_clock,
)
from services.roles.escalation import Due, escalation, raised

CONV = SubjectKind.CONVERSATION


class ChatFlow:
    def __init__(self, role: str, policy_for: Callable[[str], ShopPolicy]) -> None:
        self.role, self.policy_for = role, policy_for

    async def handle(self, event, ctx: RoleContext) -> list[Outgoing]:
        assigner, shop, trace = ctx.assigner, event.shop_id, event.trace_id
        out = _assignments(await assigner.replay(shop, event.event_id, trace))
        kind = event.event_type
        if kind == EventType.AGENT_STATUS:
            return out + await self._agent_status(event, ctx)
        state = ctx.conv(shop, event.payload.conversation_id)
        if kind == EventType.BUYER_MESSAGE:
            change = on_buyer_message(state, event)
            if change.started:
                ctx.start_timers(response_clock(state, event, self.role, self.policy_for(shop)))
            if change.complaint:
                due = raised(shop, self.role, CONV, state.conv_id, SlaKind.COMPLAINT, state.cause,
                             trace)
                out.append(self._escalation(due, assigner.now))
            if change.wants_agent and state.acause != event.event_id:
                placed = await assigner.place(shop, state, event.event_id, expect="free",
                                              trace=trace)
                out += _assignments([placed] if placed else [])
            return out
        if kind == EventType.AGENT_MESSAGE:
            change = on_agent_message(state, event)
            if state.buyer:
                window = self.policy_for(shop).assignment.sticky_window.total_seconds()
                ctx.served(shop, state.buyer, event.payload.agent_id, assigner.now_ms,
                           int(window * 1000))
        else:
            change = on_closed(state, event)
            freed = await assigner.ledger.release(shop, state.conv_id, event.event_id)
            state.agent, state.reason, state.acause = "", "", event.event_id
            if freed in assigner.boards.get(shop, {}):
                assigner.boards[shop][freed].load -= 1
            out += _assignments(await capacity.drain(assigner, shop, event.event_id, trace))
        if change.stopped:
            ctx.stop_timers(shop, self.role, CONV, state.conv_id, "response")
        return out

    async def _agent_status(self, event, ctx: RoleContext) -> list[Outgoing]:
        payload, shop, trace = event.payload, event.shop_id, event.trace_id
        assigner = ctx.assigner
        status = payload.status if self.role in payload.roles else AgentStatus.OFFLINE
        held = await capacity.presence(assigner, shop, payload.agent_id, status,
                                       payload.max_concurrent)
        if status != AgentStatus.ONLINE:
            placed = await capacity.hand_back(assigner, shop, payload.agent_id, held,
                                              event.event_id, trace)
            return _assignments(placed)
        return _assignments(await capacity.drain(assigner, shop, event.event_id, trace))

    def _escalation(self, due: Due, now) -> Outgoing:
        model = escalation(due, now.astimezone(self.policy_for(due.shop).timezone))
        return Outgoing.of(ESCALATIONS, model.kafka_key, model)


def _assignments(items: list[Assignment]) -> list[Outgoing]:
    return [Outgoing.of(ASSIGNMENTS, a.kafka_key, a) for a in items]
