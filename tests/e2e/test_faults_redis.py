"""Redis faults with the whole system running (router, pre-sale, after-sale, notifier):

- Redis SIGKILLed and restarted from its AOF mid-stream: every service recovers by
  itself; nothing is lost; no timer is lost (pre-sale ship-by clocks scheduled before
  the crash fire all their levels after it; the notifier's outbox holds buyer notices
  across it until quiet hours end).
- Redis unavailable for 10 s, or refusing every write for 10 s (`maxmemory` reached
  under `noeviction`: OOM): no service commits any input as done meanwhile (committed
  offsets of every group on every topic stand still), and all of it is done after, once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis

from contracts import topics
from services.notifier.outbox import Outbox
from services.roles.keys import RoleKeys
from tests.conftest import unique
from tests.support.faults import (
    FirstSeen,
    buyer_message,
    event,
    inbound_key,
    repeats,
    running_system,
    send_all,
    system_policy,
)
from tests.support.kafka_io import wait_until
from tests.support.redis_faults import redis_fault

pytestmark = pytest.mark.e2e

QUIET = unique("quiet")


@pytest.fixture(scope="module")
async def system(stack, kafka, tmp_path_factory):
    policy = tmp_path_factory.mktemp("redis-faults") / "policy.yaml"
    policy.write_text(system_policy(QUIET), encoding="utf-8")
    settings = stack.settings(policy_file=policy, timer_lease="PT3S")
    async with running_system(stack, settings) as system:
        yield system


async def test_redis_crash_mid_stream_loses_no_event_and_no_timer(system, stack, kafka):
    shop = unique("shop")
    paid = [event("order.paid", shop, order_id=unique("o"), buyer_id="b") for _ in range(40)]
    shipped = [event("order.shipped", shop, order_id=unique("o"), carrier="SF", tracking_no="S1")
               for _ in range(40)]
    held = [event("order.shipped", QUIET, order_id=unique("o"), carrier="SF", tracking_no="S2")
            for _ in range(20)]
    chats = [buyer_message(shop) for _ in range(200)]
    stream = paid + shipped + held + chats
    order = sorted(range(len(stream)), key=lambda i: (i * 7919) % len(stream))  # interleaved
    items = [(topics.INBOUND, stream[i], inbound_key(stream[i])) for i in order]
    produced = []
    half = len(items) // 2
    produced += await send_all(kafka, items[:half])
    await kafka.collect((topics.ROLE_PRESALE, topics.ROLE_AFTERSALE),
                        lambda b, _: b.get("shop_id") == shop, count=10, timeout=30)
    await asyncio.to_thread(stack.redis.kill)  # SIGKILL: only the AOF survives
    produced += await send_all(kafka, items[half:])
    await asyncio.sleep(1.0)
    await asyncio.to_thread(stack.redis.start)

    assert await wait_until(system.healthy, timeout=30), "services did not recover by themselves"
    routed = FirstSeen(lambda b, _: b.get("shop_id") == shop, lambda b: b["event_id"])
    await kafka.collect((topics.ROLE_PRESALE, topics.ROLE_AFTERSALE, topics.ORDERS), routed,
                        count=len(paid) + len(shipped) + len(chats), timeout=60)
    assert routed.ids == {e["event_id"] for e in paid + shipped + chats}, "routed events lost"

    # every ship-by clock started before the crash fires warning, breach and level 3
    causes = {(e["payload"]["order_id"], state, level) for e in paid
              for state, level in (("warning", 1), ("breached", 2), ("breached", 3))}
    escalations = FirstSeen(lambda b, _: b["shop_id"] == shop and b["sla"] == "ship_by",
                            lambda b: (b["subject"]["id"], b["state"], b["level"]))
    await kafka.collect(topics.ESCALATIONS, escalations, count=len(causes), timeout=60)
    assert escalations.ids == causes, f"{len(causes - escalations.ids)} timer firings lost"

    shipped_notices = FirstSeen(lambda b, _: b["shop_id"] == shop and b["kind"] == "shipped",
                                lambda b: b["order_id"])
    await kafka.collect(topics.NOTIFICATIONS, shipped_notices, count=len(shipped), timeout=60)
    assert shipped_notices.ids == {e["payload"]["order_id"] for e in shipped}

    # the quiet shop's notices waited in the outbox across the crash; quiet hours end now
    outbox = Outbox(Redis.from_url(stack.redis.url), system.clock)
    try:
        assert await wait_until(lambda: system.committed_through(produced), timeout=30)
        assert (await outbox.store.count())["due"] >= len(held), "buyer notices not held"
    finally:
        await outbox.store.redis.aclose()
    system.clock.offset = timedelta(hours=1, minutes=5)
    quiet = FirstSeen(lambda b, _: b["shop_id"] == QUIET, lambda b: b["order_id"])
    await kafka.collect(topics.NOTIFICATIONS, quiet, count=len(held), timeout=30, settle=1.0)
    assert quiet.ids == {e["payload"]["order_id"] for e in held}, "outbox timers lost"
    assert repeats(b["notification_id"] for b in quiet.all) == 0


def quiet(system):
    """A predicate: no group's committed offsets moved over the last second."""
    last: list = []

    async def check() -> bool:
        now = await system.offsets()
        still = bool(last) and last[-1] == now
        last.append(now)
        await asyncio.sleep(1.0)
        return still

    return check


