"""The order stage the router keeps (README, "Track each order's stage"), event by event:
an after-sale case opens over whatever stage the order had and gives it back when the
case ends; a late carrier scan never takes a delivered order back."""

from __future__ import annotations

import orjson
import pytest

from contracts import example, parse_inbound
from services.router.stages import OrderState, next_state
from services.router.state import RouterState


def event(kind: str, **payload):
    return parse_inbound(orjson.dumps(example(kind, payload=payload)))


def stage_after(*events) -> str | None:
    state = OrderState()
    for e in events:
        state = next_state(state, e)
    return state.stage


CREATED, PAID, SHIPPED = event("order.created"), event("order.paid"), event("order.shipped")
CANCELLED = event("order.cancelled")
IN_TRANSIT = event("logistics.update", status="in_transit")
DELIVERED = event("logistics.update", status="delivered")
CASE = event("aftersale.requested")


def case_update(status: str):
    return event("aftersale.updated", status=status)


@pytest.mark.parametrize(("events", "stage"), [
    ((CREATED,), "created"),
    ((CREATED, PAID), "paid"),
    ((CREATED, PAID, SHIPPED), "shipped"),
    ((PAID, CANCELLED), "cancelled"),
    ((SHIPPED, IN_TRANSIT), "shipped"),
    ((PAID, IN_TRANSIT), "shipped"),  # a scan shows it left, even if order.shipped is late
    ((SHIPPED, DELIVERED), "delivered"),
    ((PAID, DELIVERED), "delivered"),
    ((SHIPPED, DELIVERED, IN_TRANSIT), "delivered"),  # a scan read late
    ((DELIVERED, CASE), "aftersale_open"),
    ((PAID, CASE), "aftersale_open"),
])
def test_each_event_moves_the_stage(events, stage) -> None:
    assert stage_after(*events) == stage


@pytest.mark.parametrize("closing", ["refunded", "closed", "rejected"])
def test_a_case_that_ends_gives_the_order_back_its_stage(closing) -> None:
    assert stage_after(SHIPPED, DELIVERED, CASE, case_update(closing)) == "delivered"
    assert stage_after(PAID, CASE, case_update(closing)) == "paid"


@pytest.mark.parametrize("ongoing", ["agreed", "returned_goods_received", "platform_intervened"])
def test_a_case_still_in_progress_stays_open(ongoing) -> None:
    assert stage_after(DELIVERED, CASE, case_update(ongoing)) == "aftersale_open"


def test_what_happens_to_the_order_while_a_case_is_open_is_its_stage_after() -> None:
    assert stage_after(PAID, CASE, SHIPPED) == "aftersale_open"
    assert stage_after(PAID, CASE, SHIPPED, case_update("closed")) == "shipped"
    assert stage_after(SHIPPED, CASE, DELIVERED, case_update("refunded")) == "delivered"
    assert stage_after(PAID, CASE, CANCELLED) == "cancelled", "a cancellation is at once"


def test_a_second_request_keeps_the_stage_to_return_to() -> None:
    assert stage_after(PAID, CASE, CASE, case_update("closed")) == "paid"


def test_a_case_on_an_order_never_seen_ends_as_delivered() -> None:
    assert stage_after(CASE) == "aftersale_open"
    assert stage_after(CASE, case_update("closed")) == "delivered"


@pytest.mark.parametrize("kind", ["order.changed", "order.delayed", "review.posted"])
def test_other_order_events_leave_the_stage(kind) -> None:
    assert stage_after(PAID, event(kind)) == "paid"
    assert stage_after(DELIVERED, CASE, event(kind), case_update("closed")) == "delivered"


def test_the_buyer_is_remembered_from_the_events_that_name_one() -> None:
    state = next_state(OrderState(), event("order.paid", buyer_id="b-1"))
    state = next_state(state, IN_TRANSIT)  # a scan names no buyer
    assert state.buyer_id == "b-1"
    assert next_state(state, event("aftersale.requested", buyer_id="b-2")).buyer_id == "b-2"


@pytest.mark.parametrize("state", [
    OrderState("aftersale_open", "shipped", "b-1"),
    OrderState("paid", None, "b-1"),
    OrderState("aftersale_open", "delivered", None),
    OrderState(),
])
def test_the_state_stored_for_the_next_batch_reads_back_whole(state) -> None:
    """What one batch writes to Redis is what the next batch (or another router) reads:
    the stage a case gives back and the buyer included."""
    writer = RouterState(ttl=60, dedup_ttl=60)
    writer.set_order("s1", "o-1", state)
    reader = RouterState(ttl=60, dedup_ttl=60)
    for key, value in writer.writes().items():
        reader.know(key, value)
    assert reader.order("s1", "o-1") == state
