"""Order and case clock rules of pre-sale and after-sale, and `plan` (pure)."""

from datetime import datetime, timedelta

import orjson

from contracts import SlaKind, SubjectKind, example, parse_inbound
from services.aftersale.rules import aftersale_rules
from services.core.policy import load_policy
from services.presale.rules import presale_rules
from services.roles.clock_state import ClockState, from_us, to_us
from services.roles.rules import STOPPED, ClockRecord, Raise, Start, Stop, record_of
from tests.unit.role_harness import Role, at

POLICY = load_policy(None).for_shop("shop-demo")
ORDER, CASE = SubjectKind.ORDER, SubjectKind.CASE
T0 = datetime.fromisoformat("2026-11-22T20:00:00+08:00")


def event(kind: str, at: datetime = T0, **payload):
    body = example(kind, occurred_at=at.isoformat(), payload={"order_id": "o1", **payload})
    return parse_inbound(orjson.dumps(body))


def book(**records):
    """A ClockView over {sla: ClockRecord} of order o1 / case k1."""
    return lambda kind, subject, sla: records.get(sla.value)


NONE = book()


def test_paid_starts_ship_by_with_the_policy_default_or_the_promise() -> None:
    [cmd] = presale_rules(event("order.paid", promised_ship_by=None), NONE, POLICY)
    assert cmd == Start(ORDER, "o1", SlaKind.SHIP_BY, T0, T0 + timedelta(hours=48))
    promised = T0 + timedelta(hours=24)
    [cmd] = presale_rules(event("order.paid", promised_ship_by=promised.isoformat()), NONE, POLICY)
    assert cmd.deadline == promised


def test_paid_again_or_after_shipping_does_not_restart() -> None:
    running = ClockRecord(True, T0, T0 + timedelta(hours=48))
    assert presale_rules(event("order.paid"), book(ship_by=running), POLICY) == []
    assert presale_rules(event("order.paid"), book(ship_by=STOPPED), POLICY) == []


def test_delay_moves_the_deadline_and_keeps_the_start() -> None:
    running = ClockRecord(True, T0, T0 + timedelta(hours=48))
    later = T0 + timedelta(hours=72)
    delayed = event("order.delayed", T0 + timedelta(hours=10), new_ship_by=later.isoformat())
    assert presale_rules(delayed, book(ship_by=running), POLICY) == [
        Start(ORDER, "o1", SlaKind.SHIP_BY, T0, later)]
    assert presale_rules(delayed, book(ship_by=STOPPED), POLICY) == []


def test_shipped_and_cancelled_stop_both_order_clocks() -> None:
    for kind in ("order.shipped", "order.cancelled"):
        assert presale_rules(event(kind), NONE, POLICY) == [
            Stop(ORDER, "o1", SlaKind.SHIP_BY),
            Stop(ORDER, "o1", SlaKind.ORDER_CHANGE_CONFIRMATION)]


def test_order_change_awaiting_the_buyer_and_its_confirmation() -> None:
    sla = SlaKind.ORDER_CHANGE_CONFIRMATION
    [cmd] = presale_rules(event("order.changed", awaiting_buyer_confirmation=True), NONE, POLICY)
    assert cmd == Start(ORDER, "o1", sla, T0, T0 + timedelta(hours=24),
                        {"action": "ship_as_ordered"})
    running = book(order_change_confirmation=ClockRecord(True, T0, T0))
    done = event("order.changed", awaiting_buyer_confirmation=False)
    assert presale_rules(done, running, POLICY) == [Stop(ORDER, "o1", sla)]
    assert presale_rules(done, NONE, POLICY) == []
    shipped = book(ship_by=STOPPED)
    assert presale_rules(event("order.changed", awaiting_buyer_confirmation=True), shipped,
                         POLICY) == []


def test_presale_ignores_after_sale_events_and_vice_versa() -> None:
    assert presale_rules(event("review.posted", rating=1), NONE, POLICY) == []
    assert aftersale_rules(event("order.paid"), NONE, POLICY) == []


def test_aftersale_request_and_its_stops() -> None:
    sla = SlaKind.AFTERSALE_RESPONSE
    [cmd] = aftersale_rules(event("aftersale.requested", case_id="k1", respond_by=None), NONE,
                            POLICY)
    assert cmd == Start(CASE, "k1", sla, T0, T0 + timedelta(hours=48))
    by = T0 + timedelta(hours=5)
    [cmd] = aftersale_rules(event("aftersale.requested", case_id="k1", respond_by=by.isoformat()),
                            NONE, POLICY)
    assert cmd.deadline == by
    for status in ("agreed", "rejected", "refunded", "closed"):
        assert aftersale_rules(event("aftersale.updated", case_id="k1", status=status), NONE,
                               POLICY) == [Stop(CASE, "k1", sla)]
    assert aftersale_rules(event("aftersale.updated", case_id="k1",
                                 status="returned_goods_received"), NONE, POLICY) == []


def test_raised_at_once() -> None:
    intervened = event("aftersale.updated", case_id="k1", status="platform_intervened")
    assert aftersale_rules(intervened, NONE, POLICY) == [
        Raise(CASE, "k1", SlaKind.PLATFORM_INTERVENED, intervened.event_id)]
    for rating, raises in ((1, True), (2, True), (3, False), (5, False)):
        review = event("review.posted", rating=rating)
        expected = [Raise(ORDER, "o1", SlaKind.NEGATIVE_REVIEW, review.event_id)] if raises else []
        assert aftersale_rules(review, NONE, POLICY) == expected


def test_logistics_window_restarts_on_scans_and_stops_on_arrival() -> None:
    sla, window = SlaKind.LOGISTICS_STALLED, timedelta(hours=48)
    later = T0 + timedelta(hours=30)
    assert aftersale_rules(event("order.shipped"), NONE, POLICY) == [], "no scan yet"
    for status in ("in_transit", "out_for_delivery"):
        scan = event("logistics.update", later, status=status)
        assert aftersale_rules(scan, NONE, POLICY) == [
            Start(ORDER, "o1", sla, later, later + window)]
    for status in ("delivered", "returned"):
        assert aftersale_rules(event("logistics.update", status=status), NONE, POLICY) == [
            Stop(ORDER, "o1", sla)]
    assert aftersale_rules(event("order.cancelled"), NONE, POLICY) == [Stop(ORDER, "o1", sla)]
    assert aftersale_rules(event("logistics.update", status="exception"), NONE, POLICY) == []
    late = event("logistics.update", later, status="in_transit")
    assert aftersale_rules(late, book(logistics_stalled=STOPPED), POLICY) == []


def test_the_rules_see_a_stored_clock_as_running_from_start_to_deadline_or_stopped() -> None:
    deadline = T0 + timedelta(hours=10)
    stored = ClockState("ship_by", "o1@x", to_us(T0), (0, to_us(deadline), 0), "kefu.orders:0")
    assert record_of(stored) == ClockRecord(True, T0, deadline)
    stored.running = False
    assert record_of(stored) == STOPPED and record_of(None) is None


async def test_a_platform_deadline_counts_calendar_time_and_its_cause_names_it() -> None:
    role = Role()
    await role.send(role.event("order.paid", 0, order_id="o1", buyer_id="b1"))
    [clock] = role.store.clocks[("s1", "order", "o1")].values()
    assert clock.cause == "o1@2026-11-23T03:00:00+00:00", "order id @ the deadline in UTC"
    assert [from_us(us) for us in clock.due] == [at(2880), at(3600), at(7200)]
