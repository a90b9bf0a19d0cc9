"""Order stage from order, logistics and after-sale events (pure, no I/O)."""

from __future__ import annotations

from typing import NamedTuple

from contracts import AftersaleStatus, EventType, OrderStage

AFTERSALE_CLOSING = {AftersaleStatus.REFUNDED, AftersaleStatus.CLOSED, AftersaleStatus.REJECTED}


class OrderState(NamedTuple):
    """What the router remembers of an order: its stage, the stage before an after-sale
    case opened (restored when the case ends) and the buyer."""

    stage: str | None = None
    before_aftersale: str | None = None
    buyer_id: str | None = None


def next_state(state: OrderState, event) -> OrderState:
    """The order state after `event` (an order, logistics or after-sale envelope)."""
    kind = event.event_type
    payload = event.payload
    declared_buyer = payload.buyer_id if "buyer_id" in type(payload).model_fields else None
    buyer = declared_buyer or state.buyer_id
    stage = {
        EventType.ORDER_CREATED: OrderStage.CREATED,
        EventType.ORDER_PAID: OrderStage.PAID,
        EventType.ORDER_SHIPPED: OrderStage.SHIPPED,
        EventType.ORDER_CANCELLED: OrderStage.CANCELLED,
    }.get(kind)
    if stage is not None:
        if state.stage == OrderStage.AFTERSALE_OPEN and kind != EventType.ORDER_CANCELLED:
            return OrderState(state.stage, stage.value, buyer)
        return OrderState(stage.value, state.before_aftersale, buyer)
    if kind == EventType.LOGISTICS_UPDATE:
        scan = OrderStage.DELIVERED if payload.status == "delivered" else OrderStage.SHIPPED
        if state.stage == OrderStage.AFTERSALE_OPEN:
            return OrderState(state.stage, scan.value, buyer)
        if state.stage == OrderStage.DELIVERED and scan == OrderStage.SHIPPED:
            return OrderState(state.stage, state.before_aftersale, buyer)  # late scan
        return OrderState(scan.value, state.before_aftersale, buyer)
    if kind == EventType.AFTERSALE_REQUESTED:
        if state.stage == OrderStage.AFTERSALE_OPEN:
            return OrderState(state.stage, state.before_aftersale, buyer)
        return OrderState(OrderStage.AFTERSALE_OPEN.value, state.stage, buyer)
    if kind == EventType.AFTERSALE_UPDATED and payload.status in AFTERSALE_CLOSING:
        if state.stage == OrderStage.AFTERSALE_OPEN:
            return OrderState(state.before_aftersale or OrderStage.DELIVERED.value, None, buyer)
    return OrderState(state.stage, state.before_aftersale, buyer)
