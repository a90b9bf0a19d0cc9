"""`TimerStore`: SLA timers in Redis with atomic claim, lease, token-checked ack and a
reaper. See `keys.py` for the layout and `scripts.py` for the Lua."""

from __future__ import annotations

import random
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

from redis.asyncio import Redis

from services.core.redis import reply_text
from services.core.timers.codec import pack_timer, unpack_claimed
from services.core.timers.heads import ShardHeads
from services.core.timers.keys import TimerKeys, to_epoch_ms
from services.core.timers.lua import ShardScripts
from services.core.timers.model import ClaimBatch, ClaimedTimer

# Items per Lua call in batch operations: bounds how long one script blocks Redis.
CHUNK = 1000
RELEASE_LIMIT = 1000


def _bytes(value: bytes | str) -> bytes:
    return value.encode() if isinstance(value, str) else value


def _now_ms(now: datetime | float | None) -> int:
    return to_epoch_ms(time.time() if now is None else now)


def _chunks(items: list, size: int) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class TimerStore:
    """Timers of one namespace, sharded over `shards` hash-tagged key groups.

    Needs a client with `decode_responses=False` (payloads are bytes). Every replica
    of a namespace must use the same `shards`."""

    def __init__(self, redis: Redis, namespace: str, shards: int = 16) -> None:
        self.redis = redis
        self.keys = TimerKeys(namespace, shards)
        self.namespace = namespace
        self.shards = shards
        self.lua = ShardScripts(redis)
        self.heads = ShardHeads()
        self._rotation = random.randrange(shards)

    def _group(self, ids: Iterable[str]) -> dict[int, list[str]]:
        groups: dict[int, list[str]] = defaultdict(list)
        for timer_id in ids:
            groups[self.keys.shard_for(timer_id)].append(timer_id)
        return groups

    # -- scheduling ----------------------------------------------------------------

    async def schedule(self, timer_id: str, due_at: datetime | float, payload: bytes = b"") -> None:
        """Upsert: a timer scheduled again moves to the new due time and payload, also
        while it is in flight (the new schedule survives the in-flight ack)."""
        await self.schedule_many([(timer_id, due_at, payload)])

    async def schedule_many(self, timers: Iterable[tuple[str, datetime | float, bytes]]) -> int:
        """Upsert a batch in one pipelined round trip (one Lua call per shard and
        CHUNK timers). For the same id twice in a batch the last one wins. Returns how
        many distinct timers were scheduled."""
        latest = {timer_id: (due_at, payload) for timer_id, due_at, payload in timers}
        groups: dict[int, list[bytes]] = defaultdict(list)
        heads: dict[int, int] = {}
        for timer_id, (due_at, payload) in latest.items():
            shard = self.keys.shard_for(timer_id)
            due_ms = to_epoch_ms(due_at)
            heads[shard] = min(heads.get(shard, due_ms), due_ms)
            groups[shard].append(pack_timer(timer_id, due_ms, payload))
        calls = [
            (self.lua.schedule, self.keys.shard(shard), [b"".join(chunk)])
            for shard, packed in groups.items()
            for chunk in _chunks(packed, CHUNK)
        ]
        for shard, due_ms in heads.items():
            self.heads.scheduled(shard, due_ms)
        return int(sum(await self.lua.run(calls))) if calls else 0

    async def hasten(self, timer_ids: Iterable[str], now: datetime | float | None = None) -> None:
        """Make waiting timers due at `now` in one pipelined round trip: only a timer
        still waiting moves (ZADD XX), and only earlier (LT); one in flight or gone
        stays as it is."""
        now_ms = _now_ms(now)
        groups = self._group(timer_ids)
        if not groups:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for shard, ids in groups.items():
                pipe.zadd(self.keys.shard(shard).due, dict.fromkeys(ids, now_ms), xx=True,
                          lt=True)
                self.heads.scheduled(shard, now_ms)
            await pipe.execute()

    async def cancel(self, timer_id: str) -> bool:
        """Remove a timer, due or in flight; True if it existed."""
        return await self.cancel_many([timer_id]) == 1

    async def cancel_many(self, timer_ids: Iterable[str]) -> int:
        """Cancel a batch in one pipelined round trip; returns how many existed."""
        calls = [
            (self.lua.cancel, self.keys.shard(shard), chunk)
            for shard, ids in self._group(timer_ids).items()
            for chunk in _chunks(ids, CHUNK)
        ]
        return int(sum(await self.lua.run(calls))) if calls else 0

    # -- firing ----------------------------------------------------------------------

    async def claim_due(
        self,
        owner: str,
        *,
        now: datetime | float | None = None,
        limit: int = 500,
        lease: float = 30.0,
    ) -> list[ClaimedTimer]:
        """Atomically move up to `limit` due timers into flight with a lease of `lease`
        seconds and a fresh owner token; returns them (earliest due first per shard)."""
        return (await self.claim(owner, now=now, limit=limit, lease=lease)).timers

    async def claim(
        self,
        owner: str,
        *,
        now: datetime | float | None = None,
        limit: int = 500,
        lease: float = 30.0,
        sweep_every: float | None = None,
    ) -> ClaimBatch:
        """`claim_due` plus what the runner needs to decide how long to sleep.

        Each round is one pipelined round trip over the shards that may hold due timers,
        the remaining budget spread evenly; the first shard rotates per call so replicas
        do not all start on the same one. Usually one round suffices.

        With `sweep_every` (the runner passes its poll interval), shards whose earliest
        timer, as last seen by this store, is not due yet are skipped, except for a full
        sweep at least every `sweep_every` seconds that picks up timers other processes
        scheduled earlier. Without it every shard is visited."""
        now_ms = _now_ms(now)
        until_ms = now_ms + round(lease * 1000)
        token = f"{owner}:{uuid.uuid4().hex}"
        start = self._rotation
        self._rotation = (self._rotation + 1) % self.shards
        pending = [(start + i) % self.shards for i in range(self.shards)]
        sweep_at = time.monotonic()
        sweeping = self.heads.sweep_due(sweep_every)
        if not sweeping:
            pending = [s for s in pending if self.heads.may_be_due(s, now_ms)]
        batch = ClaimBatch()
        while pending and len(batch.timers) < limit:
            budget = limit - len(batch.timers)
            visit, rest = pending[:budget], pending[budget:]
            base, extra = divmod(budget, len(visit))
            allocs = [base + (1 if i < extra else 0) for i in range(len(visit))]
            calls = [
                (self.lua.claim, self.keys.shard(shard), [now_ms, alloc, until_ms, token])
                for shard, alloc in zip(visit, allocs, strict=True)
            ]
            full = []
            for shard, alloc, (head, packed) in zip(
                visit, allocs, await self.lua.run(calls), strict=True
            ):
                head = reply_text(head)
                self.heads.seen(shard, int(float(head)) if head else None)
                claimed = unpack_claimed(_bytes(packed), token)
                batch.timers += claimed
                if len(claimed) == alloc:
                    full.append(shard)
            pending = full + rest
        if sweeping:
            self.heads.swept(sweep_at)
        batch.more = bool(pending)
        earliest = self.heads.earliest()
        batch.next_due_at = None if earliest is None else earliest / 1000
        return batch

    def _pairs(self, claimed: Sequence[ClaimedTimer]) -> dict[int, list[str]]:
        groups: dict[int, list[str]] = defaultdict(list)
        for t in claimed:
            groups[self.keys.shard_for(t.timer_id)] += (t.timer_id, t.token)
        return groups

    async def ack(self, claimed: Sequence[ClaimedTimer]) -> int:
        """Done firing: drop each timer from flight if its claim token still matches
        (the payload too, unless it was re-scheduled meanwhile). Returns how many were
        acked; fewer means leases were lost (reaped) and those timers fire again."""
        calls = [
            (self.lua.ack, self.keys.shard(shard), chunk)
            for shard, pairs in self._pairs(claimed).items()
            for chunk in _chunks(pairs, 2 * CHUNK)
        ]
        return int(sum(await self.lua.run(calls))) if calls else 0

    async def extend(
        self,
        claimed: Sequence[ClaimedTimer],
        *,
        lease: float = 30.0,
        now: datetime | float | None = None,
    ) -> int:
        """Renew the leases of timers still owned by these claims; returns how many."""
        until = _now_ms(now) + round(lease * 1000)
        calls = [
            (self.lua.extend, self.keys.shard(shard), [until, *chunk])
            for shard, pairs in self._pairs(claimed).items()
            for chunk in _chunks(pairs, 2 * CHUNK)
        ]
        return int(sum(await self.lua.run(calls))) if calls else 0

    async def release_expired(self, now: datetime | float | None = None) -> int:
        """The reaper: in-flight timers whose lease expired go back to due at their
        original due time (so they fire at once). Safe to run on every replica."""
        now_ms = _now_ms(now)
        total = 0
        shards = list(range(self.shards))
        while shards:
            calls = [(self.lua.release, self.keys.shard(shard), [now_ms, RELEASE_LIMIT])
                     for shard in shards]
            replies = await self.lua.run(calls)
            total += sum(replies)
            for shard, n in zip(shards, replies, strict=True):
                if n:
                    self.heads.scheduled(shard, now_ms)
            shards = [s for s, n in zip(shards, replies, strict=True) if n >= RELEASE_LIMIT]
        return int(total)

    # -- introspection -----------------------------------------------------------------

    async def count(self) -> dict[str, int]:
        """{'due': n, 'inflight': n} over all shards (one round trip)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for k in self.keys.all():
                pipe.zcard(k.due)
                pipe.zcard(k.inflight)
            replies = await pipe.execute()
        return {"due": sum(replies[0::2]), "inflight": sum(replies[1::2])}

    async def memory_usage(self) -> int:
        """Server-wide `used_memory` in bytes (for benchmarks)."""
        return int((await self.redis.info("memory"))["used_memory"])
