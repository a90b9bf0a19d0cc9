"""Edge-of-range timestamps through the whole system (router, pre-sale, after-sale,
notifier). The contract takes any RFC 3339 time with an offset: an event the router
accepts and passes on is valid input for every service behind it. So for each event
the router routes (rather than dead-letters), no service may fail on it: no
`processing_error` dead letter anywhere, every output committed by every group.

(If such times should be invalid, the router must say so at the edge, as
`schema_violation`: that passes this test too.)"""

from __future__ import annotations

import random

import pytest

from contracts import topics
from tests.conftest import unique
from tests.support.faults import (
    GROUP_TOPICS,
    buyer_message,
    event,
    inbound_key,
    running_system,
    send_all,
    system_policy,
)
from tests.support.kafka_io import wait_until

pytestmark = pytest.mark.e2e

EDGES = ["9999-12-31T23:59:59-14:00", "9999-12-31T23:59:59+00:00", "0001-01-01T00:00:00+14:00",
         "0001-01-01T00:00:00+00:00", "1970-01-01T00:00:00Z", "2038-01-19T03:14:08+00:00",
         "5000-06-15T12:00:00+05:45", "1900-02-28T23:59:59.999999-12:00"]


@pytest.fixture(scope="module")
async def system(stack, kafka, tmp_path_factory):
    policy = tmp_path_factory.mktemp("ts-fuzz") / "policy.yaml"
    policy.write_text(system_policy(unique("quiet")), encoding="utf-8")
    async with running_system(stack, stack.settings(policy_file=policy)) as system:
        yield system


def events_at(shop: str, when: str, rng: random.Random) -> list[dict]:
    o = unique("o")
    out = [
        event("order.paid", shop, order_id=o, buyer_id="b", promised_ship_by=when),
        event("order.created", shop, order_id=unique("o"), buyer_id="b"),
        event("order.delayed", shop, order_id=o, reason="缺货", new_ship_by=when),
        event("order.changed", shop, order_id=o, change="address",
              awaiting_buyer_confirmation=True),
        event("order.shipped", shop, order_id=unique("o"), carrier="SF", tracking_no="T"),
        event("logistics.update", shop, order_id=unique("o"), tracking_no="T",
              status=rng.choice(["in_transit", "out_for_delivery", "delivered", "exception"])),
        event("aftersale.requested", shop, case_id=unique("case"), order_id=unique("o"),
              buyer_id="b", kind="refund_only", respond_by=when),
        event("aftersale.updated", shop, case_id=unique("case"), order_id=unique("o"),
              status="platform_intervened"),
        event("review.posted", shop, order_id=unique("o"), buyer_id="b", rating=1),
        buyer_message(shop),
    ]
    for body in out:
        if rng.random() < 0.8:
            body["occurred_at"] = when
    return out


async def test_no_service_fails_on_a_time_the_router_accepts(system, stack, kafka):
    shop, rng = unique("shop"), random.Random(7)
    items = [(topics.INBOUND, b, inbound_key(b)) for when in EDGES
             for b in events_at(shop, when, rng)]
    produced = await send_all(kafka, items)
    assert await wait_until(lambda: system.committed_through(produced), timeout=60)
    outputs = await kafka.collect(
        (topics.ROLE_PRESALE, topics.ROLE_AFTERSALE, topics.ORDERS, topics.DLQ),
        lambda b, r: b.get("shop_id") == shop or r.topic == topics.DLQ, count=len(items),
        timeout=30)
    routed = [r for b, r in outputs if r.topic != topics.DLQ]
    assert routed, "the router accepted none of these times"
    assert await wait_until(lambda: system.committed_through(routed), timeout=60), (
        "a service did not get through the routed events")
    more = await kafka.collect((topics.ESCALATIONS, topics.ASSIGNMENTS), lambda b, _: True,
                               count=1, timeout=2, at_least=0)
    assert await wait_until(lambda: system.committed_through([r for _, r in more]), timeout=30)
    letters = await kafka.collect(topics.DLQ, lambda b, _: True, count=len(items), timeout=3,
                                  at_least=0)
    failed = sorted({(b["service"], b["detail"][:80], b["raw"][b["raw"].find("event_type"):][:40])
                     for b, _ in letters if b["reason"] == "processing_error"})
    assert not failed, (f"{len(failed)} kinds of valid input broke a service "
                        "(processing_error):\n" + "\n".join(map(str, failed)))
    assert set(GROUP_TOPICS) == {"router", "presale", "aftersale", "notifier"}
