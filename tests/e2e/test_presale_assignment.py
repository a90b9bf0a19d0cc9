"""Agent assignment on the real broker and Redis: least loaded with ties to the longest
idle, sticky within the window, once per conversation however often an event comes, the
decision of a crashed attempt republished, invalid input dead-lettered. Queueing and
hand-back are in test_presale_queue.py."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from contracts import topics
from services.core.timers.partitioned import PartitionTimers
from services.roles.keys import RoleKeys
from services.roles.redis_store import RedisRoleStore
from services.roles.reservations import Assign
from tests.conftest import unique
from tests.e2e import role_replica as r

pytestmark = pytest.mark.e2e
KEYS = RoleKeys("presale")
HOUR_MS = 3_600_000


async def test_least_loaded_then_longest_idle(shop, kafka) -> None:
    await shop.online("early", 2)
    await shop.online("late", 2)
    await shop.online("big", 4)
    c1, c2, c3, c4 = (unique("c") for _ in range(4))
    await shop.send(r.buyer(shop.id, c1, buyer_id="x1"))
    assert await shop.assignments(1) == [(c1, "big", "least_loaded")]  # 4 free beats 2
    await shop.send(r.buyer(shop.id, c2, buyer_id="x2"))
    assert await shop.assignments(1) == [(c2, "big", "least_loaded")]  # 3 free beats 2
    await shop.send(r.buyer(shop.id, c3, buyer_id="x3"))
    assert await shop.assignments(1) == [(c3, "early", "least_loaded")]  # tie: longest idle
    await shop.send(r.buyer(shop.id, c4, buyer_id="x4"))
    assert await shop.assignments(1) == [(c4, "late", "least_loaded")]


async def test_returning_buyer_gets_the_previous_agent(shop, kafka) -> None:
    await shop.online("a1", 5)
    c1, c2, c3 = unique("c"), unique("c"), unique("c")
    await shop.send(r.buyer(shop.id, c1, buyer_id="vip"))
    assert await shop.assignments(1) == [(c1, "a1", "least_loaded")]
    await shop.send(r.closed(shop.id, c1))
    await shop.online("a2", 9)  # now the least loaded by far
    await shop.send(r.buyer(shop.id, c2, buyer_id="vip"), r.buyer(shop.id, c3, buyer_id="new"))
    assert sorted(await shop.assignments(2)) == sorted(
        [(c2, "a1", "sticky"), (c3, "a2", "least_loaded")])


async def test_duplicate_message_assigns_once(shop, kafka) -> None:
    await shop.online("a1", 5)
    conv = unique("c")
    message = r.buyer(shop.id, conv)
    await shop.send(message, message, message)
    assert await shop.assignments(1, settle=1.0) == [(conv, "a1", "least_loaded")]


async def test_invalid_input_is_dead_lettered_and_does_not_block(shop, kafka) -> None:
    conv = unique("c")
    await kafka.send(topics.ROLE_PRESALE, b'{"event_type": "buyer.message", "shop_id": "' +
                     shop.id.encode() + b'"}', conv)
    await kafka.send(topics.ORDERS, b"\xff not json", conv)
    await shop.online("a1", 5)
    await shop.send(r.buyer(shop.id, conv))
    assert await shop.assignments(1) == [(conv, "a1", "least_loaded")]

    def mine(body, record) -> bool:
        return body.get("service") == "presale" and record.key == conv.encode()

    letters = await kafka.collect(topics.DLQ, mine, count=2, timeout=30)
    assert sorted(b["reason"] for b, _ in letters) == ["invalid_encoding", "schema_violation"]
    assert {b["source_topic"] for b, _ in letters} == {topics.ROLE_PRESALE, topics.ORDERS}


async def test_decision_taken_before_a_crash_is_republished_not_retaken(shop, kafka, stack):
    """A replica decided (Lua ran) and died before publishing: the redelivered event must
    publish that decision, even though a fresh choice would now pick another agent."""
    await shop.online("first", 5)
    await shop.online("roomy", 9)
    conv, event_id = unique("c"), unique("e")
    raw = Redis.from_url(stack.redis.url)  # the store reads bytes, as the services' client
    crashed = RedisRoleStore(raw, KEYS, PartitionTimers(raw, "presale"), key_ttl_ms=HOUR_MS,
                             dedup_ttl_s=3600, sticky_ttl_ms=lambda shop: HOUR_MS)
    decided = Assign(conv, "first", event_id, "least_loaded", "free", 0, "b1", slot=0)
    await crashed.reserve({shop.id: [decided]}, 1_000)
    await raw.aclose()
    await shop.send(r.buyer(shop.id, conv, event_id=event_id))
    assert await shop.assignments(1, settle=1.0) == [(conv, "first", "least_loaded")]
