"""The broker restarted (SIGTERM) or killed (SIGKILL) and started again on the same port
under the running system (router, pre-sale, after-sale, notifier, in-process).

The embedded broker (Tansu on `memory://`) loses its topics, records, groups and
committed offsets when it stops, so what was in flight at the fault is gone with it and
cannot be checked here; the test re-creates the topics (as an operator would) and
nothing else. What is checked: no service needs a restart or any other manual action;
each reconnects, rejoins its group and processes every NEW event end to end (routing,
assignment, ship-by timers with all their levels, a raised escalation, a buyer notice),
and commits it."""

from __future__ import annotations

import asyncio

import pytest

from contracts import topics
from contracts.topics import ALL_TOPICS
from services.core.kafka import create_topics
from tests.conftest import TEST_PARTITIONS, unique
from tests.support.faults import (
    FirstSeen,
    buyer_message,
    event,
    inbound_key,
    running_system,
    send_all,
    system_policy,
)
from tests.support.kafka_io import wait_until

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
async def system(stack, kafka, tmp_path_factory):
    policy = tmp_path_factory.mktemp("broker-faults") / "policy.yaml"
    policy.write_text(system_policy(unique("quiet")), encoding="utf-8")
    settings = stack.settings(policy_file=policy, timer_lease="PT3S")
    async with running_system(stack, settings) as system:
        yield system


def workload(shop: str) -> tuple[list[tuple[str, dict, str]], dict]:
    sent = {
        "paid": [event("order.paid", shop, order_id=unique("o"), buyer_id="b")
                 for _ in range(10)],
        "shipped": [event("order.shipped", shop, order_id=unique("o"), carrier="SF",
                          tracking_no="S") for _ in range(10)],
        "reviews": [event("review.posted", shop, order_id=unique("o"), buyer_id="b", rating=1)
                    for _ in range(5)],
        "chats": [buyer_message(shop) for _ in range(60)],
    }
    stream = [b for group in sent.values() for b in group]
    return [(topics.INBOUND, b, inbound_key(b)) for b in stream], sent


@pytest.mark.parametrize("how", ["restart", "kill"])
async def test_services_reconnect_after_a_broker_restart_without_manual_action(
        system, stack, kafka, how):
    shop = unique("shop")
    agent = unique("agent")
    status = event("agent.status", shop, agent_id=agent, roles=["presale", "aftersale"],
                   status="online", max_concurrent=1000)
    await send_all(kafka, [(topics.INBOUND, status, agent)])
    warmup = [buyer_message(shop) for _ in range(20)]
    await send_all(kafka, [(topics.INBOUND, b, inbound_key(b)) for b in warmup])
    await kafka.collect(topics.ASSIGNMENTS, lambda b, _: b["shop_id"] == shop, count=5,
                        timeout=30)

    before = system.assignment_counts()
    if how == "restart":
        await asyncio.to_thread(stack.broker.restart)
    else:
        await asyncio.to_thread(stack.broker.kill)
        await asyncio.sleep(1.0)
        await asyncio.to_thread(stack.broker.start)
    await kafka.close()  # the test's own producer starts afresh, like any client would
    await create_topics(system.settings, list(ALL_TOPICS), partitions=TEST_PARTITIONS)
    assert await wait_until(system.healthy, timeout=60), "services did not reconnect by themselves"
    assert await wait_until(lambda: system.rejoined(before), timeout=90), \
        "consumers did not rejoin their groups on the restarted broker"

    items, sent = workload(shop)
    produced = await send_all(kafka, items)
    routed = FirstSeen(lambda b, _: b.get("shop_id") == shop, lambda b: b["event_id"])
    await kafka.collect((topics.ROLE_PRESALE, topics.ROLE_AFTERSALE, topics.ORDERS), routed,
                        count=len(items), timeout=60)
    assert routed.ids == {b["event_id"] for _, b, _ in items}, "new events not routed"

    assigned = FirstSeen(lambda b, _: b["shop_id"] == shop, lambda b: b["conversation_id"])
    chats = {c["payload"]["conversation_id"] for c in sent["chats"]}
    await kafka.collect(topics.ASSIGNMENTS, assigned, count=len(chats), timeout=60)
    assert assigned.ids == chats, "new conversations not assigned"

    causes = {(e["payload"]["order_id"], "ship_by", state, level) for e in sent["paid"]
              for state, level in (("warning", 1), ("breached", 2), ("breached", 3))}
    causes |= {(e["payload"]["order_id"], "negative_review", "raised", 2)
               for e in sent["reviews"]}
    escalations = FirstSeen(lambda b, _: b["shop_id"] == shop,
                            lambda b: (b["subject"]["id"], b["sla"], b["state"], b["level"]))
    await kafka.collect(topics.ESCALATIONS, escalations, count=len(causes), timeout=60)
    assert escalations.ids == causes, f"{len(causes - escalations.ids)} escalations missing"

    notices = FirstSeen(lambda b, _: b["shop_id"] == shop and b["kind"] == "shipped",
                        lambda b: b["order_id"])
    await kafka.collect(topics.NOTIFICATIONS, notices, count=len(sent["shipped"]), timeout=60)
    assert notices.ids == {e["payload"]["order_id"] for e in sent["shipped"]}, "notices missing"

    assert await wait_until(lambda: system.committed_through(produced), timeout=60), (
        "new input not committed")
