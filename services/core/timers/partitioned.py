"""Timers kept per input partition, for services that fire on event time.

Each input partition (`kefu.orders:3`) has its own timer shard, and only the process
that owns the partition schedules, claims and acks its timers: firing is serialised
with the handling of that partition's records, and a timer is claimed only once the
partition's watermark has passed it (`services.core.watermark`). A new owner first
returns the previous owner's in-flight timers (its leases no longer matter), and every
owner returns its own expired leases.

Fencing: a process that is given a partition raises the shard's generation (`take`)
and calls with it; a previous owner that still runs (it was paused past its session)
then changes nothing: its calls fail with `Fenced`. The same generation fences the
partition's other state (`services/roles/scripts.py`, WRITE)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from functools import lru_cache

from redis.asyncio import Redis

from services.core.timers.codec import pack_timer, unpack_claimed
from services.core.timers.heads import ShardHeads
from services.core.timers.keys import ShardKeys, TimerKeys
from services.core.timers.lua import Call, ShardScripts
from services.core.timers.model import ClaimedTimer
from services.core.timers.scripts import TAKE

RELEASE_ALL_MS = 2**53  # a lease expiry later than any: "release every lease"
RELEASE_LIMIT = 1000
FENCED_OUT = 0
"""The generation of a shard whose take was refused: below any owner's, so every call
with it fails with `Fenced`."""


def partition_shard(tp) -> str:
    """The timer shard of an input partition (a TopicPartition or a record of it):
    `kefu.orders:3`."""
    return f"{tp.topic}:{tp.partition}"


class PartitionTimers:
    def __init__(self, redis: Redis, namespace: str) -> None:
        self.namespace = namespace
        self._keys = TimerKeys(namespace, shards=1)
        self.lua = ShardScripts(redis)
        self._take_script = redis.register_script(TAKE)
        self.keys = lru_cache(maxsize=4096)(self._keys.named)
        self.generations: dict[str, int] = {}
        """This process's generation of each shard it was given (kept after it loses
        one: a late call with it must still be refused)."""
        self.heads = ShardHeads()
        """Each shard's earliest due time as this process last claimed or scheduled it:
        only a shard's owner schedules into it (fencing), so it is exact or earlier."""

    async def take(self, shards: Iterable[str], group_generation: int | None = None,
                   proven: Callable[[], Awaitable[bool]] | None = None) -> None:
        """This process was given these shards' partitions in the consumer group's
        `group_generation`: raise their generations. A shard the group gave someone in a
        later generation meanwhile stays fenced for this process (it was expelled while
        its take waited for Redis), unless `proven()` says the group's current
        generation is this process's own (the group was started afresh)."""
        shards = list(shards)
        if not shards:
            return
        self.heads.forget(shards)
        group = "" if group_generation is None else str(group_generation)
        taken = await self._take(shards, group, {})
        refused = {shard: str(-gen) for shard, gen in taken.items() if gen < 0}
        if refused and proven is not None and await proven():
            taken.update(await self._take(list(refused), group, refused))
        self.generations.update(
            (shard, max(gen, FENCED_OUT)) for shard, gen in taken.items())

    async def _take(self, shards: list[str], group: str,
                    stale: Mapping[str, str]) -> dict[str, int]:
        async with self.lua.redis.pipeline(transaction=False) as pipe:
            for shard in shards:
                keys = self.keys(shard)
                await self._take_script(keys=[keys.fence, keys.group],
                                        args=[group, stale.get(shard, "")], client=pipe)
            return dict(zip(shards, map(int, await pipe.execute()), strict=True))

    def generation(self, shard: str) -> int | str:
        """The generation to call with ('' for a shard this process was never given)."""
        return self.generations.get(shard, "")

    # --- writes, run by the caller together (`run`) ---------------------------------
    def schedule(self, shard: str, timers: Iterable[tuple[str, int, bytes]]) -> Call:
        """Upsert (timer id, due epoch ms, payload) timers of one shard."""
        timers = list(timers)
        for _tid, due_ms, _payload in timers:
            self.heads.scheduled(shard, due_ms)
        packed = b"".join(pack_timer(tid, due_ms, payload) for tid, due_ms, payload in timers)
        return self.lua.schedule, self.keys(shard), [packed], self.generation(shard)

    def cancel(self, shard: str, timer_ids: list[str]) -> Call:
        return self.lua.cancel, self.keys(shard), timer_ids, self.generation(shard)

    def ack(self, shard: str, claimed: Iterable[ClaimedTimer]) -> Call:
        pairs = [part for t in claimed for part in (t.timer_id, t.token)]
        return self.lua.ack, self.keys(shard), pairs, self.generation(shard)

    async def run(self, calls: list[Call]) -> list:
        """The calls, in order, in one pipelined round trip."""
        return await self.lua.run(calls) if calls else []

    # --- firing ---------------------------------------------------------------------
    async def claim(self, bounds: Mapping[str, int], *, owner: str, now_ms: int, limit: int,
                    lease_ms: int) -> tuple[list[ClaimedTimer], bool]:
        """Claim, per shard, up to `limit` timers due at or before its bound (epoch ms),
        with a lease; returns them and whether some shard may hold more."""
        if not bounds:
            return [], False
        token = f"{owner}:{uuid.uuid4().hex}"
        shards = list(bounds)
        calls = [(self.lua.claim, self.keys(s), [bounds[s], limit, now_ms + lease_ms, token],
                  self.generation(s)) for s in shards]
        claimed, more = [], False
        for shard, (head, packed) in zip(shards, await self.lua.run(calls), strict=True):
            self.heads.seen(shard, int(float(head)) if head else None)
            found = unpack_claimed(packed if isinstance(packed, bytes) else packed.encode(),
                                   token, shard)
            claimed += found
            more = more or len(found) >= limit
        return claimed, more

    async def release(self, shards: Iterable[str], *, expired_before_ms: int) -> int:
        """Return in-flight timers whose lease ends before `expired_before_ms` to `due`
        at their original due time (`RELEASE_ALL_MS`: every lease, of any owner)."""
        total = 0
        pending = list(shards)
        self.heads.forget(pending)
        while pending:
            calls = [(self.lua.release, self.keys(s), [expired_before_ms, RELEASE_LIMIT],
                      self.generation(s)) for s in pending]
            replies = await self.lua.run(calls)
            total += sum(replies)
            pending = [s for s, n in zip(pending, replies, strict=True) if n >= RELEASE_LIMIT]
        return int(total)

    def may_be_due(self, bounds: Mapping[str, int]) -> bool:
        """Whether a claim with these bounds may find a timer (False: it cannot)."""
        return any(self.heads.may_be_due(shard, bound) for shard, bound in bounds.items())

    async def count(self, shards: Iterable[str]) -> dict[str, int]:
        """{'due': n, 'inflight': n} over `shards` (for tests and benchmarks)."""
        keys: list[ShardKeys] = [self.keys(s) for s in shards]
        async with self.lua.redis.pipeline(transaction=False) as pipe:
            for k in keys:
                pipe.zcard(k.due)
                pipe.zcard(k.inflight)
            replies = await pipe.execute()
        return {"due": sum(replies[0::2]), "inflight": sum(replies[1::2])}
