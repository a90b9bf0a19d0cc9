"""Two routers in one group, and every event sent twice under two keys, so that its two
copies land on partitions of different routers at the same time: each event is routed
once (the README promises dedup "across replicas and restarts"). And the context a
router reads keeps its TTL."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from redis.asyncio import Redis

from contracts import example, topics
from services.core.embedded import free_port
from services.core.kafka import murmur2
from services.router.context import RouterContext
from tests.conftest import TEST_PARTITIONS, unique
from tests.support.faults import FirstSeen, committed_offsets
from tests.support.kafka_io import wait_until
from tests.support.services import running

pytestmark = pytest.mark.e2e
EVENTS = 1000


def partition_of(key: str) -> int:
    return (murmur2(key.encode()) & 0x7FFFFFFF) % TEST_PARTITIONS


def other_key(key: str) -> str:
    """A key of the same conversation's copy that lands on another partition."""
    n = 0
    while partition_of(f"{key}~{n}") == partition_of(key):
        n += 1
    return f"{key}~{n}"


async def test_copies_on_two_routers_at_once_are_routed_once(stack, kafka) -> None:
    settings = stack.settings()
    shop = unique("shop")
    events = [example("buyer.message", event_id=unique("e"), shop_id=shop, payload={
        "conversation_id": (conv := unique("c")), "buyer_id": "b1",
        "message_id": unique("m"), "text": "在吗"}) for _ in range(EVENTS)]
    second = settings.model_copy(update={"http_port": free_port()})
    async with running("router", settings) as a, running("router", second) as b:
        owned = [{tp.partition for t in app.trackers for tp in t.partitions} for app in (a, b)]
        assert all(owned), f"both routers own partitions: {owned}"
        producer = await kafka.producer()
        sends = []
        for event in events:
            conv, value = event["payload"]["conversation_id"], orjson.dumps(event)
            for key in (conv, other_key(conv)):
                sends.append(await producer.send(topics.INBOUND, value, key=key.encode()))
        await asyncio.gather(*sends)
        routed = FirstSeen(lambda body, _r: body.get("shop_id") == shop,
                           lambda body: body["event_id"])
        await kafka.collect((topics.ROLE_PRESALE, topics.ROLE_AFTERSALE), routed,
                            count=EVENTS, timeout=60, settle=3)
        missing = [e for e in events if e["event_id"] not in routed.ids]
        why = await _why_missing(stack, settings, missing) if missing else ""
    assert len(routed.ids) == EVENTS, f"every event routed; {why}"
    twice = len(routed.all) - len(routed.ids)
    assert twice == 0, f"{twice} of {EVENTS} events routed twice"


async def _why_missing(stack, settings, missing: list[dict]) -> str:
    """What a failure needs to be explained: how far the routers committed, and what the
    missing events' dedup marks hold (a claim `<partition>:<offset>`, `|r:`, `|done`)."""
    committed = await committed_offsets(stack.broker.bootstrap, settings.group_id("router"),
                                        topics.INBOUND)
    redis = Redis.from_url(stack.redis.url)
    try:
        marks = [await redis.get(RouterContext.seen_key(e["shop_id"], e["event_id"]))
                 for e in missing[:20]]
    finally:
        await redis.aclose()
    return (f"{len(missing)} missing; router group committed {committed} on {topics.INBOUND}; "
            f"marks of the first missing: {marks}")


async def test_context_that_is_read_is_kept_as_long_as_the_context_ttl(stack, kafka) -> None:
    """An active conversation is not forgotten because nothing about it changed."""
    shop, conv = unique("shop"), unique("c")

    def buyer(text: str) -> dict:
        return example("buyer.message", event_id=unique("e"), shop_id=shop, payload={
            "conversation_id": conv, "buyer_id": "b1", "message_id": unique("m"),
            "text": text})

    redis = Redis.from_url(stack.redis.url)
    key = RouterContext.conversation_key(shop, conv)
    async with running("router", stack.settings()) as router:
        ttl = int(router.settings.context_ttl.total_seconds())
        first = buyer("在吗")
        await kafka.send(topics.INBOUND, first, conv)
        await kafka.collect(topics.ROLE_PRESALE, lambda b, _r: b["event_id"] == first[
            "event_id"])
        await redis.expire(key, 100)  # as if it had been written a month ago
        again = buyer("还在吗")
        await kafka.send(topics.INBOUND, again, conv)
        await kafka.collect(topics.ROLE_PRESALE, lambda b, _r: b["event_id"] == again[
            "event_id"])
        assert await wait_until(lambda: _ttl_above(redis, key, ttl - 60), timeout=10)
    await redis.aclose()


async def _ttl_above(redis, key: str, seconds: int) -> bool:
    return await redis.ttl(key) > seconds
