"""The outbox: notifications waiting for delivery, durable in Redis.

It is the shared timer engine (`TimerStore`) in namespace ``notifier``: the timer id is
the notification id, the payload the Notification JSON, the due time ``now`` or the end
of the shop's quiet hours. A delivery worker claims due entries with a lease (renewed
while it delivers), acks each one once it was recorded and delivered or dead-lettered;
a worker that dies loses nothing: its leases expire and the reaper returns them.

Every time argument comes from the injected clock, so tests can move time."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta

from redis.asyncio import Redis

from services.core.timers import ClaimBatch, ClaimedTimer, TimerStore
from services.notifier.keys import OUTBOX_NAMESPACE

Clock = Callable[[], datetime]


class Outbox:
    def __init__(self, redis: Redis, clock: Clock, *, shards: int = 16) -> None:
        self.store = TimerStore(redis, OUTBOX_NAMESPACE, shards=shards)
        self.clock = clock

    async def put_many(self, entries: Iterable[tuple[str, datetime, bytes]]) -> int:
        """Queue ``(notification_id, due_at, notification_json)`` entries (upsert)."""
        return await self.store.schedule_many(list(entries))

    async def claim(self, owner: str, *, limit: int, lease: float) -> ClaimBatch:
        return await self.store.claim(owner, now=self.clock(), limit=limit, lease=lease)

    async def extend(self, held: Sequence[ClaimedTimer], *, lease: float) -> int:
        return await self.store.extend(held, lease=lease, now=self.clock())

    async def ack(self, done: Sequence[ClaimedTimer]) -> int:
        return await self.store.ack(done)

    async def release_expired(self) -> int:
        return await self.store.release_expired(now=self.clock())

    async def put_back(self, entries: Sequence[ClaimedTimer], *, delay: float = 0.0) -> None:
        """Hand claimed entries back (due after `delay`), e.g. at shutdown, so another
        worker need not wait for their leases to expire."""
        due = self.clock() + timedelta(seconds=delay)
        await self.store.schedule_many([(t.timer_id, due, t.payload) for t in entries])
        await self.store.ack(entries)

    async def hasten(self, notification_ids: Sequence[str]) -> None:
        """Make entries handed back earlier due now, if they still wait."""
        await self.store.hasten(notification_ids, now=self.clock())

    def now(self) -> float:
        return self.clock().timestamp()
