"""One row per fact (pure): what the store keeps of each message kefu's topics carry.
Rows are plain dicts keyed by the column names of `sql/schema/`."""

from __future__ import annotations

import hashlib
from datetime import tzinfo
from typing import Any

import orjson

from contracts import (
    Assignment,
    DeadLetter,
    Escalation,
    EventType,
    Notification,
)
from services.analytics.timefmt import ch_time, ch_time_or_none, local_fields

Row = dict[str, Any]


def message_row(event, role: str, tz: tzinfo) -> Row:
    """A chat event of a role topic (`role` is the topic's role)."""
    payload, kind = event.payload, event.event_type
    row = {
        "shop_id": event.shop_id, "occurred_at": ch_time(event.occurred_at),
        "event_id": event.event_id, "event_type": kind.value, "role": role,
        "conversation_id": "", "buyer_id": "", "agent_id": "", "intent": "", "priority": "",
        "item_id": "", "order_id": "", "script_id": "", "status": "",
        **local_fields(event.occurred_at, tz),
    }
    if kind == EventType.AGENT_STATUS:  # it goes to every role the agent serves
        row.update(role="", agent_id=payload.agent_id, status=payload.status.value)
        return row
    row["conversation_id"] = payload.conversation_id
    if kind == EventType.BUYER_MESSAGE:
        routing = event.routing
        row.update(buyer_id=payload.buyer_id, item_id=payload.item_id or "",
                   order_id=payload.order_id or "")
        if routing is not None:
            row.update(intent=routing.intent.value, priority=routing.priority.value)
    elif kind == EventType.AGENT_MESSAGE:
        row.update(agent_id=payload.agent_id, script_id=payload.script_id or "")
    return row


def commerce_row(event, tz: tzinfo, order_items: list[str] = ()) -> Row:
    """An order, logistics, after-sale or review event of kefu.orders. A case or review
    that names no item is about the items of its order (`order_items`, as known)."""
    payload, kind = event.payload, event.event_type
    if kind == EventType.ORDER_CHANGED:
        detail = payload.change.value
    else:
        detail = getattr(getattr(payload, "kind", None), "value", "")
    status = getattr(payload, "status", None)
    return {
        "shop_id": event.shop_id,
        "occurred_at": ch_time(event.occurred_at),
        "event_id": event.event_id,
        "event_type": kind.value,
        "order_id": getattr(payload, "order_id", None) or "",
        "buyer_id": getattr(payload, "buyer_id", None) or "",
        "case_id": getattr(payload, "case_id", None) or "",
        "item_id": getattr(payload, "item_id", None) or "",
        "item_ids": _items_of(event, order_items),
        "kind": detail,
        "reason": getattr(payload, "reason", None) or "",
        "status": status.value if status is not None else "",
        "rating": getattr(payload, "rating", 0) or 0,
        **local_fields(event.occurred_at, tz),
    }


def item_ids(event) -> list[str]:
    """The products of an order event's items[] (order.created, order.paid)."""
    items = getattr(event.payload, "items", None) or ()
    return list(dict.fromkeys(item.item_id for item in items if item.item_id))


def _items_of(event, order_items: list[str]) -> list[str]:
    if event.event_type not in (EventType.AFTERSALE_REQUESTED, EventType.REVIEW_POSTED):
        return []
    named = event.payload.item_id
    return [named] if named else list(order_items)


def order_item_rows(event) -> list[Row]:
    """The lines of an order.created / order.paid that name their product."""
    if event.event_type not in (EventType.ORDER_CREATED, EventType.ORDER_PAID):
        return []
    return [
        {
            "shop_id": event.shop_id,
            "occurred_at": ch_time(event.occurred_at),
            "event_id": event.event_id,
            "line": line,
            "order_id": event.payload.order_id,
            "item_id": item.item_id,
            "title": item.title or item.name or "",
            "quantity": item.quantity or 1,
        }
        for line, item in enumerate(event.payload.items)
        if item.item_id
    ]


def escalation_row(esc: Escalation) -> Row:
    return {
        "shop_id": esc.shop_id,
        "fired_at": ch_time(esc.fired_at),
        "escalation_id": esc.escalation_id,
        "role": esc.role.value,
        "subject_kind": esc.subject.kind.value,
        "subject_id": esc.subject.id,
        "sla": esc.sla.value,
        "level": esc.level,
        "state": esc.state.value,
        "deadline": ch_time_or_none(esc.deadline),
        "resolved_at": ch_time_or_none(esc.resolved_at),
        "action": esc.action or "",
    }


def assignment_row(item: Assignment) -> Row:
    row = {
        "shop_id": item.shop_id,
        "at": ch_time(item.at),
        "conversation_id": item.conversation_id,
        "role": item.role.value,
        "agent_id": item.agent_id or "",
        "reason": item.reason.value,
    }
    return {**row, "assignment_id": digest(*row.values())}


def notification_row(note: Notification) -> Row:
    return {
        "shop_id": note.shop_id,
        "created_at": ch_time(note.created_at),
        "notification_id": note.notification_id,
        "audience": note.audience.value,
        "kind": note.kind.value,
        "channel": note.channel,
        "locale": note.locale,
        "order_id": note.order_id or "",
        "conversation_id": note.conversation_id or "",
    }


def dead_letter_row(letter: DeadLetter) -> Row:
    original = _json_object(letter.raw_bytes()) if letter.raw_encoding is None else {}
    shop = original.get("shop_id")
    event_type = original.get("event_type")
    return {
        "shop_id": shop if isinstance(shop, str) and 0 < len(shop) <= 64 else "",
        "failed_at": ch_time(letter.failed_at),
        "letter_id": digest(letter.service, letter.source_topic, str(letter.partition),
                            str(letter.offset), letter.reason.value, letter.raw),
        "service": letter.service,
        "reason": letter.reason.value,
        "source_topic": letter.source_topic,
        "partition": letter.partition,
        "offset": letter.offset,
        "event_type": event_type if isinstance(event_type, str) else "",
        "detail": letter.detail[:500],
    }


def digest(*parts: Any) -> str:
    """A stable id for a fact that carries none of its own."""
    text = "\x1f".join(str(p) for p in parts)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}
