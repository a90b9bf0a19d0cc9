"""The memos in Redis: one JSON value per conversation, order or case, under keys that
analytics owns (`kefu:{<shop>}:analytics:<store generation>:<kind>:<id>`), each with a
TTL. A batch's memos load in one pipeline of one MGET per shop and save in one pipeline
of one Lua call per shop (a command per memo cost the loop 4 us of CPU per record). The
store generation (`migrate.store_generation`) ties the memos to the rows they describe."""

from __future__ import annotations

from collections.abc import Iterable

import orjson
from redis.asyncio import Redis

from services.analytics.ingest.batch import MemoKey
from services.core.redis import SET_MANY, by_hash_tag, shop_key
from services.core.redis_batch import RedisBatch


def redis_key(key: MemoKey, generation: str) -> str:
    shop, kind, subject = key
    return shop_key(shop, "analytics", generation, kind, subject)


class MemoStore:
    def __init__(self, redis: Redis, ttl_seconds: int, generation: str = "") -> None:
        self.redis, self.ttl, self.generation = redis, ttl_seconds, generation
        self._set_many = redis.register_script(SET_MANY)

    async def load(self, keys: Iterable[MemoKey]) -> dict[MemoKey, dict]:
        named = {redis_key(key, self.generation): key for key in keys}
        if not named:
            return {}
        groups = list(by_hash_tag(named))
        async with self.redis.pipeline(transaction=False) as pipe:
            for group in groups:
                pipe.mget(group)
            answers = await pipe.execute()
        return {named[name]: orjson.loads(value)
                for group, values in zip(groups, answers, strict=True)
                for name, value in zip(group, values, strict=True) if value}

    async def save(self, memos: dict[MemoKey, bytes]) -> None:
        """Store each memo's JSON (bytes) under its key."""
        if not memos:
            return
        values = {redis_key(key, self.generation): value for key, value in memos.items()}
        batch = RedisBatch(self.redis)  # EVALSHA only: no SCRIPT EXISTS round trip
        for group in by_hash_tag(values):
            ttls = [self.ttl] * len(group)
            batch.script(self._set_many, group, [values[k] for k in group] + ttls)
        await batch.execute()
