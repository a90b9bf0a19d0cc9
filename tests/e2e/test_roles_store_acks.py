"""A supervisor's acknowledgement of an order's deadline and the order's owner writing its
clocks, in either order, on the real Valkey and on the in-memory fake alike: the owner's
write never loses the acknowledgement, and the acknowledgement never brings back a
clock the owner stopped. (The two are decided by different partitions, maybe by
different replicas, each on what it loaded before the other wrote.)"""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from services.core.timers.partitioned import PartitionTimers
from services.roles.clock_state import ClockState
from services.roles.keys import RoleKeys
from services.roles.memory_store import MemoryRoleStore
from services.roles.redis_store import RedisRoleStore
from services.roles.store import Changes, LoadRequest
from tests.conftest import unique

pytestmark = pytest.mark.e2e
HOUR_MS = 3_600_000
CAUSE = "o1@2026-11-23T03:00:00+00:00"


@pytest.fixture(params=["redis", "memory"])
async def store(request, stack):
    if request.param == "memory":
        yield MemoryRoleStore()
        return
    client = Redis.from_url(stack.redis.url)
    yield RedisRoleStore(client, RoleKeys("presale"), PartitionTimers(client, "presale"),
                         key_ttl_ms=HOUR_MS, dedup_ttl_s=3600, sticky_ttl_ms=lambda s: HOUR_MS)
    await client.aclose()


def running(cause: str = CAUSE) -> ClockState:
    return ClockState("ship_by", cause, 1_000, (2_000, 3_000, 4_000), "kefu.orders:0", fired=2)


async def clock_of(store, key) -> ClockState:
    snapshot = await store.load(LoadRequest(subjects={key}))
    return snapshot.clocks[key]["ship_by"]


async def owner_writes(store, key, clock: ClockState) -> None:
    await store.apply(Changes(clocks={key: {"ship_by": clock}}))


async def acknowledged(store, key, cause: str = CAUSE) -> None:
    await store.apply(Changes(acks={key: {"ship_by": cause}}))


async def test_the_owners_later_write_keeps_the_acknowledgement(store):
    key = (unique("shop"), "order", "o1")
    await owner_writes(store, key, running())
    await acknowledged(store, key)
    await owner_writes(store, key, running())  # decided on what it read before the ack
    assert (await clock_of(store, key)).acked


async def test_an_acknowledgement_stored_after_the_stop_leaves_the_clock_stopped(store):
    key = (unique("shop"), "order", "o1")
    await owner_writes(store, key, running())
    stopped = running()
    stopped.running = False
    await owner_writes(store, key, stopped)
    await acknowledged(store, key)  # decided on the running clock it read before the stop
    clock = await clock_of(store, key)
    assert not clock.running and clock.cause == CAUSE


async def test_an_acknowledgement_holds_for_its_deadline_only(store):
    key = (unique("shop"), "order", "o1")
    await owner_writes(store, key, running())
    await acknowledged(store, key)
    await owner_writes(store, key, running("o1@2026-11-23T05:00:00+00:00"))  # a new deadline
    assert not (await clock_of(store, key)).acked
