"""TimerRunner's loop against a hand-written fake store: what is acked, what is retried."""

from __future__ import annotations

import asyncio
import time

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from services.core.timers import ClaimBatch, ClaimedTimer, TimerRunner


def timer(tid: str) -> ClaimedTimer:
    return ClaimedTimer(tid, time.time(), b"", f"tok-{tid}")


class FakeStore:
    """Hands out scripted claim results (or raises them), records acks and extends."""

    namespace = "fake"

    def __init__(self, *claims: ClaimBatch | BaseException, ack_errors: int = 0) -> None:
        self.claims = list(claims)
        self.acked: list[str] = []
        self.extended = 0
        self.reaped = 0
        self.ack_errors = ack_errors

    async def release_expired(self, now=None) -> int:
        self.reaped += 1
        return 0

    async def claim(self, owner, *, now=None, limit=500, lease=30.0, sweep_every=None):
        if not self.claims:
            return ClaimBatch()
        item = self.claims.pop(0)
        if isinstance(item, BaseException):
            raise item
        return item

    async def ack(self, claimed) -> int:
        if self.ack_errors:
            self.ack_errors -= 1
            raise RedisConnectionError("down")
        self.acked += [t.timer_id for t in claimed]
        return len(claimed)

    async def extend(self, claimed, *, lease=30.0, now=None) -> int:
        self.extended += 1
        return len(claimed)


def make(store: FakeStore, fire, **kw) -> TimerRunner:
    kw.setdefault("poll_interval", 0.01)
    kw.setdefault("max_backoff", 0.02)
    return TimerRunner(store, fire, owner="o", stopping=asyncio.Event(), **kw)  # type: ignore[arg-type]


async def run_until(runner: TimerRunner, predicate, timeout: float = 5.0) -> None:
    task = asyncio.create_task(runner.run())
    for _ in range(int(timeout / 0.005)):
        if predicate():
            break
        await asyncio.sleep(0.005)
    runner.stopping.set()
    await asyncio.wait_for(task, timeout)
    assert predicate()


async def test_fires_then_acks() -> None:
    store = FakeStore(ClaimBatch([timer("a"), timer("b")]))
    fired: list[str] = []

    async def fire(batch):
        assert store.acked == []  # ack strictly after fire
        fired.extend(t.timer_id for t in batch)

    r = make(store, fire)
    await run_until(r, lambda: store.acked == ["a", "b"])
    assert fired == ["a", "b"] and r.fired == 2


async def test_a_failed_fire_is_never_acked() -> None:
    store = FakeStore(ClaimBatch([timer("a")]), ClaimBatch([timer("b")]))
    calls: list[str] = []

    async def fire(batch):
        calls.extend(t.timer_id for t in batch)
        if batch[0].timer_id == "a":
            raise RuntimeError("publish failed")

    await run_until(make(store, fire), lambda: store.acked == ["b"])
    assert calls == ["a", "b"]


async def test_transient_redis_errors_back_off_and_continue() -> None:
    store = FakeStore(RedisConnectionError("down"), RedisConnectionError("down"),
                      ClaimBatch([timer("a")]), ack_errors=2)
    fired: list[str] = []

    async def fire(batch):
        fired.extend(t.timer_id for t in batch)

    await run_until(make(store, fire), lambda: store.acked == ["a"])
    assert fired == ["a"]  # the ack was retried, not the fire


async def test_other_redis_errors_are_not_swallowed() -> None:
    store = FakeStore(ResponseError("WRONGTYPE"))

    async def fire(batch):
        pass

    with pytest.raises(ResponseError):
        await asyncio.wait_for(make(store, fire).run(), 5)


async def test_leases_are_renewed_while_fire_runs() -> None:
    store = FakeStore(ClaimBatch([timer("a")]))

    async def slow(batch):
        await asyncio.sleep(0.2)

    await run_until(make(store, slow, lease=0.09), lambda: store.acked == ["a"])
    assert store.extended >= 3


async def test_stopping_during_fire_still_acks_the_batch() -> None:
    store = FakeStore(ClaimBatch([timer("a")]))
    runner: TimerRunner

    async def fire(batch):
        runner.stopping.set()
        await asyncio.sleep(0.01)

    runner = make(store, fire)
    await asyncio.wait_for(runner.run(), 5)
    assert store.acked == ["a"]


def test_idle_delay_is_the_next_due_time_capped_by_the_poll_interval() -> None:
    r = make(FakeStore(), None, poll_interval=0.1, min_sleep=0.002)
    now = time.time()
    assert r._idle_delay(None) == 0.1
    assert r._idle_delay(now + 10) == 0.1
    assert 0.02 < r._idle_delay(now + 0.05) <= 0.05
    assert r._idle_delay(now - 1) == 0.002
