"""Pre-sale clocks on the real broker and Redis: first/next response, ship_by and
order_change_confirmation fire warning, breached and level 3 (policy durations of 2 s);
every stop condition silences its clock. All scenarios start together in one fixture
and each test checks its own part, so the module waits once."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from contracts import topics
from tests.conftest import unique
from tests.e2e import role_replica as r

pytestmark = pytest.mark.e2e
SETTLE_UNTIL = 6.0  # seconds after the start: every level 3 of the module is due by then


@pytest.fixture(scope="module")
async def sent(presale, kafka):
    """Send every scenario at once; returns its ids and the escalations of the shop."""
    shop = unique("shop")
    ids = {name: unique(name) for name in (
        "first", "next", "closed", "dup", "paid", "promised", "shipped", "cancelled", "delayed",
        "change", "confirmed")}
    t0 = r.now()
    promise, new_ship_by = t0 + timedelta(seconds=2.5), t0 + timedelta(seconds=2.5)
    dup = r.buyer(shop, ids["dup"])
    next_msg = r.buyer(shop, ids["next"], at=t0 + timedelta(milliseconds=20))
    events = [
        r.buyer(shop, ids["first"], at=t0),
        r.buyer(shop, ids["next"], at=t0), r.agent_says(shop, ids["next"]), next_msg,
        r.buyer(shop, ids["closed"]), r.closed(shop, ids["closed"]),
        dup, dup,
        r.order("order.paid", shop, ids["paid"], at=t0),
        r.order("order.paid", shop, ids["promised"], at=t0, promised_ship_by=r.iso(promise)),
        r.order("order.paid", shop, ids["shipped"]),
        r.order("order.shipped", shop, ids["shipped"], carrier="SF", tracking_no="SF1"),
        r.order("order.paid", shop, ids["cancelled"]),
        r.order("order.cancelled", shop, ids["cancelled"], reason="buyer"),
        r.order("order.paid", shop, ids["delayed"], at=t0),
        r.order("order.delayed", shop, ids["delayed"], reason="stock",
                new_ship_by=r.iso(new_ship_by)),
        r.order("order.changed", shop, ids["change"], at=t0, change="address",
                awaiting_buyer_confirmation=True),
        r.order("order.changed", shop, ids["confirmed"], change="address",
                awaiting_buyer_confirmation=True),
        r.order("order.changed", shop, ids["confirmed"], change="address",
                awaiting_buyer_confirmation=False),
    ]
    for event in events:
        topic = topics.ROLE_PRESALE if "conversation_id" in event["payload"] else topics.ORDERS
        await kafka.send(topic, event, r.key_of(event))
    expected = 3 * 6  # first, next, dup, paid, promised, delayed, change: 7 clocks, 3 each
    found = await kafka.collect(topics.ESCALATIONS, r.on_shop(shop), count=expected + 3,
                                timeout=30, settle=0)
    rest = max(0.0, SETTLE_UNTIL - (r.now() - t0).total_seconds())
    found = await kafka.collect(topics.ESCALATIONS, r.on_shop(shop), count=len(found),
                                timeout=30, settle=rest)
    return {"t0": t0, "ids": ids, "next_msg": next_msg, "promise": promise,
            "new_ship_by": new_ship_by, "escalations": found}


def about(sent, name: str) -> list[dict]:
    return [body for body, _ in sent["escalations"] if body["subject"]["id"] == sent["ids"][name]]


def levels(bodies: list[dict]) -> list[tuple[str, int]]:
    return sorted((b["state"], b["level"]) for b in bodies)


FULL = [("breached", 2), ("breached", 3), ("warning", 1)]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def test_first_response_warns_breaches_and_reaches_level3(sent) -> None:
    bodies = about(sent, "first")
    assert levels(bodies) == FULL
    assert {b["sla"] for b in bodies} == {"first_response"}
    assert {b["role"] for b in bodies} == {"presale"}
    assert {b["subject"]["kind"] for b in bodies} == {"conversation"}
    assert {at(b["deadline"]) for b in bodies} == {sent["t0"] + timedelta(seconds=2)}
    for b in bodies:
        assert b["trace_id"], "the buyer message's trace is carried"
        if b["state"] == "breached":
            assert at(b["fired_at"]) >= at(b["deadline"])
    first = sent["ids"]["first"]
    keys = {rec.key for body, rec in sent["escalations"] if body["subject"]["id"] == first}
    assert keys == {first.encode()}, "keyed by conversation_id"


async def test_agent_reply_stops_first_response_and_next_message_starts_next_response(sent):
    bodies = about(sent, "next")
    assert levels(bodies) == FULL and {b["sla"] for b in bodies} == {"next_response"}
    expected = at(sent["next_msg"]["occurred_at"]) + timedelta(seconds=2)
    assert {at(b["deadline"]) for b in bodies} == {expected}


async def test_close_stops_the_response_clock(sent) -> None:
    assert about(sent, "closed") == []


async def test_redelivered_message_escalates_once(sent) -> None:
    bodies = about(sent, "dup")
    assert levels(bodies) == FULL
    assert len({b["escalation_id"] for b in bodies}) == 3


async def test_ship_by_from_policy_default_or_the_promise(sent) -> None:
    paid, promised = about(sent, "paid"), about(sent, "promised")
    assert levels(paid) == levels(promised) == FULL
    assert {b["sla"] for b in paid + promised} == {"ship_by"}
    assert {b["subject"]["kind"] for b in paid} == {"order"}
    assert {at(b["deadline"]) for b in paid} == {sent["t0"] + timedelta(seconds=2)}
    assert {at(b["deadline"]) for b in promised} == {sent["promise"]}


async def test_shipped_and_cancelled_stop_ship_by(sent) -> None:
    assert about(sent, "shipped") == [] and about(sent, "cancelled") == []


async def test_delay_moves_ship_by_to_the_new_date(sent) -> None:
    bodies = about(sent, "delayed")
    assert levels(bodies) == FULL
    assert {at(b["deadline"]) for b in bodies} == {sent["new_ship_by"]}


async def test_unconfirmed_order_change_tells_the_agent_to_ship_as_ordered(sent) -> None:
    bodies = about(sent, "change")
    assert levels(bodies) == FULL
    assert {b["sla"] for b in bodies} == {"order_change_confirmation"}
    assert {(b["state"], b.get("action")) for b in bodies} == {
        ("warning", None), ("breached", "ship_as_ordered")}, "on expiry: ship as ordered"
    assert about(sent, "confirmed") == []


async def test_every_escalation_id_is_distinct_per_cause(sent) -> None:
    bodies = [b for b, _ in sent["escalations"]]
    by_id = {}
    for b in bodies:
        cause = (b["subject"]["id"], b["sla"], b["state"], b["level"], b["deadline"])
        assert by_id.setdefault(b["escalation_id"], cause) == cause
    assert len(set(by_id.values())) == len(by_id)
