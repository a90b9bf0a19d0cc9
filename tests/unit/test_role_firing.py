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


def firing(timers: FakeTimers, batches: FakeBatches, published: list) -> tuple[Firing, ...]:
    progress = PartitionProgress(grace_ms=0)
    progress.assigned([TP])
    stopping = asyncio.Event()

    async def publish(outputs) -> None:
        published.extend(outputs)

    async def quiesce() -> None:
        return None

    loop = Firing(role="presale", timers=timers, batches=batches, progress=progress,
                  consumer_of=lambda: None, quiesce=quiesce, upstream=FakeUpstream(),
                  publish=publish, lock=asyncio.Lock(), stopping=stopping, owner="me",
                  lease=30, poll_interval=0.01, lag=LoopLag(), max_backoff=0.01)
    return loop, progress, stopping


async def test_nothing_is_claimed_before_the_watermark_and_then_only_up_to_it() -> None:
    timers = FakeTimers([])
    loop, progress, _ = firing(timers, FakeBatches(), [])
    await loop.round()
    assert timers.bounds == [{}], "a partition read by nobody yet fires nothing"
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
