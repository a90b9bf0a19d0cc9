"""Where each valid inbound event goes (docs/contract.md, "Topics"). Works on the
batch-local RouterState only: no I/O here.

A valid event is passed on as the producer sent it (its original bytes), so extra
fields and formatting survive untouched; a buyer message gets its `routing` block
added to the decoded JSON object."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from contracts import EventType, Role, derive_id, event_key
from contracts.topics import ORDERS, ROLE_EVENT_TYPES, SUPERVISOR_EVENT_TYPES, role_topic
from services.core.outputs import Outgoing
from services.router.reply_scripts import buyer_locale, stored_value
from services.router.stages import next_state
from services.router.state import RouterState, declared

ClassifierFor = Callable[[str], Any]  # shop_id -> Classifier
ROLE_TOPICS = {role.value: role_topic(role) for role in Role}


def route_event(
    event,
    raw: bytes,
    data: dict[str, Any],
    ctx: RouterState,
    classifier_for: ClassifierFor,
    routed_at: str,
) -> list[Outgoing]:
    """The outputs of one new (not duplicate) event; updates `ctx` as the event's effect.
    `routed_at` is the batch's routing time, RFC 3339."""
    kind, shop, payload = event.event_type, event.shop_id, event.payload
    if kind in SUPERVISOR_EVENT_TYPES:
        return [Outgoing(ROLE_TOPICS[payload.role], event_key(event), raw)]
    if kind == EventType.REPLY_SCRIPT_PUBLISHED:
        published_ms = round(event.occurred_at.timestamp() * 1000)
        ctx.keep_script(shop, payload.script_id, stored_value(payload, published_ms))
        return []
    if kind not in ROLE_EVENT_TYPES:
        _track_order(event, ctx)
        return [Outgoing(ORDERS, event_key(event), raw)]
    if kind == EventType.AGENT_STATUS:
        return [Outgoing(ROLE_TOPICS[role], payload.agent_id, raw) for role in payload.roles]
    conv_key = ctx.conversation_key(shop, payload.conversation_id)
    sticky = ctx.get(conv_key)
    if kind != EventType.BUYER_MESSAGE:
        return [Outgoing(ROLE_TOPICS[sticky or Role.PRESALE], payload.conversation_id, raw)]
    routing = ctx.decided(shop, event.event_id) or _decide(
        event, ctx, classifier_for(shop), sticky, routed_at)
    role = routing["role"]
    ctx.set(conv_key, role)
    moved = sticky is not None and sticky != role
    handed_off = [handoff(event, sticky, role)] if moved else []
    if payload.order_id:
        ctx.set(ctx.buyer_order_key(shop, payload.buyer_id), payload.order_id)
    return [
        *handed_off,
        Outgoing(
            ROLE_TOPICS[role],
            payload.conversation_id,
            with_routing_block(raw, data, routing),
        ),
    ]


def _decide(event, ctx: RouterState, classifier, sticky: str | None,
            routed_at: str) -> dict[str, Any]:
    """Classify a buyer message into its routing block, stored before it is published
    (a redelivery sends it where it went: RouterState.decided)."""
    shop, payload = event.shop_id, event.payload
    decision = classifier.classify(
        payload.text, order_stage=_buyer_order_stage(event, ctx), sticky_role=sticky
    )
    routing = {
        "intent": decision.intent,
        "role": decision.role,
        "priority": decision.priority,
        "confidence": decision.confidence,
        "reason": decision.reason,
        "routed_at": routed_at,
    }
    replies = ctx.suggested(shop, decision.intent, buyer_locale(payload.text))
    if replies:
        routing["suggested_replies"] = replies
    ctx.decide(shop, event.event_id, routing)
    return routing


def handoff(event, from_role: str, to_role: str) -> Outgoing:
    """The conversation moved from `from_role` to `to_role` with this buyer message:
    `from_role` gets a `conversation.closed` at the message's time, so its clocks stop
    there and its agent is free (the new role answers from now on). Its id is derived
    from the message's, so a redelivery publishes the same close."""
    conv = event.payload.conversation_id
    close = {
        "event_id": derive_id("handoff", event.shop_id, event.event_id),
        "event_type": EventType.CONVERSATION_CLOSED.value,
        "schema_version": 1,
        "occurred_at": event.occurred_at.isoformat(),
        "shop_id": event.shop_id,
        "platform": event.platform,
        "payload": {"conversation_id": conv, "closed_by": f"handoff:{to_role}"},
    }
    if event.trace_id:
        close["trace_id"] = event.trace_id
    return Outgoing(ROLE_TOPICS[from_role], conv, orjson.dumps(close))


def with_routing_block(raw: bytes, data: dict[str, Any], routing: dict[str, Any]) -> bytes:
    """The producer's JSON object with `routing` appended, spliced into the original
    bytes: nothing the producer sent is re-serialised (any nesting depth, any number
    formatting survives). A producer-sent `routing` is replaced instead."""
    if "routing" in data:
        return orjson.dumps({**data, "routing": routing})
    body = raw.rstrip()
    return body[:-1].rstrip() + b',"routing":' + orjson.dumps(routing) + b"}"


def _buyer_order_stage(event, ctx: RouterState) -> str | None:
    """Stage of the order the message names, else of the buyer's latest order."""
    shop, payload = event.shop_id, event.payload
    order_id = payload.order_id or ctx.get(ctx.buyer_order_key(shop, payload.buyer_id))
    if not order_id:
        return None
    return ctx.order(shop, order_id).stage


def _track_order(event, ctx: RouterState) -> None:
    shop, payload = event.shop_id, event.payload
    order_id = declared(payload, "order_id")
    case_id = declared(payload, "case_id")
    if case_id:
        case_key = ctx.case_key(shop, case_id)
        if order_id:
            ctx.set(case_key, order_id)
        else:
            order_id = ctx.get(case_key)
    if not order_id:
        return
    ctx.set_order(shop, order_id, next_state(ctx.order(shop, order_id), event))
    buyer = declared(payload, "buyer_id")
    if buyer and event.event_type in (EventType.ORDER_CREATED, EventType.ORDER_PAID):
        ctx.set(ctx.buyer_order_key(shop, buyer), order_id)
