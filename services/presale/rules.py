"""Pre-sale's order clocks (pure): `ship_by` and `order_change_confirmation`.

- `order.paid` starts ship_by: due at `promised_ship_by`, else paid + policy `ship_by`;
- `order.delayed` moves a running (or not yet started) ship_by to `new_ship_by`, keeping
  its start, so warning and level 3 stretch with the new budget;
- `order.shipped` / `order.cancelled` stop ship_by and order_change_confirmation;
- `order.changed` awaiting the buyer starts order_change_confirmation (policy duration);
  on expiry the escalation carries `action: ship_as_ordered`; a later `order.changed`
  that does not await the buyer stops it.
"""

from __future__ import annotations

from contracts import EventType, SlaKind, SubjectKind
from services.core.policy import ShopPolicy
from services.roles.rules import STOPPED, ClockView, Command, Start, Stop, may_start

ORDER = SubjectKind.ORDER
SHIP_AS_ORDERED = {"action": "ship_as_ordered"}


def presale_rules(event, view: ClockView, policy: ShopPolicy) -> list[Command]:
    kind, payload, at = event.event_type, event.payload, event.occurred_at
    order_id = getattr(payload, "order_id", None)
    if order_id is None:
        return []
    if kind == EventType.ORDER_PAID:
        if not may_start(view, ORDER, order_id, SlaKind.SHIP_BY):
            return []
        running = view(ORDER, order_id, SlaKind.SHIP_BY)
        if running is not None:  # paid twice: the first clock stands
            return []
        deadline = payload.promised_ship_by or at + policy.sla.ship_by
        return [Start(ORDER, order_id, SlaKind.SHIP_BY, at, deadline)]
    if kind == EventType.ORDER_DELAYED:
        if not may_start(view, ORDER, order_id, SlaKind.SHIP_BY):
            return []
        running = view(ORDER, order_id, SlaKind.SHIP_BY)
        start = running.start if running is not None else at
        return [Start(ORDER, order_id, SlaKind.SHIP_BY, start, payload.new_ship_by)]
    if kind in (EventType.ORDER_SHIPPED, EventType.ORDER_CANCELLED):
        return [Stop(ORDER, order_id, SlaKind.SHIP_BY),
                Stop(ORDER, order_id, SlaKind.ORDER_CHANGE_CONFIRMATION)]
    if kind == EventType.ORDER_CHANGED:
        sla = SlaKind.ORDER_CHANGE_CONFIRMATION
        if not payload.awaiting_buyer_confirmation:
            return [Stop(ORDER, order_id, sla)] if view(ORDER, order_id, sla) else []
        if view(ORDER, order_id, SlaKind.SHIP_BY) == STOPPED:
            return []  # already shipped or cancelled: nothing left to confirm
        deadline = at + policy.sla.order_change_confirmation
        return [Start(ORDER, order_id, sla, at, deadline, SHIP_AS_ORDERED)]
    return []

