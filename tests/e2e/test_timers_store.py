"""TimerStore against a real Valkey: schedule, claim, ack, cancel, re-schedule, leases."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis

from services.core.retry import Fenced
from services.core.timers import TimerStore
from services.core.timers.partitioned import RELEASE_ALL_MS, PartitionTimers
from tests.conftest import unique

pytestmark = pytest.mark.e2e


@pytest.fixture
async def redis(stack) -> AsyncIterator[Redis]:
    client = Redis.from_url(stack.redis.url)
    yield client
    await client.aclose()


@pytest.fixture
def store(redis) -> TimerStore:
    return TimerStore(redis, unique("t"), shards=4)


async def test_schedule_claim_ack(store: TimerStore, redis: Redis) -> None:
    due = datetime.now(UTC) - timedelta(seconds=1)
    await store.schedule("conv-1:first-response", due, b'{"shop":"s1"}')

    claimed = await store.claim_due("replica-a")

    assert [(c.timer_id, c.payload) for c in claimed] == [
        ("conv-1:first-response", b'{"shop":"s1"}')
    ]
    assert claimed[0].due_at == pytest.approx(due.timestamp(), abs=0.001)
    assert await store.count() == {"due": 0, "inflight": 1}
    assert await store.claim_due("replica-b") == []  # in flight: nobody else gets it
    assert await store.ack(claimed) == 1
    assert await store.count() == {"due": 0, "inflight": 0}
    assert await redis.keys(f"kefu:{{timers:{store.namespace}:*") == []  # nothing left over


async def test_not_due_is_not_claimed(store: TimerStore) -> None:
    now = time.time()
    await store.schedule("later", now + 60, b"x")
    await store.schedule("now", now - 0.001, b"y")

    claimed = await store.claim_due("a", now=now)

    assert [c.timer_id for c in claimed] == ["now"]
    batch = await store.claim("a", now=now)
    assert batch.timers == [] and not batch.more
    assert batch.next_due_at == pytest.approx(now + 60, abs=0.001)
    assert [c.timer_id for c in await store.claim_due("a", now=now + 61)] == ["later"]


async def test_reschedule_moves_the_timer(store: TimerStore) -> None:
    now = time.time()
    await store.schedule("t1", now - 1, b"old")
    await store.schedule("t1", now + 60, b"new")

    assert await store.claim_due("a", now=now) == []
    assert await store.count() == {"due": 1, "inflight": 0}
    [claimed] = await store.claim_due("a", now=now + 60)
    assert claimed.payload == b"new"
    assert claimed.due_at == pytest.approx(now + 60, abs=0.001)


async def test_hasten_brings_a_waiting_timer_forward_and_nothing_else(store: TimerStore) -> None:
    """The notifier calls back an entry it handed back: only a timer that still waits
    moves, and only earlier; one in flight or already acked is left alone."""
    now = time.time()
    await store.schedule_many([("waiting", now + 60, b"w"), ("flying", now - 1, b"f"),
                               ("done", now - 1, b"d")])
    claimed = {c.timer_id: c for c in await store.claim_due("a", now=now - 0.5)}
    assert set(claimed) == {"flying", "done"}
    await store.ack([claimed["done"]])
    await store.schedule("early", now - 5, b"e")

    await store.hasten(["waiting", "early", "flying", "done", "missing"], now=now)

    assert await store.count() == {"due": 2, "inflight": 1}, "nothing acked came back"
    got = {c.timer_id: c.due_at for c in await store.claim_due("b", now=now)}
    assert got == {"waiting": pytest.approx(now, abs=0.001),
                   "early": pytest.approx(now - 5, abs=0.001)}, "never later than it was"
    assert await store.ack([claimed["flying"]]) == 1, "the flying one keeps its lease"


async def test_cancel(store: TimerStore) -> None:
    now = time.time()
    await store.schedule_many([(f"c{i}", now - 1, b"p") for i in range(10)])

    assert await store.cancel("c0") is True
    assert await store.cancel("c0") is False
    assert await store.cancel_many(["c1", "c2", "missing"]) == 2

    claimed = await store.claim_due("a", now=now)
    assert sorted(c.timer_id for c in claimed) == [f"c{i}" for i in range(3, 10)]
    # Cancelling an in-flight timer: the later ack is a no-op and nothing fires again.
    assert await store.cancel("c3") is True
    assert await store.ack(claimed) == 6
    assert await store.release_expired(now=now + 3600) == 0
    assert await store.count() == {"due": 0, "inflight": 0}


async def test_reschedule_while_in_flight_survives_the_ack(store: TimerStore) -> None:
    now = time.time()
    await store.schedule("t1", now - 1, b"first")
    [claimed] = await store.claim_due("a", now=now)

    await store.schedule("t1", now + 30, b"second")  # e.g. a customer message reset the clock
    assert await store.ack([claimed]) == 1

    assert await store.count() == {"due": 1, "inflight": 0}
    [again] = await store.claim_due("a", now=now + 30)
    assert again.payload == b"second" and again.due_at == pytest.approx(now + 30, abs=0.001)
    assert await store.ack([again]) == 1
    assert await store.count() == {"due": 0, "inflight": 0}


async def test_lease_expiry_returns_the_timer_and_the_stale_ack_does_nothing(
    store: TimerStore,
) -> None:
    now = time.time()
    await store.schedule("t1", now - 5, b"p")
    [stale] = await store.claim_due("a", now=now, lease=0.5)

    assert await store.release_expired(now=now + 0.4) == 0  # lease still running
    assert await store.release_expired(now=now + 0.6) == 1

    [fresh] = await store.claim_due("b", now=now + 0.6)
    assert fresh.timer_id == "t1"
    assert fresh.due_at == pytest.approx(now - 5, abs=0.001)  # original due time kept
    assert fresh.token != stale.token
    assert await store.ack([stale]) == 0  # the old owner acks nothing
    assert await store.extend([stale], lease=30) == 0
    assert await store.count() == {"due": 0, "inflight": 1}
    assert await store.ack([fresh]) == 1
    assert await store.count() == {"due": 0, "inflight": 0}


async def test_lease_expiry_in_real_time(store: TimerStore) -> None:
    await store.schedule("t1", time.time() - 1, b"p")
    [stale] = await store.claim_due("a", lease=0.2)
    await asyncio.sleep(0.3)

    assert await store.release_expired() == 1
    [fresh] = await store.claim_due("b")
    assert (fresh.timer_id, fresh.payload) == ("t1", b"p")
    assert await store.ack([stale]) == 0


async def test_expired_lease_of_a_rescheduled_timer_keeps_the_new_schedule(
    store: TimerStore,
) -> None:
    now = time.time()
    await store.schedule("t1", now - 1, b"old")
    await store.claim_due("a", now=now, lease=1)
    await store.schedule("t1", now + 60, b"new")

    assert await store.release_expired(now=now + 2) == 1
    assert await store.claim_due("b", now=now + 2) == []  # latest schedule wins
    [claimed] = await store.claim_due("b", now=now + 60)
    assert claimed.payload == b"new"


async def test_extend_keeps_the_lease(store: TimerStore) -> None:
    now = time.time()
    await store.schedule("t1", now - 1, b"p")
    claimed = await store.claim_due("a", now=now, lease=1)

    assert await store.extend(claimed, lease=10, now=now + 0.5) == 1
    assert await store.release_expired(now=now + 5) == 0
    assert await store.release_expired(now=now + 11) == 1


async def test_claim_respects_limit_across_shards_and_earliest_first(store: TimerStore) -> None:
    now = time.time()
    await store.schedule_many([(f"x{i}", now - 100 + i, b"") for i in range(50)])

    seen: list[str] = []
    for limit in (1, 3, 7, 100):
        batch = await store.claim("a", now=now, limit=limit)
        assert len(batch.timers) == min(limit, 50 - len(seen))
        seen += [c.timer_id for c in batch.timers]
    assert sorted(seen) == sorted(f"x{i}" for i in range(50))
    assert len(set(seen)) == 50
    batch = await store.claim("a", now=now)
    assert batch.timers == [] and not batch.more and batch.next_due_at is None


async def test_claim_reports_more_when_the_limit_cuts_a_backlog(store: TimerStore) -> None:
    now = time.time()
    await store.schedule_many([(f"x{i}", now - 1, b"") for i in range(40)])

    batch = await store.claim("a", now=now, limit=10)

    assert len(batch.timers) == 10 and batch.more


async def test_schedule_many_large_batch_and_payloads(store: TimerStore) -> None:
    now = time.time()
    timers = [(f"big{i}", now - 1, f"payload-{i}".encode()) for i in range(5000)]
    assert await store.schedule_many(timers) == 5000

    claimed = []
    while batch := await store.claim_due("a", now=now, limit=500):
        claimed += batch
    assert {c.timer_id: c.payload for c in claimed} == {t[0]: t[2] for t in timers}
    assert await store.ack(claimed) == 5000
    assert await store.count() == {"due": 0, "inflight": 0}


async def test_rejects_naive_datetimes(store: TimerStore) -> None:
    with pytest.raises(ValueError):
        await store.schedule("t", datetime.now(), b"")  # noqa: DTZ005


async def test_a_previous_owner_of_a_partition_changes_none_of_its_timers(redis: Redis) -> None:
    namespace, shard = unique("fenced"), "kefu.orders:3"
    before, after = PartitionTimers(redis, namespace), PartitionTimers(redis, namespace)
    await before.take([shard])
    await before.run([before.schedule(shard, [("kept", 1_000, b"a")])])
    await after.take([shard])  # the partition moved: the previous owner still runs
    with pytest.raises(Fenced):
        await before.run([before.schedule(shard, [("late", 2_000, b"b")])])
    with pytest.raises(Fenced):
        await before.run([before.cancel(shard, ["kept"])])
    await after.run([after.schedule(shard, [("new", 3_000, b"c")])])
    claimed, _ = await after.claim({shard: 10_000}, owner="after", now_ms=10_000, limit=10,
                                   lease_ms=1_000)
    assert sorted(t.timer_id for t in claimed) == ["kept", "new"]


@pytest.mark.parametrize("skew_ms", [3_600_000, -3_600_000])
async def test_a_replica_whose_clock_is_skewed_cannot_fire_a_timer_twice(
        redis: Redis, skew_ms: int) -> None:
    """Leases are judged by each owner's own clock, so a skewed clock could re-claim a
    timer another replica holds. It cannot: only the partition's current owner claims,
    renews or returns its timers, whatever either clock says."""
    namespace, shard, now = unique("skew"), "kefu.role.presale:1", 1_000_000
    skewed, other = PartitionTimers(redis, namespace), PartitionTimers(redis, namespace)
    await skewed.take([shard])
    await skewed.run([skewed.schedule(shard, [("due", now + min(0, skew_ms) - 1, b"p")])])
    first, _ = await skewed.claim({shard: now + skew_ms}, owner="skewed", now_ms=now + skew_ms,
                                  limit=10, lease_ms=5_000)
    assert [t.timer_id for t in first] == ["due"]
    await other.take([shard])  # the partition moved; the skewed replica still runs
    await other.release([shard], expired_before_ms=RELEASE_ALL_MS)  # what it left in flight
    second, _ = await other.claim({shard: now}, owner="other", now_ms=now, limit=10,
                                  lease_ms=5_000)
    assert [t.timer_id for t in second] == ["due"], "the new owner fires it"
    with pytest.raises(Fenced):  # its reaper, on its own clock
        await skewed.release([shard], expired_before_ms=now + skew_ms + 10_000)
    with pytest.raises(Fenced):
        await skewed.claim({shard: now + skew_ms + 10_000}, owner="skewed",
                           now_ms=now + skew_ms + 10_000, limit=10, lease_ms=5_000)
    with pytest.raises(Fenced):
        await skewed.run([skewed.ack(shard, first)])
    assert await other.run([other.ack(shard, second)]), "the new owner's ack counts"
    assert await other.count([shard]) == {"due": 0, "inflight": 0}, "fired once, gone"


async def test_a_late_take_of_an_expelled_replica_does_not_fence_the_owner(
        redis: Redis) -> None:
    """A replica given a partition in the group's generation 4 retries its take while
    Redis refuses writes; the group expels it and gives the partition to another replica
    in generation 5, whose take lands first. When Redis takes the late one, the rightful
    owner must keep its partition (it would otherwise abandon every batch until the next
    rebalance), and the expelled replica must change nothing."""
    namespace, shard = unique("late-take"), "kefu.role.presale:2"
    expelled, owner = PartitionTimers(redis, namespace), PartitionTimers(redis, namespace)
    await owner.take([shard], group_generation=5)
    await expelled.take([shard], group_generation=4, proven=_never)
    await owner.run([owner.schedule(shard, [("owned", 1_000, b"a")])])
    with pytest.raises(Fenced):
        await expelled.run([expelled.schedule(shard, [("late", 2_000, b"b")])])
    claimed, _ = await owner.claim({shard: 10_000}, owner="owner", now_ms=10_000, limit=10,
                                   lease_ms=1_000)
    assert [t.timer_id for t in claimed] == ["owned"]


async def test_a_group_started_afresh_takes_its_partitions_back(redis: Redis) -> None:
    """The consumer group was deleted (or the broker lost it) while Redis kept the fences:
    its generations start again below the stored one. A replica the group confirms as
    current takes the partition anyway; one it does not confirm changes nothing."""
    namespace, shard = unique("new-group"), "kefu.role.aftersale:0"
    old, unconfirmed = PartitionTimers(redis, namespace), PartitionTimers(redis, namespace)
    fresh = PartitionTimers(redis, namespace)
    await old.take([shard], group_generation=57)
    await unconfirmed.take([shard], group_generation=1, proven=_never)
    with pytest.raises(Fenced):
        await unconfirmed.run([unconfirmed.schedule(shard, [("no", 1_000, b"")])])
    await fresh.take([shard], group_generation=1, proven=_always)
    await fresh.run([fresh.schedule(shard, [("yes", 1_000, b"")])])
    with pytest.raises(Fenced):
        await old.run([old.schedule(shard, [("old", 1_000, b"")])])
    later = PartitionTimers(redis, namespace)
    await later.take([shard], group_generation=2, proven=_never)  # the new group goes on
    await later.run([later.schedule(shard, [("later", 2_000, b"")])])


async def _never() -> bool:
    return False


async def _always() -> bool:
    return True


async def test_an_owner_knows_when_no_timer_of_its_partition_can_be_due(redis: Redis) -> None:
    """What lets the firing loop skip a round: the earliest due time the owner last
    claimed past, or has scheduled since, never later than what Redis holds."""
    namespace, shard = unique("heads"), "kefu.role.presale:2"
    owner = PartitionTimers(redis, namespace)
    await owner.take([shard])
    assert owner.may_be_due({shard: 0}), "never looked: a timer may be due"
    await owner.run([owner.schedule(shard, [("late", 50_000, b"a")])])
    await owner.claim({shard: 10_000}, owner="o", now_ms=10_000, limit=10, lease_ms=1_000)
    assert not owner.may_be_due({shard: 49_999})
    assert owner.may_be_due({shard: 50_000})
    await owner.run([owner.schedule(shard, [("soon", 20_000, b"b")])])
    assert owner.may_be_due({shard: 20_000}), "what it schedules lowers what it knows"
    claimed, _ = await owner.claim({shard: 20_000}, owner="o", now_ms=20_000, limit=10,
                                   lease_ms=1_000)
    assert [t.timer_id for t in claimed] == ["soon"]
    assert not owner.may_be_due({shard: 49_999})
    await owner.release([shard], expired_before_ms=RELEASE_ALL_MS)  # "soon" is due again
    assert owner.may_be_due({shard: 20_000})
    claimed, _ = await owner.claim({shard: 20_000}, owner="o", now_ms=20_000, limit=10,
                                   lease_ms=1_000)
    assert [t.timer_id for t in claimed] == ["soon"]
