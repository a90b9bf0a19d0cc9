"""The role services' firing loop on fakes: it claims only what the watermark allows,
dead-letters an unreadable timer and one that breaks its batch alone, and never dies:
a failure is retried and shown to /readyz."""

from __future__ import annotations

import asyncio

import orjson
from aiokafka import TopicPartition

from services.core.loop_lag import LoopLag
from services.core.progress import PartitionProgress
from services.core.timers import ClaimedTimer
from services.core.timers.heads import ShardHeads
from services.roles.escalation import TimerPayload
from services.roles.firing import Firing
from tests.support.kafka_io import wait_until

TP = TopicPartition("kefu.role.presale", 0)
SHARD = "kefu.role.presale:0"


class FakeTimers:
    namespace = "presale"

    def __init__(self, claims: list[list[ClaimedTimer]]) -> None:
        self.claims, self.bounds, self.acked = claims, [], []
        self.broken: Exception | None = None
        self.earliest: int | None = None  # what the store knows of the shard's first timer
        self.asked: list[dict] = []

    def may_be_due(self, bounds) -> bool:
        self.asked.append(dict(bounds))
        return self.earliest is None or any(self.earliest <= b for b in bounds.values())

    async def claim(self, bounds, *, owner, now_ms, limit, lease_ms):
        self.bounds.append(dict(bounds))
        if self.broken is not None:
            raise self.broken
        return (self.claims.pop(0) if self.claims else []), False

    async def release(self, shards, *, expired_before_ms) -> int:
        return 0

    def ack(self, shard, claimed):
        return ("ack", shard, [t.timer_id for t in claimed])

    async def run(self, calls):
        self.acked += [tid for _, _, ids in calls for tid in ids]


class FakeBatches:
    def __init__(self, broken: set[str] = frozenset()) -> None:
        self.broken, self.fired = broken, []

    async def run(self, events=(), timers=()):
        if any(t.timer_id in self.broken for t, _ in timers):
            raise ValueError("cannot build its escalation")

        async def write() -> None:
            self.fired += [t.timer_id for t, _ in timers]

        return [], write


class FakeUpstream:
    async def read(self):
        return None


def timer(tid: str, payload: bytes | None = None) -> ClaimedTimer:
    body = payload if payload is not None else TimerPayload(
        "s1", "conversation", tid, "response", "e1", 1).encode()
    return ClaimedTimer(tid, 1.0, body, "tok", SHARD)


class FakeConsumer:
    def __init__(self, highwater: int) -> None:
        self.high = highwater

    def highwater(self, tp) -> int:
        return self.high

    def last_poll_timestamp(self, tp) -> int:
        return 1


def firing(timers: FakeTimers, batches: FakeBatches, published: list,
           quiesce=None, consumer=None) -> tuple[Firing, ...]:
    progress = PartitionProgress(grace_ms=0)
    progress.assigned([TP])
    stopping = asyncio.Event()

    async def publish(outputs) -> None:
        published.extend(outputs)

    async def written() -> None:
        return None

    loop = Firing(role="presale", timers=timers, batches=batches, progress=progress,
                  consumer_of=lambda: consumer, quiesce=quiesce or written,
                  upstream=FakeUpstream(),
                  publish=publish, lock=asyncio.Lock(), stopping=stopping, owner="me",
                  lease=30, poll_interval=0.01, lag=LoopLag(), max_backoff=0.01)
    return loop, progress, stopping


async def test_nothing_is_claimed_before_the_watermark_and_then_only_up_to_it() -> None:
    timers = FakeTimers([])
    loop, progress, _ = firing(timers, FakeBatches(), [])
    await loop.round()
    assert timers.bounds[0][SHARD] < 0, "a partition read by nobody yet fires nothing"
    progress.completed({TP: 1}, {TP: 5_000})
    await loop.round()
    assert timers.bounds[-1] == {SHARD: 4_999}


async def test_unreadable_and_breaking_timers_are_dead_lettered_alone() -> None:
    timers = FakeTimers([[timer("good"), timer("bad-payload", b"{not a timer"),
                          timer("breaks")]])
    batches, published = FakeBatches({"breaks"}), []
    loop, progress, _ = firing(timers, batches, published)
    progress.completed({TP: 1}, {TP: 5_000})
    await loop.round()
    assert batches.fired == ["good"]
    letters = [orjson.loads(o.value) for o in published if o.topic == "kefu.dlq"]
    assert sorted(le["detail"][:25] for le in letters) == sorted([
        "unreadable timer payload:", "ValueError: cannot build "])
    assert sorted(timers.acked) == ["bad-payload", "breaks"], "acked: they never come back"