@pytest.mark.parametrize("fault", ["down", "refusing_writes"])
async def test_redis_down_or_refusing_writes_10s_commits_nothing_then_catches_up(
        system, stack, kafka, fault):
    trouble = redis_fault(fault, stack)
    shop = unique("shop")
    agent = unique("agent")
    status = event("agent.status", shop, agent_id=agent, roles=["presale"], status="online",
                   max_concurrent=100)
    status_sent = await send_all(kafka, [(topics.ROLE_PRESALE, status, agent)])
    agent_key = RoleKeys("presale").agent(shop, agent)
    probe = Redis.from_url(stack.redis.url)
    try:
        assert await wait_until(lambda: probe.exists(agent_key), timeout=30)
    finally:
        await probe.aclose()
    assert await wait_until(lambda: system.committed_through(status_sent), timeout=30)
    assert await wait_until(quiet(system), timeout=30), "the system never went quiet"

    await trouble.begin()
    # a commit of work finished before the fault may still land: wait until none moves
    assert await wait_until(quiet(system), timeout=30), "offsets moved on during the fault"
    before = await system.offsets()
    router_retries = system.retries("router")
    chats = [buyer_message(shop) for _ in range(20)]
    role_chats = [buyer_message(shop) for _ in range(10)]
    for body in role_chats:
        body["routing"] = {"intent": "product_inquiry", "role": "presale", "priority": "normal",
                           "confidence": 0.9, "reason": "test",
                           "routed_at": datetime.now(UTC).isoformat()}
    shipped = [event("order.shipped", shop, order_id=unique("o"), carrier="SF", tracking_no="S3")
               for _ in range(10)]
    reviews = [event("review.posted", shop, order_id=unique("o"), buyer_id="b", rating=1)
               for _ in range(5)]
    now = datetime.now(UTC)
    alerts = [{"escalation_id": unique("esc"), "shop_id": shop, "role": "presale",
               "subject": {"kind": "order", "id": unique("o")}, "sla": "ship_by", "level": 2,
               "state": "breached", "deadline": (now - timedelta(minutes=1)).isoformat(),
               "fired_at": now.isoformat()} for _ in range(5)]
    produced = await send_all(kafka, [
        *[(topics.INBOUND, b, inbound_key(b)) for b in chats],
        *[(topics.ROLE_PRESALE, b, b["payload"]["conversation_id"]) for b in role_chats],
        *[(topics.ORDERS, b, b["payload"]["order_id"]) for b in shipped + reviews],
        *[(topics.ESCALATIONS, b, b["subject"]["id"]) for b in alerts],
    ])
    try:
        for _ in range(10):  # 10 s of the fault
            await asyncio.sleep(1.0)
            assert await system.offsets() == before, f"input committed as done, Redis {fault}"
    finally:
        await trouble.end()

    assert system.retries("router") > router_retries, "the router never tried meanwhile"
    assert await wait_until(system.healthy, timeout=30), "services did not recover by themselves"
    assert await wait_until(lambda: system.committed_through(produced), timeout=60), (
        "input not committed after Redis came back")
    routed = FirstSeen(lambda b, _: b.get("shop_id") == shop and b["event_type"] ==
                       "buyer.message" and "routing" in b and b["event_id"] in
                       {c["event_id"] for c in chats}, lambda b: b["event_id"])
    await kafka.collect((topics.ROLE_PRESALE, topics.ROLE_AFTERSALE), routed, count=len(chats),
                        timeout=30)
    assert len(routed.ids) == len(chats), "router lost events"
    assert repeats(b["event_id"] for b in routed.all) == 0, "router routed an event twice"
    assigned = FirstSeen(lambda b, _: b["shop_id"] == shop, lambda b: b["conversation_id"])
    await kafka.collect(topics.ASSIGNMENTS, assigned, count=len(chats) + len(role_chats),
                        timeout=30)
    wanted = {b["payload"]["conversation_id"] for b in role_chats}
    assert wanted <= assigned.ids, "pre-sale lost conversations"
    raised = FirstSeen(lambda b, _: b["shop_id"] == shop and b["sla"] == "negative_review",
                       lambda b: b["subject"]["id"])
    await kafka.collect(topics.ESCALATIONS, raised, count=len(reviews), timeout=30)
    assert raised.ids == {b["payload"]["order_id"] for b in reviews}, "after-sale lost reviews"
    expected = {("shipped", b["payload"]["order_id"]) for b in shipped} | {
        ("escalation_alert", b["subject"]["id"]) for b in alerts}
    # Only these: the reviews' own escalations are alerted too, and counting them could
    # end the wait before the last shipping notice arrived.
    notes = FirstSeen(lambda b, _: b["shop_id"] == shop and (b["kind"], b["order_id"]) in expected,
                      lambda b: (b["kind"], b["order_id"]))
    await kafka.collect(topics.NOTIFICATIONS, notes, count=len(expected), timeout=30)
    assert {o for k, o in notes.ids if k == "shipped"} == {
        b["payload"]["order_id"] for b in shipped}, "notifier lost order events"
    assert {o for k, o in notes.ids if k == "escalation_alert"} >= {
        b["subject"]["id"] for b in alerts}, "notifier lost escalations"
