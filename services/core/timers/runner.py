"""`TimerRunner`: the reap -> claim -> fire -> ack loop one replica runs.

At-least-once: a batch is acked only after `fire` returned; if `fire` raises, or the
process dies, the leases expire and a reaper (any replica's) returns the timers, which
then fire again with the same ids. Leases are renewed while `fire` runs, so a slow
broker does not make another replica fire the same batch."""

from __future__ import annotations

import asyncio
import builtins
import random
import time
from collections.abc import Awaitable, Callable

from redis.exceptions import (
    BusyLoadingError,
    ClusterDownError,
    NoScriptError,
    OutOfMemoryError,
    ReadOnlyError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from services.core.logging import get_logger
from services.core.timers.model import ClaimedTimer
from services.core.timers.store import TimerStore
from services.core.waiting import wait_event

FireFn = Callable[[list[ClaimedTimer]], Awaitable[None]]

TRANSIENT_REDIS_ERRORS: tuple[type[BaseException], ...] = (
    RedisConnectionError,
    RedisTimeoutError,
    BusyLoadingError,
    ReadOnlyError,
    NoScriptError,
    OutOfMemoryError,
    TryAgainError,
    ClusterDownError,
    builtins.ConnectionError,
    builtins.TimeoutError,
)


class Backoff:
    """Capped exponential backoff with jitter in [d/2, d]."""

    def __init__(self, base: float = 0.05, cap: float = 5.0) -> None:
        self.base, self.cap, self.attempt = base, cap, 0

    def next(self) -> float:
        self.attempt += 1
        d = min(self.cap, self.base * 2 ** min(self.attempt, 30))
        return random.uniform(d / 2, d)

    def reset(self) -> None:
        self.attempt = 0


class TimerRunner:
    """Fires the due timers of `store` until `stopping` is set.

    `fire(batch)` must only return once the batch's effects are durable (e.g. the
    escalations were acked by the broker). Several runners may share a store."""

    def __init__(
        self,
        store: TimerStore,
        fire: FireFn,
        *,
        owner: str,
        stopping: asyncio.Event,
        poll_interval: float = 0.1,
        lease: float = 30.0,
        batch: int = 500,
        reap_interval: float | None = None,
        min_sleep: float = 0.002,
        max_backoff: float = 5.0,
    ) -> None:
        self.store, self.fire, self.owner, self.stopping = store, fire, owner, stopping
        self.poll_interval, self.lease, self.batch = poll_interval, lease, batch
        self.reap_interval = min(1.0, lease / 3) if reap_interval is None else reap_interval
        self.min_sleep = min_sleep
        self.backoff = Backoff(cap=max_backoff)
        self.log = get_logger("kefu.timers").bind(namespace=store.namespace, owner=owner)
        self.fired = 0  # timers fired and acked by this runner
        self._next_reap = 0.0

    async def run(self) -> None:
        """Reap, claim, fire, ack, until `stopping` is set (a batch being fired is
        finished and acked first). Transient Redis errors are logged and retried with
        capped, jittered backoff; anything else propagates."""
        while not self.stopping.is_set():
            try:
                await self._reap_if_due()
                claimed = await self.store.claim(
                    self.owner, limit=self.batch, lease=self.lease, sweep_every=self.poll_interval
                )
            except TRANSIENT_REDIS_ERRORS as exc:
                await self._back_off("timer_redis_unavailable", exc)
                continue
            if claimed.timers:
                if not await self._fire(claimed.timers):
                    await self._back_off("timer_fire_failed", None)
                    continue
                await self._ack(claimed.timers)
            self.backoff.reset()
            if not claimed.more:
                await self._sleep(self._idle_delay(claimed.next_due_at))

    def _idle_delay(self, next_due_at: float | None) -> float:
        if next_due_at is None:
            return self.poll_interval
        return max(self.min_sleep, min(self.poll_interval, next_due_at - time.time()))

    async def _reap_if_due(self) -> None:
        now = time.monotonic()
        if now < self._next_reap:
            return
        released = await self.store.release_expired()
        self._next_reap = now + self.reap_interval
        if released:
            self.log.warning("timer_leases_expired", released=released)

    async def _fire(self, timers: list[ClaimedTimer]) -> bool:
        keeper = asyncio.create_task(self._keep_leases(timers))
        try:
            await self.fire(timers)
            return True
        except Exception:
            # Not acked: the leases expire and the timers fire again.
            self.log.exception("timer_fire_error", timers=len(timers))
            return False
        finally:
            keeper.cancel()
            await asyncio.wait([keeper])

    async def _keep_leases(self, timers: list[ClaimedTimer]) -> None:
        while True:
            await asyncio.sleep(self.lease / 3)
            try:
                kept = await self.store.extend(timers, lease=self.lease)
            except TRANSIENT_REDIS_ERRORS as exc:
                self.log.warning("timer_lease_extend_failed", error=_describe(exc))
                continue
            if kept < len(timers):
                self.log.warning("timer_leases_lost", lost=len(timers) - kept)

    async def _ack(self, timers: list[ClaimedTimer]) -> None:
        """Retry transient failures while the leases last; giving up only means the
        timers fire once more (same ids) after the reaper returns them."""
        deadline = time.monotonic() + min(self.lease / 2, 10.0)
        backoff = Backoff(cap=1.0)
        while True:
            try:
                acked = await self.store.ack(timers)
            except TRANSIENT_REDIS_ERRORS as exc:
                delay = backoff.next()
                if time.monotonic() + delay > deadline:
                    self.log.warning(
                        "timer_ack_abandoned", timers=len(timers), error=_describe(exc)
                    )
                    return
                await asyncio.sleep(delay)
                continue
            self.fired += acked
            if acked < len(timers):
                self.log.warning("timer_ack_stale", stale=len(timers) - acked)
            return

    async def _back_off(self, event: str, exc: BaseException | None) -> None:
        delay = self.backoff.next()
        self.log.warning(event, error=_describe(exc) if exc else None, retry_in=round(delay, 3))
        await self._sleep(delay)

    async def _sleep(self, seconds: float) -> None:
        await wait_event(self.stopping, seconds)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
