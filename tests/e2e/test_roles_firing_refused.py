"""A firing or a batch cut short while Redis refuses writes, on the real Valkey.

Under `maxmemory` with `noeviction` Redis refuses a script whose first write could grow
memory (ZADD, HSET) but runs one that begins by deleting (HDEL, ZREM): a timer's ack
goes through while the schedule of the clock's next milestone and the clock's own write
are refused. A replica that dies before its retries get through (the retry backoff
reaches 30 s) must leave the clock to the partition's next owner, not lose it: the
chaos soak of 2026-12-06 (seed 11) lost three breaches exactly so. A batch of events
cut short the same way is redelivered, and decided again from the state as it was."""

from __future__ import annotations

import orjson
import pytest
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from services.core.timers.partitioned import RELEASE_ALL_MS, PartitionTimers
from services.roles.clock_state import to_us
from services.roles.escalation import TimerPayload
from services.roles.keys import RoleKeys
from services.roles.redis_store import RedisRoleStore
from tests.conftest import unique
from tests.support.redis_faults import RefusingWrites
from tests.unit.role_harness import SHARD, Role, at, escalations

pytestmark = pytest.mark.e2e
HOUR_MS = 3_600_000
LEASE_MS = 30_000


def published(outputs) -> list[tuple[str, str, int]]:
    return escalations([{"topic": o.topic, **orjson.loads(o.value)} for o in outputs])


class Replica:
    """One presale process: its own client, its take of the partition's timers."""

    def __init__(self, url: str, namespace: str) -> None:
        self.client = Redis.from_url(url)
        self.timers = PartitionTimers(self.client, namespace)
        store = RedisRoleStore(self.client, RoleKeys("presale"), self.timers,
                               key_ttl_ms=HOUR_MS, dedup_ttl_s=3600,
                               sticky_ttl_ms=lambda shop: HOUR_MS)
        self.role = Role(store=store)

    async def take(self) -> None:
        """Given the partition: fence the previous owner, return its claims. (The timer
        scripts are in the server's cache, as on a server that ran them before.)"""
        for script in vars(self.timers.lua).values():
            if hasattr(script, "sha"):
                await self.client.script_load(script.script)
        await self.timers.take([SHARD])
        await self.timers.release([SHARD], expired_before_ms=RELEASE_ALL_MS)

    async def claim_and_decide(self, watermark_seconds: float):
        self.role.now = at(watermark_seconds)
        bound_ms = to_us(at(watermark_seconds)) // 1000 - 1
        claimed, _ = await self.timers.claim({SHARD: bound_ms}, owner="test", now_ms=bound_ms,
                                             limit=100, lease_ms=LEASE_MS)
        if not claimed:
            return [], None
        items = [(t, TimerPayload.decode(t.payload)) for t in claimed]
        return await self.role.batches.run(timers=items)

    async def fire_outputs(self, watermark_seconds: float) -> list:
        """Every output of the timers the watermark allows, round after round."""
        fired = []
        while True:
            outputs, write = await self.claim_and_decide(watermark_seconds)
            if write is None:
                return fired
            await write()
            fired += outputs

    async def fire(self, watermark_seconds: float) -> list[tuple[str, str, int]]:
        return published(await self.fire_outputs(watermark_seconds))

    async def close(self) -> None:
        await self.client.aclose()


async def refused(url: str, write) -> None:
    """`write` while Redis refuses writes: it fails, and the replica dies before its
    retries get through."""
    refusing = RefusingWrites(url)
    await refusing.begin()
    try:
        with pytest.raises(ResponseError, match="OOM|maxmemory"):
            await write()
    finally:
        await refusing.end()


def ids(outputs) -> list[str]:
    return [orjson.loads(o.value)["escalation_id"] for o in outputs
            if o.topic == "kefu.escalations"]


async def test_a_replica_dying_while_its_firing_write_is_refused_leaves_the_clock_to_the_next_owner(
        stack):
    namespace, shop = unique("presale"), unique("shop")
    first = Replica(stack.redis.url, namespace)
    await first.take()
    await first.role.send(first.role.buyer("c1", 0, shop=shop))

    outputs, write = await first.claim_and_decide(150)  # the warning (80% of 3 min)
    assert published(outputs) == [("c1", "warning", 1)]
    await refused(stack.redis.url, write)
    await first.close()

    second = Replica(stack.redis.url, namespace)
    try:
        await second.take()
        again = await second.fire_outputs(150)
        assert published(again) == [("c1", "warning", 1)]
        assert ids(again) == ids(outputs)  # the same escalation: a consumer drops it
        assert await second.fire(200) == [("c1", "breached", 2)]
    finally:
        await second.close()


async def test_a_replica_dying_while_its_batch_write_is_refused_leaves_the_batch_to_redelivery(
        stack):
    """The batch's cancel (a stopped clock) goes through, its schedule (a new clock) and
    state do not; the redelivered batch is decided again from the state as it was."""
    namespace, shop = unique("presale"), unique("shop")
    first = Replica(stack.redis.url, namespace)
    await first.take()
    await first.role.send(first.role.buyer("c1", 0, shop=shop))
    reply = first.role.event("agent.message", 10, shop=shop, conversation_id="c1",
                             agent_id="a1", message_id="m-reply", text="在的")
    batch = [reply, first.role.buyer("c2", 20, shop=shop)]
    _outputs, write = await first.role.batches.run(events=[(e, SHARD) for e in batch])
    await refused(stack.redis.url, write)
    await first.close()

    second = Replica(stack.redis.url, namespace)
    try:
        await second.take()
        await second.role.send(*batch)  # redelivered: nothing of it was committed
        assert await second.fire(150) == []  # c1 answered in time; c2's warning is at 164 s
        assert await second.fire(210) == [("c2", "warning", 1), ("c2", "breached", 2)]
    finally:
        await second.close()
