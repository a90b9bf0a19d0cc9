"""After-sale's order and case clocks and immediate escalations (pure).

- `aftersale.requested` starts `aftersale_response` on the case: due at `respond_by`, else
  requested + policy `aftersale_response`; `aftersale.updated` agreed / rejected /
  refunded / closed stops it; `platform_intervened` raises at once;
- `logistics_stalled` on the order: every `in_transit` / `out_for_delivery` scan (re)starts
  the window (a parcel is in transit from its first scan on: a shop without a carrier
  feed gets no stall alerts); `delivered` / `returned` scans and `order.cancelled` stop
  it, late scans do not restart it; an `exception` scan changes nothing;
- `review.posted` with rating <= 2 raises `negative_review` at once.
"""

from __future__ import annotations

from contracts import AftersaleStatus, EventType, LogisticsStatus, SlaKind, SubjectKind
from services.core.policy import ShopPolicy
from services.roles.rules import ClockView, Command, Raise, Start, Stop, may_start

ORDER, CASE = SubjectKind.ORDER, SubjectKind.CASE
CASE_DONE = {AftersaleStatus.AGREED, AftersaleStatus.REJECTED, AftersaleStatus.REFUNDED,
             AftersaleStatus.CLOSED}
MOVING = {LogisticsStatus.IN_TRANSIT, LogisticsStatus.OUT_FOR_DELIVERY}
ARRIVED = {LogisticsStatus.DELIVERED, LogisticsStatus.RETURNED}
NEGATIVE_RATING = 2


def aftersale_rules(event, view: ClockView, policy: ShopPolicy) -> list[Command]:
    kind, payload, at = event.event_type, event.payload, event.occurred_at
    if kind == EventType.AFTERSALE_REQUESTED:
        if not may_start(view, CASE, payload.case_id, SlaKind.AFTERSALE_RESPONSE):
            return []
        deadline = payload.respond_by or at + policy.sla.aftersale_response
        return [Start(CASE, payload.case_id, SlaKind.AFTERSALE_RESPONSE, at, deadline)]
    if kind == EventType.AFTERSALE_UPDATED:
        if payload.status == AftersaleStatus.PLATFORM_INTERVENED:
            return [Raise(CASE, payload.case_id, SlaKind.PLATFORM_INTERVENED, event.event_id)]
        if payload.status in CASE_DONE:
            return [Stop(CASE, payload.case_id, SlaKind.AFTERSALE_RESPONSE)]
        return []
    if kind == EventType.REVIEW_POSTED:
        if payload.rating > NEGATIVE_RATING:
            return []
        return [Raise(ORDER, payload.order_id, SlaKind.NEGATIVE_REVIEW, event.event_id)]
    return _logistics(event, view, policy)


def _logistics(event, view: ClockView, policy: ShopPolicy) -> list[Command]:
    kind, payload, at = event.event_type, event.payload, event.occurred_at
    sla = SlaKind.LOGISTICS_STALLED
    if kind == EventType.LOGISTICS_UPDATE and payload.status in MOVING:
        if not may_start(view, ORDER, payload.order_id, sla):
            return []
        return [Start(ORDER, payload.order_id, sla, at, at + policy.sla.logistics_stalled)]
    if kind == EventType.ORDER_CANCELLED or (
            kind == EventType.LOGISTICS_UPDATE and payload.status in ARRIVED):
        return [Stop(ORDER, payload.order_id, sla)]
    return []
