"""Firing the clocks' timers of the partitions this process owns, on event time.

Each round, under the lock the partition's batches hold, once the last batch is
completed (so its changes are written): advance the watermarks of the
partitions that are caught up, claim the timers each partition's watermark has passed
(and no later than the wall clock), and run them as one batch (`batches.py`): publish
their escalations, then write, and ack the timers. A new owner of a partition first
returns the in-flight timers of the previous one. An unreadable timer goes to the DLQ.
A timer that breaks the batch is dead-lettered alone; transient failures are retried
and the round abandoned at shutdown (the claims come back after their lease)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from contracts import DLQ, DeadLetter
from services.core.logging import get_logger
from services.core.loop_lag import LoopLag
from services.core.outputs import Outgoing
from services.core.progress import PartitionProgress
from services.core.retry import Fenced, ShuttingDown, is_transient, retry_transient
from services.core.stage_watermarks import StageWatermarks
from services.core.timers import ClaimedTimer
from services.core.timers.partitioned import RELEASE_ALL_MS, PartitionTimers, partition_shard
from services.core.waiting import wait_event
from services.core.watermark import FETCH_MARGIN_MS, UpstreamReadings
from services.roles.batches import RoleBatches
from services.roles.escalation import TimerPayload

log = get_logger("kefu.roles.firing")
Publish = Callable[[Sequence[Outgoing]], Awaitable[None]]


class Firing:
    def __init__(self, *, role: str, timers: PartitionTimers, batches: RoleBatches,
                 progress: PartitionProgress, consumer_of: Callable[[], object],
                 quiesce: Callable[[], Awaitable[None]],
                 upstream: StageWatermarks, publish: Publish, lock: asyncio.Lock,
                 stopping: asyncio.Event, owner: str, lease: float, poll_interval: float,
                 lag: LoopLag, fetch_wait_ms: int = 0, batch: int = 500,
                 max_backoff: float = 5.0) -> None:
        self.role, self.timers, self.batches, self.progress = role, timers, batches, progress
        self.consumer_of, self.upstream, self.publish = consumer_of, upstream, publish
        self.quiesce = quiesce
        self.readings = UpstreamReadings(request_ms=fetch_wait_ms + FETCH_MARGIN_MS)
        """The router's watermark as read by each round, with when (see `round`)."""
        self.lock, self.stopping, self.owner = lock, stopping, owner
        self.lease_ms, self.poll_interval = round(lease * 1000), poll_interval
        self.batch, self.max_backoff, self.lag = batch, max_backoff, lag
        self.fired = 0  # timers fired and acked by this process
        self.healthy = True  # the last round did not fail
        self._taken: set[str] = set()  # shards whose previous owner's leases were returned
        self._next_reap = 0.0

    async def run(self) -> None:
        failures = 0
        while not self.stopping.is_set():
            await wait_event(self.progress.moved, self.poll_interval)
            self.progress.moved.clear()
            try:
                more = await self.round()
                failures, self.healthy = 0, True
            except Fenced as lost:  # a partition was given to another process meanwhile
                log.info("timers of a lost partition left to its new owner", detail=str(lost))
                self.batches.forget()
                await wait_event(self.stopping, self.poll_interval)
                continue
            except ShuttingDown:
                return
            except Exception as exc:  # never dies: retried, and /readyz says so
                failures += 1
                self.healthy = is_transient(exc) and failures < 10
                delay = min(self.max_backoff, 0.05 * 2**failures)
                log.warning("timer firing failed; retrying", error=f"{type(exc).__name__}: {exc}",
                            retry_in=round(delay, 2), exc_info=not is_transient(exc))
                await wait_event(self.stopping, delay)
                continue
            if more:
                self.progress.moved.set()

    async def round(self) -> bool:
        """One claim and fire; True when more timers may be due at once."""
        if not self._may_find_work():
            return False
        self.readings.add(round(time.time() * 1000), await self.upstream.read())
        async with self.lock:
            await self.quiesce()  # the last batch's changes are written, or it is abandoned
            consumer = self.consumer_of()
            if consumer is not None:
                self.progress.caught_up(consumer, self.readings.before, self.lag.recent_ms())
            now_ms = round(time.time() * 1000)
            await self._return_leases(now_ms)
            # A partition whose watermark is unknown claims nothing, but its shard is
            # asked all the same: the claim learns its earliest timer, so a later round
            # can tell it has nothing due without the lock (`_may_find_work`).
            bounds = {partition_shard(tp): min(self.progress.watermark(tp) - 1, now_ms)
                      for tp in self.progress.owned()}
            claimed, more = await self.timers.claim(bounds, owner=self.owner, now_ms=now_ms,
                                                    limit=self.batch, lease_ms=self.lease_ms)
            if claimed:
                await self._fire(claimed)
        return more

    def _may_find_work(self) -> bool:
        """False only when the round can neither return a lease nor claim a timer: each
        owned partition's earliest timer (`PartitionTimers.heads`) is due after what its
        watermark can reach now. Such a round is skipped, with its lock and its wait for
        the batch in flight, which under a backlog would hold up the next batch."""
        owned = self.progress.owned()
        returning = {partition_shard(tp) for tp in owned} != self._taken
        if returning or time.monotonic() >= self._next_reap:
            return True
        now_ms, consumer = round(time.time() * 1000), self.consumer_of()
        return self.timers.may_be_due({partition_shard(tp): self._reachable(tp, consumer, now_ms)
                                       for tp in owned})

    def _reachable(self, tp, consumer, now_ms: int) -> int:
        """The highest bound a round could claim `tp`'s timers up to now: the wall clock
        if the partition may be caught up once the batch in flight is written, else its
        watermark (a batch's commit moves it, and wakes the firing loop)."""
        processed = self.progress.processed.get(tp)
        try:
            high = consumer.highwater(tp) if consumer is not None else None
        except (AssertionError, KeyError, ValueError):  # no longer assigned
            high = None
        if processed is None or high is None or processed >= high:
            return now_ms
        return min(now_ms, self.progress.watermark(tp) - 1)

    async def _return_leases(self, now_ms: int) -> None:
        owned = {partition_shard(tp) for tp in self.progress.owned()}
        new = owned - self._taken
        if new:  # the previous owner's claims: it is gone, or fenced out
            await self.timers.release(new, expired_before_ms=RELEASE_ALL_MS)
        self._taken = owned
        if time.monotonic() >= self._next_reap:  # our own claims of failed rounds
            await self.timers.release(owned, expired_before_ms=now_ms)
            self._next_reap = time.monotonic() + self.lease_ms / 3000

    async def _fire(self, claimed: list[ClaimedTimer]) -> None:
        good, letters, bad = [], [], []
        for timer in claimed:
            try:
                good.append((timer, TimerPayload.decode(timer.payload)))
            except (ValueError, TypeError) as exc:
                bad.append(timer)
                letters.append(self._dead_letter(timer, f"unreadable timer payload: {exc}"))
        try:
            if good:
                await self._run(good)
        except Exception as exc:
            if is_transient(exc) or isinstance(exc, ShuttingDown):
                raise
            for item in good:  # a timer broke the batch: isolate it
                try:
                    await self._run([item])
                except Exception as one:
                    if is_transient(one) or isinstance(one, ShuttingDown):
                        raise
                    log.error("timer dead-lettered", timer_id=item[0].timer_id,
                              error=f"{type(one).__name__}: {one}", exc_info=one)
                    bad.append(item[0])
                    letters.append(self._dead_letter(item[0], f"{type(one).__name__}: {one}"))
        if bad:
            await self._retry(lambda: self.publish(letters))
            await self._retry(lambda: self.timers.run([self.timers.ack(t.shard, [t])
                                                       for t in bad]))

    async def _run(self, items: list[tuple[ClaimedTimer, TimerPayload]]) -> None:
        outputs, write = await self._retry(lambda: self.batches.run(timers=items))
        await self._retry(lambda: self.publish(outputs))
        await self._retry(write)
        self.fired += len(items)

    async def _retry(self, step):
        return await retry_transient(step, stopping=self.stopping, cap=self.max_backoff)

    def _dead_letter(self, timer: ClaimedTimer, detail: str) -> Outgoing:
        letter = DeadLetter.from_bytes(
            timer.payload, reason="processing_error", detail=detail[:2000],
            source_topic=f"timers:{self.timers.namespace}:{timer.shard}", partition=None,
            offset=None, service=self.role, failed_at=datetime.now(UTC))
        return Outgoing.of(DLQ, timer.timer_id, letter)
