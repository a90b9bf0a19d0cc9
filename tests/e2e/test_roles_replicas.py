"""Two pre-sale replicas in one consumer group split the partitions, while agents'
capacity is per shop: a burst of conversations over every partition never gives an agent
more than its max_concurrent, and the rest wait in one queue. The same holds when both
replicas read a big backlog at once, each in batches read in parts whose first half's
reservations go out while the second half is decided."""

from __future__ import annotations

import asyncio
import os
import signal
from collections import Counter

import aiohttp
import orjson
import pytest
from redis.asyncio import Redis

from benchmarks.common.procs import metrics, summed
from contracts import topics
from services.core.embedded import free_port
from services.roles.keys import RoleKeys
from tests.conftest import unique
from tests.e2e import role_replica as r
from tests.support.kafka_io import wait_until
from tests.support.processes import ServiceProcess
from tests.support.services import running

pytestmark = pytest.mark.e2e


async def test_two_replicas_never_over_assign_an_agent(stack, kafka, tmp_path) -> None:
    settings = stack.settings(policy_file=r.write_policy(tmp_path))
    shop, keys = unique("shop"), RoleKeys("presale")
    redis = Redis.from_url(stack.redis.url, decode_responses=True)
    async with running("presale", settings) as one, running(
            "presale", settings.model_copy(update={"http_port": free_port()})) as two:
        def split() -> bool:  # each replica owns some role-topic partitions
            owned = [{tp for t in app.trackers for tp in t.partitions
                      if tp.topic == topics.ROLE_PRESALE} for app in (one, two)]
            return all(owned) and not owned[0] & owned[1]

        assert await wait_until(split, timeout=30), "the group did not split the partitions"
        for agent, max_concurrent in (("a1", 4), ("a2", 3)):
            await kafka.send(topics.ROLE_PRESALE, r.status(shop, agent, "online", max_concurrent),
                             agent)

        async def both_online() -> bool:
            found = [await redis.hget(keys.agent(shop, a), "status") for a in ("a1", "a2")]
            return found == ["online", "online"]

        assert await wait_until(both_online, timeout=30)
        convs = [unique("c") for _ in range(30)]
        for conv in convs:
            await kafka.send(topics.ROLE_PRESALE, r.buyer(shop, conv, buyer_id=conv), conv)
        found = await kafka.collect(topics.ASSIGNMENTS, r.on_shop(shop), count=len(convs),
                                    timeout=30, settle=1.0)
    await redis.aclose()
    assert sorted(b["conversation_id"] for b, _ in found) == sorted(convs), "one decision each"
    per_agent = Counter(b["agent_id"] for b, _ in found)
    assert per_agent == {"a1": 4, "a2": 3, None: 23}
    assert {(b["agent_id"] is None) == (b["reason"] == "queued_no_capacity") for b, _ in found} == {
        True}


LONG_SLA = r.around_the_clock("1h")
"""Nothing falls due while the test runs: every assignment is a first decision."""


async def samples(replica: ServiceProcess) -> dict[str, float]:
    async with aiohttp.ClientSession() as http:
        return await metrics(http, replica)


async def consumed(replica: ServiceProcess) -> float:
    return summed(await samples(replica), "kefu_events_in_total")


async def batches_read_in_parts(replica: ServiceProcess) -> float:
    """Batches of more than six Redis round trips: read in parts (up to four reads)
    and reserved in two rounds; a batch read in one go costs four or five."""
    found = await samples(replica)
    return (found["kefu_role_batch_redis_round_trips_count"]
            - found['kefu_role_batch_redis_round_trips_bucket{le="6.0"}'])


async def test_two_replicas_reading_big_backlogs_at_once_never_over_assign(
        stack, kafka, tmp_path) -> None:
    settings = stack.settings(policy_file=r.write_policy(tmp_path, LONG_SLA))
    shop, keys, capacity = unique("shop"), RoleKeys("presale"), {"a1": 30, "a2": 40, "a3": 30}
    convs = [unique("c") for _ in range(3000)]
    redis = Redis.from_url(stack.redis.url, decode_responses=True)
    replicas = [ServiceProcess("presale", settings, tmp_path).start() for _ in range(2)]
    try:
        for replica in replicas:
            assert await replica.ready(), "presale replica did not become ready"
        for agent, max_concurrent in capacity.items():
            await kafka.send(topics.ROLE_PRESALE, r.status(shop, agent, "online", max_concurrent),
                             agent)

        async def all_online() -> bool:
            found = [await redis.hget(keys.agent(shop, a), "status") for a in capacity]
            return found == ["online"] * len(capacity)

        assert await wait_until(all_online, timeout=30)
        before = [await consumed(replica) for replica in replicas]
        for replica in replicas:
            os.kill(replica.proc.pid, signal.SIGSTOP)
        producer = await kafka.producer()
        sent = [await producer.send(topics.ROLE_PRESALE, orjson.dumps(
            r.buyer(shop, conv, buyer_id=conv)), key=conv.encode()) for conv in convs]
        await asyncio.gather(*sent)
        for replica in replicas:
            os.kill(replica.proc.pid, signal.SIGCONT)
        found = await kafka.collect(topics.ASSIGNMENTS, r.on_shop(shop), count=len(convs),
                                    timeout=90, settle=2.0)
        read = [await consumed(replica) - b for replica, b in zip(replicas, before, strict=True)]
        in_parts = [await batches_read_in_parts(replica) for replica in replicas]
        held = {a: await redis.scard(keys.held(shop, a)) for a in capacity}
    finally:
        for replica in replicas:
            if replica.proc.poll() is None:
                os.kill(replica.proc.pid, signal.SIGCONT)
            replica.kill()
        await redis.aclose()
    assert min(read) >= 500, f"both replicas must read a big backlog at once: {read}"
    assert min(in_parts) >= 1, f"batches read in parts, per replica: {in_parts}"
    # a decision republished (its batch redelivered) is the same message again
    decisions = {(b["conversation_id"], b["agent_id"], b["reason"], b["at"]) for b, _ in found}
    assert sorted(conv for conv, *_ in decisions) == sorted(convs), \
        "one decision per conversation"
    per_agent = Counter(agent for _, agent, *_ in decisions)
    assert per_agent == {**capacity, None: len(convs) - sum(capacity.values())}
    assert held == capacity, "what Redis holds is what was published"