async def test_a_failing_round_never_ends_the_loop_and_shows_until_it_recovers() -> None:
    timers = FakeTimers([[timer("t1")]])
    timers.broken = ValueError("a bug")
    batches = FakeBatches()
    loop, progress, stopping = firing(timers, batches, [])
    progress.completed({TP: 1}, {TP: 5_000})
    task = asyncio.create_task(loop.run())
    assert await wait_until(lambda: not loop.healthy, timeout=5)
    timers.broken = None
    assert await wait_until(lambda: batches.fired == ["t1"] and loop.healthy, timeout=5)
    stopping.set()
    await asyncio.wait_for(task, 5)


async def test_a_round_with_nothing_due_does_not_wait_for_the_batch_being_written() -> None:
    """The round's lock and its wait for the batch in flight (`quiesce`) hold up the
    next batch: a round skips them when the store knows no timer can be due."""
    timers, waiting, written = FakeTimers([]), asyncio.Event(), asyncio.Event()

    async def in_flight() -> None:
        waiting.set()
        await written.wait()

    loop, progress, _ = firing(timers, FakeBatches(), [], quiesce=in_flight)
    progress.completed({TP: 1}, {TP: 5_000})
    timers.earliest = None  # never looked: the round must look
    first = asyncio.create_task(loop.round())
    await asyncio.wait_for(waiting.wait(), 5)  # a shard never looked at: it must look
    assert not first.done()
    written.set()
    await first
    written.clear()
    waiting.clear()
    timers.earliest = 2**60  # the first timer is due long after the wall clock
    assert await asyncio.wait_for(loop.round(), 5) is False
    assert not waiting.is_set() and len(timers.bounds) == 1, "no wait, no claim"


async def test_a_partition_read_by_nobody_yet_does_not_make_a_later_round_wait() -> None:
    """The first round learns the earliest timer of every partition given, read yet or
    not: once a batch makes the watermark known, a round with nothing due still skips
    the wait for the batch in flight (at the start of a backlog, each wait held up the
    next batch)."""
    timers, waits = HeadsTimers({SHARD: 2**60}), []

    async def in_flight() -> None:
        waits.append(1)

    loop, progress, _ = firing(timers, FakeBatches(), [], quiesce=in_flight)
    await loop.round()  # a partition new to this process: its leases are returned
    progress.completed({TP: 1}, {TP: 5_000})
    assert await loop.round() is False
    assert len(waits) == 1


class HeadsTimers(FakeTimers):
    """Knows each shard's earliest timer only once a claim looked at it, as
    PartitionTimers does (`ShardHeads`)."""

    def __init__(self, earliest: dict[str, int]) -> None:
        super().__init__([])
        self.in_store, self.heads = earliest, ShardHeads()

    def may_be_due(self, bounds) -> bool:
        return any(self.heads.may_be_due(shard, b) for shard, b in bounds.items())

    async def claim(self, bounds, **kwargs):
        for shard in bounds:
            self.heads.seen(shard, self.in_store.get(shard))
        return await super().claim(bounds, **kwargs)


async def test_a_lagging_partition_is_bounded_by_its_watermark_a_caught_up_one_by_the_clock():
    timers = FakeTimers([])
    timers.earliest = 2**60
    consumer = FakeConsumer(highwater=10)
    loop, progress, _ = firing(timers, FakeBatches(), [], consumer=consumer)
    progress.started_at(TP, 0)
    progress.completed({TP: 4}, {TP: 5_000})
    await loop.round()  # a partition new to this process: its leases are returned
    await loop.round()
    lagging = timers.asked[-1][SHARD]
    progress.completed({TP: 10}, {})
    await loop.round()
    caught_up = timers.asked[-1][SHARD]
    assert lagging == 4_999 and caught_up > 1_700_000_000_000


async def test_a_round_looks_whenever_leases_may_have_to_be_returned() -> None:
    timers = FakeTimers([])
    timers.earliest = 2**60
    loop, progress, _ = firing(timers, FakeBatches(), [])
    progress.completed({TP: 1}, {TP: 5_000})
    await loop.round()  # a partition new to this process: its leases are returned
    assert len(timers.bounds) == 1
    await loop.round()
    assert len(timers.bounds) == 1, "nothing due, no lease to return: no claim"
    loop._next_reap = 0.0  # this process's own expired leases are due to be returned
    await loop.round()
    assert len(timers.bounds) == 2
