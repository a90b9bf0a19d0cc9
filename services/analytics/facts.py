"""One row per fact (pure): what the store keeps of the events of the role topics and
kefu.orders (`output_facts.py`: of the services' output messages). Rows are plain dicts
keyed by the column names of `sql/schema/`."""

from __future__ import annotations

import hashlib
from datetime import tzinfo
from typing import Any

from pydantic import BaseModel

from contracts import EventType
from services.analytics.timefmt import ch_time, local_fields

Row = dict[str, Any]


def field_of(model: BaseModel, name: str) -> Any:
    """`getattr(model, name, None)` for a field of a contract model, declared or extra,
    without the AttributeError that pydantic raises (and getattr catches) when it is
    absent: that costs 2 us, and an order event's row asks for half a dozen absent ones."""
    declared = model.__dict__
    if name in declared:
        return declared[name]
    extra = model.__pydantic_extra__
    return extra.get(name) if extra else None


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
        detail = getattr(field_of(payload, "kind"), "value", "")
    status = field_of(payload, "status")
    return {
        "shop_id": event.shop_id,
        "occurred_at": ch_time(event.occurred_at),
        "event_id": event.event_id,
        "event_type": kind.value,
        "order_id": field_of(payload, "order_id") or "",
        "buyer_id": field_of(payload, "buyer_id") or "",
        "case_id": field_of(payload, "case_id") or "",
        "item_id": field_of(payload, "item_id") or "",
        "item_ids": _items_of(event, order_items),
        "kind": detail,
        "reason": field_of(payload, "reason") or "",
        "status": status.value if status is not None else "",
        "rating": field_of(payload, "rating") or 0,
        **local_fields(event.occurred_at, tz),
    }


def item_ids(event) -> list[str]:
    """The products of an order event's items[] (order.created, order.paid)."""
    items = field_of(event.payload, "items") or ()
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


def digest(*parts: Any) -> str:
    """A stable id for a fact that carries none of its own."""
    text = "\x1f".join(str(p) for p in parts)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
