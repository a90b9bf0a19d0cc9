"""TimerRunner against a real Valkey: firing, retries after a failed fire, two replicas."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from redis.asyncio import Redis

from services.core.timers import ClaimedTimer, TimerRunner, TimerStore
from tests.conftest import unique
from tests.support.kafka_io import wait_until

pytestmark = pytest.mark.e2e


class Recorder:
    """A fire() that records every timer it fired (successfully) in order."""

    def __init__(self) -> None:
        self.fired: Counter[str] = Counter()
        self.calls = 0

    async def __call__(self, timers: list[ClaimedTimer]) -> None:
        self.calls += 1
        await asyncio.sleep(0)
        self.fired.update(t.timer_id for t in timers)


@pytest.fixture
async def redis(stack) -> AsyncIterator[Redis]:
    client = Redis.from_url(stack.redis.url)
    yield client
    await client.aclose()


@asynccontextmanager
async def running(*runners: TimerRunner) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(r.run()) for r in runners]
    try:
        yield
    finally:
        for r in runners:
            r.stopping.set()
        done, pending = await asyncio.wait(tasks, timeout=15)
        assert not pending, "runner did not stop"
        for t in done:
            t.result()  # re-raise a crash


def runner(store: TimerStore, fire, owner: str, **kw) -> TimerRunner:
    return TimerRunner(store, fire, owner=owner, stopping=asyncio.Event(), **kw)


async def test_runner_fires_due_timers_and_acks_them(redis: Redis) -> None:
    store = TimerStore(redis, unique("run"), shards=4)
    now = time.time()
    await store.schedule_many([(f"t{i}", now + i * 0.05, b"p") for i in range(20)])
    await store.schedule("far", now + 3600, b"p")
    fire = Recorder()

    r = runner(store, fire, "a")
    async with running(r):
        assert await wait_until(lambda: len(fire.fired) >= 20, timeout=20)
        assert await wait_until(lambda: r.fired >= 20, timeout=10)

    assert set(fire.fired) == {f"t{i}" for i in range(20)}
    assert await store.count() == {"due": 1, "inflight": 0}  # only the far one left


async def test_failed_fire_is_not_acked_and_fires_again(redis: Redis) -> None:
    store = TimerStore(redis, unique("fail"), shards=4)
    await store.schedule_many([(f"t{i}", time.time() - 1, b"") for i in range(30)])
    attempts: Counter[str] = Counter()
    fired: set[str] = set()

    async def flaky(timers: list[ClaimedTimer]) -> None:
        attempts.update(t.timer_id for t in timers)
        if any(attempts[t.timer_id] == 1 for t in timers):
            raise RuntimeError("broker said no")
        fired.update(t.timer_id for t in timers)

    async with running(runner(store, flaky, "a", lease=0.5, max_backoff=0.2)):
        assert await wait_until(lambda: len(fired) == 30, timeout=30)

    assert all(n >= 2 for n in attempts.values())  # every timer retried, same id
    assert await store.count() == {"due": 0, "inflight": 0}  # the runner acked on stopping


async def test_two_runners_fire_each_timer_exactly_once(redis: Redis) -> None:
    ids = [f"conv-{i}:sla" for i in range(2000)]
    namespace = unique("pair")
    store_a = TimerStore(redis, namespace)
    store_b = TimerStore(redis, namespace)
    now = time.time()
    await store_a.schedule_many([(tid, now + (i % 100) / 100, b"x") for i, tid in enumerate(ids)])
    fire = Recorder()  # shared: duplicates across replicas show up as counts > 1

    a = runner(store_a, fire, "replica-a", batch=100)
    b = runner(store_b, fire, "replica-b", batch=100)
    async with running(a, b):
        assert await wait_until(lambda: len(fire.fired) >= len(ids), timeout=30)
        await asyncio.sleep(0.5)  # let a late duplicate show up if there were one

    assert set(fire.fired) == set(ids)
    assert [tid for tid, n in fire.fired.items() if n > 1] == []
    assert a.fired + b.fired == len(ids)
    assert a.fired > 0 and b.fired > 0
    assert await store_a.count() == {"due": 0, "inflight": 0}


async def test_runner_stops_promptly_while_idle(redis: Redis) -> None:
    store = TimerStore(redis, unique("idle"), shards=2)
    r = runner(store, Recorder(), "a", poll_interval=30)
    task = asyncio.create_task(r.run())
    await asyncio.sleep(0.2)
    r.stopping.set()
    await asyncio.wait_for(task, timeout=5)


async def test_timers_scheduled_elsewhere_reach_an_idle_runner(redis: Redis) -> None:
    # The runner's store caches shard heads; a sweep per poll interval must still see
    # what another process (here: another store instance) schedules.
    namespace = unique("elsewhere")
    runner_store = TimerStore(redis, namespace)
    other = TimerStore(redis, namespace)
    fire = Recorder()
    async with running(runner(runner_store, fire, "a", poll_interval=0.2)):
        await asyncio.sleep(0.3)  # the runner has seen every shard empty
        await other.schedule_many([(f"x{i}", time.time(), b"") for i in range(50)])
        await other.schedule("soon", time.time() + 0.5, b"")
        assert await wait_until(lambda: len(fire.fired) == 51, timeout=15)
