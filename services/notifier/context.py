"""The notifier's memory in Redis, seen through one batch (`NotifierState`): loaded in
one pipelined round trip, read and updated in memory while the batch is decided in
order, written back in one pipeline after the batch's notifications were queued in the
outbox."""

from __future__ import annotations

from redis.asyncio import Redis

from services.core.redis import reply_text
from services.notifier import keys
from services.notifier.state import NotifierState


class NotifierContext(NotifierState):
    def __init__(self, redis: Redis, *, ttl: int, dedup_ttl: int) -> None:
        super().__init__(ttl=ttl, dedup_ttl=dedup_ttl)
        self.redis = redis

    async def load(self, *, orders: set[str], convs: set[str], logistics: set[str],
                   ids: set[str]) -> None:
        """Fetch the given keys (built with `services.notifier.keys`)."""
        orders, convs, logistics, ids = map(list, (orders, convs, logistics, ids))
        if not (orders or convs or logistics or ids):
            return
        pipe = self.redis.pipeline(transaction=False)
        for key in orders:
            pipe.hgetall(key)
        for key in convs:
            pipe.get(key)
        for key in logistics:
            pipe.zrange(key, 0, -1, withscores=True)
        for key in ids:
            pipe.exists(key)
        results = iter(await pipe.execute())
        self.loaded(
            orders={key: {reply_text(k): reply_text(v) for k, v in (next(results) or {}).items()}
                    for key in orders},
            convs={key: reply_text(next(results)) for key in convs},
            logistics={key: {reply_text(m): int(s) for m, s in next(results)} for key in logistics},
            known={key: bool(next(results)) for key in ids},
        )

    async def flush(self) -> None:
        """Write the dedup marks (never over ``sent``), changed memory and cap counts."""
        if not (self._queued or self._dirty or self._counted):
            return
        pipe = self.redis.pipeline(transaction=False)
        for key in self._queued:
            pipe.set(key, keys.QUEUED, ex=self.dedup_ttl, nx=True)
        for key in self._dirty:
            if key in self._orders:
                pipe.hset(key, mapping=self._orders[key])
                pipe.expire(key, self.ttl)
            else:
                pipe.set(key, self._convs[key] or "", ex=self.ttl)
        for key, (_, last_ms, window_ms) in self._counted.items():
            members = {m: at for m, at in self._logistics[key].items() if at > last_ms - window_ms}
            pipe.zadd(key, members)
            pipe.zremrangebyscore(key, "-inf", last_ms - window_ms)
            pipe.pexpire(key, window_ms)
        await pipe.execute()
        self._queued.clear()
        self._dirty.clear()
        self._counted.clear()
