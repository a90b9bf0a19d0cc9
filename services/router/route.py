"""Where each valid inbound event goes (CONTRACT.md, "Output topics"). Works on the
batch-local RouterContext only: no I/O here."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from contracts import EventType, Intent, Priority, Role, event_key, to_json_bytes
from contracts.routed import Routing, with_routing
from contracts.topics import ORDERS, ROLE_EVENT_TYPES, role_topic
from services.core.outputs import Outgoing
from services.router.context import RouterContext
from services.router.stages import next_state

ClassifierFor = Callable[[str], object]  # shop_id -> Classifier


def route_event(
    event, ctx: RouterContext, classifier_for: ClassifierFor, now: datetime
) -> list[Outgoing]:
    """The outputs of one new (not duplicate) event; updates `ctx` as the event's effect."""
    if event.event_type in ROLE_EVENT_TYPES:
        return _route_role_event(event, ctx, classifier_for, now)
    _track_order(event, ctx)
    return [Outgoing(ORDERS, event_key(event), to_json_bytes(event))]


def _route_role_event(event, ctx: RouterContext, classifier_for: ClassifierFor, now: datetime):
    shop, payload = event.shop_id, event.payload
    kind = event.event_type
    if kind == EventType.AGENT_STATUS:
        body = to_json_bytes(with_routing(event))
        return [Outgoing(role_topic(role), payload.agent_id, body) for role in payload.roles]
    conv_key = ctx.conversation_key(shop, payload.conversation_id)
    sticky = ctx.get(conv_key)
    if kind != EventType.BUYER_MESSAGE:
        role = sticky or Role.PRESALE.value
        return [
            Outgoing(role_topic(role), payload.conversation_id, to_json_bytes(with_routing(event)))
        ]
    stage = _buyer_order_stage(event, ctx)
    decision = classifier_for(shop).classify(payload.text, order_stage=stage, sticky_role=sticky)
    routing = Routing.model_construct(
        intent=Intent(decision.intent),
        role=Role(decision.role),
        priority=Priority(decision.priority),
        confidence=decision.confidence,
        reason=decision.reason,
        routed_at=now,
    )
    ctx.set(conv_key, decision.role)
    if payload.order_id:
        ctx.set(ctx.buyer_order_key(shop, payload.buyer_id), payload.order_id)
    body = to_json_bytes(with_routing(event, routing))
    return [Outgoing(role_topic(decision.role), payload.conversation_id, body)]


def _buyer_order_stage(event, ctx: RouterContext) -> str | None:
    """Stage of the order the message names, else of the buyer's latest order."""
    shop, payload = event.shop_id, event.payload
    order_id = payload.order_id or ctx.get(ctx.buyer_order_key(shop, payload.buyer_id))
    if not order_id:
        return None
    return ctx.order(shop, order_id).stage


def _track_order(event, ctx: RouterContext) -> None:
    shop, payload = event.shop_id, event.payload
    order_id = getattr(payload, "order_id", None)
    case_id = getattr(payload, "case_id", None)
    if case_id:
        case_key = ctx.case_key(shop, case_id)
        if order_id:
            ctx.set(case_key, order_id)
        else:
            order_id = ctx.get(case_key)
    if not order_id:
        return
    state = next_state(ctx.order(shop, order_id), event)
    ctx.set_order(shop, order_id, state)
    buyer = getattr(payload, "buyer_id", None)
    if buyer and event.event_type in (EventType.ORDER_CREATED, EventType.ORDER_PAID):
        ctx.set(ctx.buyer_order_key(shop, buyer), order_id)
