"""The delivery worker: claims due notifications from the outbox and delivers each in
its lane (`lanes`), so a slow or dead receiver only ever holds up its own deliveries.

- Which claimed entries the worker keeps is decided by `Admission`: per shop, per
  receiver, slow receivers together, buyer notices against supervisor alerts. The
  others go back to the outbox for a moment, so no backlog can fill the worker; each
  slot a delivery frees calls one of them back at once (`waiting_room`).
- How many requests one shop and one receiver have open at once is the webhook
  channel's to bound (`channels.WebhookChannel`).
- Leases of every held entry are renewed while it waits or is delivered; an entry is
  acked only after `send` returned (recorded, delivered or dead-lettered, marked sent).
- An entry whose failure cannot even be recorded (`on_error` raised) is released: back
  to the outbox, tried again after `retry_failed_after`.
- At shutdown, deliveries in flight get up to `drain` seconds to finish (a webhook that
  was answered is marked sent, not sent again later); what is left is handed back to
  the outbox at once. If the process dies instead, leases expire and any replica's
  reaper returns them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import orjson

from services.core.logging import get_logger
from services.core.retry import TRANSIENT_ERRORS, ShuttingDown
from services.core.timers import ClaimBatch, ClaimedTimer
from services.core.waiting import wait_event
from services.notifier.lanes import Admission, Lane, Limits, ReceiverHealth
from services.notifier.outbox import Outbox
from services.notifier.waiting_room import WaitingRoom

Send = Callable[[bytes], Awaitable[None]]
OnError = Callable[[bytes, Exception], Awaitable[None]]
LaneOf = Callable[[bytes], Lane]
log = get_logger("kefu.notifier.dispatcher")


def lane_by_shop(payload: bytes) -> Lane:
    """The lane when receivers are not known: the shop is its own receiver."""
    try:
        body = orjson.loads(payload)
        shop, audience = str(body.get("shop_id") or ""), body.get("audience")
    except (orjson.JSONDecodeError, AttributeError):
        shop, audience = "", None
    return Lane(shop, shop, alert=audience == "supervisor")


class Dispatcher:
    def __init__(
        self, outbox: Outbox, send: Send, *, on_error: OnError, stopping: asyncio.Event,
        wake: asyncio.Event, owner: str, limits: Limits | None = None,
        health: ReceiverHealth | None = None, lane_of: LaneOf = lane_by_shop,
        lease: float = 30.0, poll: float = 0.25, drain: float = 4.0,
        overflow_delay: float = 1.0, slow_delay: float = 5.0, retry_failed_after: float = 60.0,
        on_held=None, **limit_overrides: int,
    ) -> None:
        limits = limits or Limits()
        if limit_overrides:
            limits = Limits(**{**_fields(limits), **limit_overrides})
        self.outbox, self.send, self.on_error = outbox, send, on_error
        self.stopping, self.wake, self.owner = stopping, wake, owner
        self.limits, self.lane_of = limits, lane_of
        self.admission = Admission(limits, health or ReceiverHealth())
        self.lease, self.poll, self.drain = lease, poll, drain
        self.overflow_delay, self.slow_delay = overflow_delay, slow_delay
        self.retry_failed_after = retry_failed_after
        self.on_held = on_held or (lambda n: None)
        self.held: dict[str, ClaimedTimer] = {}
        self.waiting = WaitingRoom(per_lane=limits.max_held)
        self.called_back: list[str] = []
        self.lanes: dict[str, Lane] = {}
        self.tasks: set[asyncio.Task] = set()

    async def run(self) -> None:
        helpers = [asyncio.create_task(self._keep_leases()),
                   asyncio.create_task(self._wake_on_stop())]
        try:
            await self._loop()
        finally:
            try:
                await self._abandon()
            finally:
                for helper in helpers:
                    helper.cancel()

    async def _loop(self) -> None:
        next_reap, backoff = 0.0, 0.05
        while not self.stopping.is_set():
            room = self.limits.max_held - len(self.held)
            try:
                if time.monotonic() >= next_reap:
                    await self.outbox.release_expired()
                    next_reap = time.monotonic() + min(1.0, self.lease / 3)
                if self.called_back:  # dropped if Redis fails: they come after their delay
                    called_back, self.called_back = self.called_back, []
                    await self.outbox.hasten(called_back)
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
        overflow: dict[float, list[ClaimedTimer]] = {}
        for timer in claimed:
            if timer.timer_id in self.held:  # re-queued while in flight: keep the newest claim
                self.held[timer.timer_id] = timer
                continue
            lane = self.lane_of(timer.payload)
            self.waiting.forget(lane, timer.timer_id)
            if not self.admission.admits(lane):
                if self.admission.is_slow(lane):
                    overflow.setdefault(self.slow_delay, []).append(timer)
                else:
                    self.waiting.wait(lane, timer.timer_id)
                    overflow.setdefault(self.overflow_delay, []).append(timer)
                continue
            self.held[timer.timer_id], self.lanes[timer.timer_id] = timer, lane
            self.admission.hold(lane)
            task = asyncio.create_task(self._deliver(lane, timer.timer_id, timer.payload))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        self.on_held(len(self.held))
        for delay, timers in overflow.items():
            await self.outbox.put_back(timers, delay=delay)

    async def _deliver(self, lane: Lane, timer_id: str, payload: bytes) -> None:
        try:
            await self.send(payload)
        except ShuttingDown:
            return  # stays held: handed back at shutdown
        except Exception as exc:
            log.exception("notification could not be sent", shop_id=lane.shop,
                          notification_id=timer_id)
            try:
                await self.on_error(payload, exc)
            except ShuttingDown:
                return
            except Exception:
                log.exception("the failure could not be recorded; the notification goes back "
                              "to the outbox", shop_id=lane.shop, notification_id=timer_id,
                              retry_in=self.retry_failed_after)
                await self._release(timer_id, self.retry_failed_after)
                return
        await self._ack(timer_id)

    def _unhold(self, timer_id: str) -> ClaimedTimer:
        timer = self.held.pop(timer_id)
        lane = self.lanes.pop(timer_id)
        self.admission.release(lane)
        self.on_held(len(self.held))
        called_back = self.waiting.call_back(lane, self.admission.admits)
        if called_back is not None:
            self.called_back.append(called_back)
        if called_back is not None or len(self.held) == self.limits.max_held - 1:
            self.wake.set()  # a slot for what waits, or the worker was full: claim now
        return timer

    async def _ack(self, timer_id: str) -> None:
        timer = self._unhold(timer_id)
        try:
            await self.outbox.ack([timer])
        except TRANSIENT_ERRORS as exc:  # it comes back after its lease; marked sent
            log.warning("outbox ack failed", notification_id=timer_id, error=repr(exc))

    async def _release(self, timer_id: str, delay: float) -> None:
        timer = self._unhold(timer_id)
        try:
            await self.outbox.put_back([timer], delay=delay)
        except Exception as exc:  # no longer renewed: its lease expires, the reaper returns it
            log.warning("hand-back failed; the lease will expire", notification_id=timer_id,
                        error=repr(exc))

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
        """Let deliveries in flight finish within `drain` (retries do not start: the
        sender stops at `stopping`), then cancel the rest and hand back what is held."""
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=self.drain)
        for task in list(self.tasks):
            task.cancel()
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=2)
        left = list(self.held.values())
        self.held.clear()
        self.lanes.clear()
        if left:
            try:
                await self.outbox.put_back(left)
                log.info("unfinished notifications handed back to the outbox", count=len(left))
            except Exception as exc:  # their leases expire; the reaper returns them
                log.warning("hand-back failed; leases will expire", error=repr(exc))


def _fields(limits: Limits) -> dict:
    return {name: getattr(limits, name) for name in Limits.__dataclass_fields__}
