"""The router's delivery guarantees under faults, on the real broker and Redis: Redis
down means nothing is committed as done; a SIGKILL mid-stream loses nothing."""

from __future__ import annotations

import asyncio
from collections import Counter

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from contracts import example, topics
from tests.conftest import unique
from tests.support.faults import committed_offsets
from tests.support.kafka_io import wait_until
from tests.support.processes import ServiceProcess
from tests.support.services import running

pytestmark = pytest.mark.e2e


def message(shop: str, conv: str, text: str = "这个有货吗") -> dict:
    return example(
        "buyer.message",
        event_id=unique("e"),
        shop_id=shop,
        payload={"conversation_id": conv, "buyer_id": "b", "message_id": unique("m"), "text": text},
    )


async def committed_total(bootstrap: str, group: str) -> int:
    """Sum of the group's committed offsets on kefu.inbound (read without joining)."""
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await reader.start()
    try:
        partitions = reader.partitions_for_topic(topics.INBOUND) or set()
        total = 0
        for partition in partitions:
            offset = await reader.committed(TopicPartition(topics.INBOUND, partition))
            total += offset or 0
        return total
    finally:
        await reader.stop()


def handling_retries(app) -> float:
    """How many times a batch failed on something transient (Redis down) and was retried."""
    return sum(s.value for m in app.metrics.retries.collect() for s in m.samples
               if s.name.endswith("_total") and s.labels.get("step") == "handle")


async def test_redis_outage_commits_nothing_and_loses_nothing(stack, kafka):
    settings = stack.settings()
    shop = unique("shop")
    async with running("router", settings) as app:
        producer = await kafka.producer()
        first = await producer.send_and_wait(topics.INBOUND, orjson.dumps(message(shop, "c0")),
                                             key=b"c0")
        await kafka.collect(topics.ROLE_PRESALE, lambda b, r: b.get("shop_id") == shop)
        group = settings.group_id("router")

        async def first_committed() -> bool:  # its output shows before its commit lands
            offsets = await committed_offsets(stack.broker.bootstrap, group, topics.INBOUND)
            return offsets.get(first.partition, 0) > first.offset

        assert await wait_until(first_committed, timeout=30)
        before = await committed_total(stack.broker.bootstrap, group)

        stack.redis.stop()
        try:
            during = [message(shop, f"c{i}") for i in range(1, 4)]
            for event in during:
                await kafka.send(topics.INBOUND, event, event["payload"]["conversation_id"])
            # the first batch was committed: a batch handled since is of these events
            assert await wait_until(lambda: handling_retries(app) >= 2, timeout=30), \
                "the router never read the events sent while Redis was down"
            assert await committed_total(stack.broker.bootstrap, group) == before, (
                "nothing may be committed while Redis is down"
            )
        finally:
            stack.redis.start()
        found = await kafka.collect(
            topics.ROLE_PRESALE,
            lambda b, r: b.get("shop_id") == shop,
            count=4,
            timeout=60,
            settle=1.0,
        )
        ids = [body["event_id"] for body, _ in found]
        assert set(ids) >= {e["event_id"] for e in during}
        assert len(ids) == len(set(ids)) == 4, "each event routed once"


async def test_sigkill_mid_stream_loses_nothing(stack, kafka, tmp_path):
    settings = stack.settings(consumer_max_records=50,
                              consumer_session_timeout_ms=3000)  # a dead member leaves sooner
    shop, total = unique("shop"), 3000
    events = [message(shop, f"conv-{i % 97}", f"第{i}条：什么时候发货？") for i in range(total)]

    def of_shop(body, _record):
        return body.get("shop_id") == shop

    first = ServiceProcess("router", settings, tmp_path).start()
    try:
        assert await first.ready(), "router did not become ready"
        producer = await kafka.producer()
        futures = [
            await producer.send(
                topics.INBOUND, orjson.dumps(e), key=e["payload"]["conversation_id"].encode()
            )
            for e in events
        ]
        await asyncio.gather(*futures)
        partial = await kafka.collect(topics.ROLE_PRESALE, of_shop, count=300, timeout=60)
        assert partial, "router routed nothing before the kill"
    finally:
        first.kill()
    second = ServiceProcess("router", settings, tmp_path).start()
    try:
        assert await second.ready(), "restarted router did not become ready"
        found = await kafka.collect(
            (topics.ROLE_PRESALE, topics.ROLE_AFTERSALE),
            of_shop,
            count=total,
            timeout=120,
            settle=2.0,
        )
    finally:
        assert second.terminate() == 0, "graceful stop exits 0"
    counts = Counter(body["event_id"] for body, _ in found)
    missing = {e["event_id"] for e in events} - set(counts)
    assert not missing, f"{len(missing)} events lost"
    repeats = sum(n - 1 for n in counts.values())
    assert repeats <= settings.consumer_max_records * 3, (
        "repeats only from the uncommitted batches in flight at the kill"
    )
