"""No timer is lost: a runner process SIGKILLed mid-fire, and Valkey restarted (AOF)."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from services.core.timers import ClaimedTimer, TimerRunner, TimerStore
from tests.conftest import unique
from tests.e2e.test_timers_runner import Recorder, running
from tests.support.kafka_io import wait_until

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
async def redis(stack) -> AsyncIterator[Redis]:
    client = Redis.from_url(stack.redis.url)
    yield client
    await client.aclose()


def read_log(path: Path) -> tuple[list[str], list[str]]:
    claimed, done = [], []
    if path.exists():
        for line in path.read_text().splitlines():
            kind, _, timer_id = line.partition(" ")
            (claimed if kind == "claim" else done).append(timer_id)
    return claimed, done


async def test_sigkilled_runner_loses_nothing(stack, redis: Redis, tmp_path: Path) -> None:
    namespace = unique("kill")
    ids = [f"k{i}" for i in range(300)]
    store = TimerStore(redis, namespace)
    await store.schedule_many([(tid, time.time() - 1, b"") for tid in ids])
    log_path = tmp_path / "worker.log"
    worker = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.e2e.test_timers_worker", stack.redis.url, namespace,
        str(log_path), "--batch", "50", "--lease", "3", "--hang-after", "2",
        cwd=REPO,
    )
    try:
        # Two batches fired and acked, the third hangs in fire.
        assert await wait_until(lambda: len(read_log(log_path)[0]) >= 150, timeout=30)
        claimed, done = read_log(log_path)
        assert (len(claimed), len(done)) == (150, 100)
        hung = set(claimed) - set(done)

        fire = Recorder()
        survivor = TimerRunner(store, fire, owner="survivor", stopping=asyncio.Event(),
                               lease=3, batch=50)
        async with running(survivor):
            assert await wait_until(lambda: len(fire.fired) >= 150, timeout=30)
            # The hung worker is alive and renews its leases: nobody steals its batch.
            await asyncio.sleep(4)
            assert not hung & set(fire.fired)

            worker.send_signal(signal.SIGKILL)
            await asyncio.wait_for(worker.wait(), 10)
            assert await wait_until(lambda: len(fire.fired) >= 200, timeout=30)

        assert set(fire.fired) | set(done) == set(ids)  # none lost
        fired_overall = Counter(done) + fire.fired
        duplicates = {tid for tid, n in fired_overall.items() if n > 1}
        assert duplicates <= hung  # repeats only for what the killed one had claimed
        assert await store.count() == {"due": 0, "inflight": 0}
    finally:
        if worker.returncode is None:
            worker.kill()
            await asyncio.wait_for(worker.wait(), 10)


async def test_timers_survive_a_killed_redis(stack, redis: Redis) -> None:
    store = TimerStore(redis, unique("durable"), shards=4)
    now = time.time()
    await store.schedule_many([(f"d{i}", now + 1 + (i % 10) / 10, b"p") for i in range(100)])
    await store.schedule("inflight", now - 1, b"p")
    await store.claim_due("gone-owner", now=now, lease=1)  # its owner never comes back

    await asyncio.to_thread(stack.redis.kill)  # SIGKILL: only the AOF (fsync always) is left
    await asyncio.to_thread(stack.redis.start)

    fresh = Redis.from_url(stack.redis.url)  # a new process after the crash
    try:
        store = TimerStore(fresh, store.namespace, shards=4)
        assert await store.count() == {"due": 100, "inflight": 1}
        fire = Recorder()
        r = TimerRunner(store, fire, owner="a", stopping=asyncio.Event(), lease=1)
        async with running(r):
            assert await wait_until(lambda: len(fire.fired) >= 101, timeout=30)
        assert set(fire.fired) == {f"d{i}" for i in range(100)} | {"inflight"}
    finally:
        await fresh.aclose()


async def test_runner_recovers_across_a_redis_restart(stack, redis: Redis) -> None:
    store = TimerStore(redis, unique("restart"), shards=4)
    now = time.time()
    early = [f"e{i}" for i in range(100)]
    late = [f"l{i}" for i in range(100)]
    await store.schedule_many([(tid, now - 1, b"") for tid in early])
    await store.schedule_many([(tid, now + 3, b"") for tid in late])
    fired: set[str] = set()

    async def fire(timers: list[ClaimedTimer]) -> None:
        fired.update(t.timer_id for t in timers)

    r = TimerRunner(store, fire, owner="a", stopping=asyncio.Event(), lease=2, max_backoff=0.5)
    async with running(r):
        assert await wait_until(lambda: set(early) <= fired, timeout=20)
        await asyncio.to_thread(stack.redis.restart)
        assert await wait_until(lambda: set(late) <= fired, timeout=30)
    assert fired == set(early) | set(late)
    assert await store.count() == {"due": 0, "inflight": 0}
