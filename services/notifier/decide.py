"""Which notifications an event causes (pure: no Redis, no clock, no policy texts).

Each `Draft` carries its deterministic `notification_id`, so a redelivered cause gives
the same id and the dedup record drops the repeat:

- buyer notices of order events: ``derive_id("notification", shop, event_id, kind, audience)``;
- ``escalation_alert``: the same over the ``escalation_id``;
- ``escalation_retracted``: over the ``escalation_id`` of the retraction, which names the
  same deadline and level as the alert it takes back (supervisors hear of level 2 and
  above, so only those are taken back);
- ``stalled_parcel``: over the stall (order and deadline), not one escalation, so the
  warning, the breach and the level-3 escalation of one stall give one notice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from contracts import Escalation, EventType, derive_id
from contracts.envelopes import Envelope

BUYER_SCANS = frozenset({"out_for_delivery", "exception", "returned"})


@dataclass(frozen=True, slots=True)
class Draft:
    """A notification decided but not yet worded."""

    notification_id: str
    shop_id: str
    kind: str
    audience: str
    order_id: str | None = None
    conversation_id: str | None = None
    trace_id: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    capped: bool = False  # counts against notify.logistics_updates.max_per_order


def notification_id(shop_id: str, cause: str, kind: str, audience: str) -> str:
    return derive_id("notification", shop_id, cause, kind, audience)


def _buyer(event: Envelope, kind: str, capped: bool = False, **facts: Any) -> Draft:
    return Draft(
        notification_id(event.shop_id, event.event_id, kind, "buyer"), event.shop_id, kind,
        "buyer", order_id=event.payload.order_id, trace_id=event.trace_id, facts=facts,
        capped=capped,
    )


def drafts_for_order_event(event: Envelope, *, in_transit: bool) -> list[Draft]:
    """Buyer notices of one ``kefu.orders`` event; `in_transit` is the shop's
    ``notify.logistics_updates.in_transit`` (plain in-transit scans are not worth a
    message unless the shop asks)."""
    notices = BUYER_NOTICES.get(event.event_type)
    return notices(event, in_transit) if notices is not None else []


def _shipped(event: Envelope, _in_transit: bool) -> list[Draft]:
    p = event.payload
    return [_buyer(event, "shipped", carrier=p.carrier, tracking_no=p.tracking_no)]


def _delayed(event: Envelope, _in_transit: bool) -> list[Draft]:
    p = event.payload
    return [_buyer(event, "delay_notice", reason=p.reason, new_ship_by=p.new_ship_by)]


def _scanned(event: Envelope, in_transit: bool) -> list[Draft]:
    p = event.payload
    status = str(p.status)
    if status == "delivered":
        return [_buyer(event, "delivered", tracking_no=p.tracking_no)]
    if status in BUYER_SCANS or (status == "in_transit" and in_transit):
        return [_buyer(event, "logistics_update", capped=True, status=status,
                       tracking_no=p.tracking_no, description=p.description,
                       location=p.location)]
    return []


BUYER_NOTICES: dict[EventType, Callable[[Envelope, bool], list[Draft]]] = {
    EventType.ORDER_SHIPPED: _shipped,
    EventType.ORDER_DELAYED: _delayed,
    EventType.LOGISTICS_UPDATE: _scanned,
}
"""The order event types buyers are told about, and how (the others: nothing)."""


ALERTING = frozenset({"warning", "breached", "raised"})


def drafts_for_escalation(esc: Escalation) -> list[Draft]:
    """A supervisor alert at level 2 or above, and its retraction when the deadline
    turns out to have been met; a buyer notice for a stalled parcel. A `resolved`
    deadline tells nobody anything new."""
    drafts = []
    subject = esc.subject
    if esc.state == "retracted":
        return [_supervisor(esc, "escalation_retracted")] if esc.level >= 2 else []
    if esc.state not in ALERTING:
        return []
    if esc.sla == "logistics_stalled" and subject.kind == "order":
        when = esc.deadline.astimezone(UTC).isoformat() if esc.deadline else esc.escalation_id
        stall = f"stall:{subject.id}:{when}"
        drafts.append(Draft(
            notification_id(esc.shop_id, stall, "stalled_parcel", "buyer"), esc.shop_id,
            "stalled_parcel", "buyer", order_id=subject.id, trace_id=esc.trace_id,
        ))
    if esc.level >= 2:
        drafts.append(_supervisor(esc, "escalation_alert"))
    return drafts


def _supervisor(esc: Escalation, kind: str) -> Draft:
    subject = esc.subject
    facts = {"level": esc.level, "sla": str(esc.sla), "state": str(esc.state),
             "subject_kind": str(subject.kind), "subject_id": subject.id,
             "deadline": esc.deadline, "fired_at": esc.fired_at, "role": str(esc.role)}
    return Draft(
        notification_id(esc.shop_id, esc.escalation_id, kind, "supervisor"),
        esc.shop_id, kind, "supervisor",
        order_id=subject.id if subject.kind == "order" else None,
        conversation_id=subject.id if subject.kind == "conversation" else None,
        trace_id=esc.trace_id, facts=facts,
    )
