"""The delivery worker: claims due notifications from the outbox and delivers each in
its shop's lane, so a slow or dead receiver only ever holds up its own shop.

- Each shop delivers at most `per_shop` notifications at once, and holds at most
  `queue_per_shop` claimed ones; claimed entries beyond that go back to the outbox for
  a second, so one shop's backlog never fills the worker.
- Leases of every held entry are renewed while it waits or is delivered; an entry is
  acked only after `send` returned (recorded, delivered or dead-lettered, marked sent).
- At shutdown, unfinished entries are handed back to the outbox at once; if the process
  dies instead, their leases expire and any replica's reaper returns them."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable

import orjson

from services.core.logging import get_logger
from services.core.retry import TRANSIENT_ERRORS, ShuttingDown
from services.core.timers import ClaimBatch, ClaimedTimer
from services.core.waiting import wait_event
from services.notifier.outbox import Outbox

Send = Callable[[bytes], Awaitable[None]]
OnError = Callable[[bytes, Exception], Awaitable[None]]
log = get_logger("kefu.notifier.dispatcher")


def shop_of(payload: bytes) -> str:
    try:
        return str(orjson.loads(payload).get("shop_id") or "")
    except (orjson.JSONDecodeError, AttributeError):
        return ""


class Dispatcher:
    def __init__(
        self, outbox: Outbox, send: Send, *, on_error: OnError, stopping: asyncio.Event,
        wake: asyncio.Event, owner: str, per_shop: int = 4, queue_per_shop: int = 32,
        max_held: int = 256, lease: float = 30.0, poll: float = 0.25, on_held=None,
    ) -> None:
        self.outbox, self.send, self.on_error = outbox, send, on_error
        self.stopping, self.wake, self.owner = stopping, wake, owner
        self.per_shop, self.queue_per_shop, self.max_held = per_shop, queue_per_shop, max_held
        self.lease, self.poll = lease, poll
        self.on_held = on_held or (lambda n: None)
        self.held: dict[str, ClaimedTimer] = {}
        self.load: Counter[str] = Counter()
        self.lanes: dict[str, asyncio.Semaphore] = {}
        self.tasks: set[asyncio.Task] = set()

    async def run(self) -> None:
        helpers = [asyncio.create_task(self._keep_leases()),
                   asyncio.create_task(self._wake_on_stop())]
        try:
            await self._loop()
        finally:
            for helper in helpers:
                helper.cancel()
            await self._abandon()

    async def _loop(self) -> None:
        next_reap, backoff = 0.0, 0.05
        while not self.stopping.is_set():
            room = self.max_held - len(self.held)
            try:
                if time.monotonic() >= next_reap:
                    await self.outbox.release_expired()
                    next_reap = time.monotonic() + min(1.0, self.lease / 3)
                batch = await self.outbox.claim(self.owner, limit=room, lease=self.lease) \
                    if room > 0 else None
                if batch is not None:
                    await self._dispatch(batch.timers)
            except TRANSIENT_ERRORS as exc:
                log.warning("outbox unavailable; retrying", error=repr(exc))
                await self._wait(backoff)
                backoff = min(5.0, backoff * 2)
                continue
            backoff = 0.05
            if batch is None or not batch.more:
                await self._wait(self._idle(batch))

    def _idle(self, batch: ClaimBatch | None) -> float:
        if batch is None or batch.next_due_at is None:
            return self.poll
        return max(0.005, min(self.poll, batch.next_due_at - self.outbox.now()))

    async def _dispatch(self, claimed: list[ClaimedTimer]) -> None:
        overflow = []
        for timer in claimed:
            if timer.timer_id in self.held:  # re-queued while in flight: keep the newest claim
                self.held[timer.timer_id] = timer
                continue
            shop = shop_of(timer.payload)
            if self.load[shop] >= self.queue_per_shop:
                overflow.append(timer)
                continue
            self.held[timer.timer_id] = timer
            self.load[shop] += 1
            task = asyncio.create_task(self._deliver(shop, timer.timer_id, timer.payload))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        self.on_held(len(self.held))
        if overflow:
            await self.outbox.put_back(overflow, delay=1.0)

    async def _deliver(self, shop: str, timer_id: str, payload: bytes) -> None:
        lane = self.lanes.setdefault(shop, asyncio.Semaphore(self.per_shop))
        try:
            async with lane:
                await self.send(payload)
        except ShuttingDown:
            return  # stays held: handed back at shutdown
        except Exception as exc:
            log.exception("notification could not be sent", shop_id=shop, notification_id=timer_id)
            try:
                await self.on_error(payload, exc)
            except ShuttingDown:
                return
        finally:
            self.load[shop] -= 1
            if self.load[shop] <= 0:
                del self.load[shop]
                self.lanes.pop(shop, None)
        await self._ack(timer_id)

    async def _ack(self, timer_id: str) -> None:
        timer = self.held.pop(timer_id)
        self.on_held(len(self.held))
        if len(self.held) == self.max_held - 1:
            self.wake.set()  # the worker was full: claim more now
        try:
            await self.outbox.ack([timer])
        except TRANSIENT_ERRORS as exc:  # it comes back after its lease; marked sent
            log.warning("outbox ack failed", notification_id=timer_id, error=repr(exc))

    async def _keep_leases(self) -> None:
        while True:
            await asyncio.sleep(self.lease / 3)
            if not self.held:
                continue
            try:
                await self.outbox.extend(list(self.held.values()), lease=self.lease)
            except TRANSIENT_ERRORS as exc:
                log.warning("outbox lease renewal failed", error=repr(exc))

    async def _wake_on_stop(self) -> None:
        await self.stopping.wait()
        self.wake.set()

    async def _wait(self, seconds: float) -> None:
        await wait_event(self.wake, seconds)
        self.wake.clear()

    async def _abandon(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=2)
        left = list(self.held.values())
        self.held.clear()
        if left:
            try:
                await self.outbox.put_back(left)
                log.info("unfinished notifications handed back to the outbox", count=len(left))
            except Exception as exc:  # their leases expire; the reaper returns them
                log.warning("hand-back failed; leases will expire", error=repr(exc))
