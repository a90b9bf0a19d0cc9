"""The memos in Redis: one JSON value per conversation, order or case, under keys that
analytics owns (`kefu:{<shop>}:analytics:<store generation>:<kind>:<id>`), each with a
TTL. One pipeline loads a batch's memos, one pipeline saves them. The store generation
(`migrate.store_generation`) ties the memos to the rows they describe."""

from __future__ import annotations

from collections.abc import Iterable

import orjson
from redis.asyncio import Redis

from services.analytics.ingest.batch import MemoKey
from services.core.redis import shop_key


def redis_key(key: MemoKey, generation: str) -> str:
    shop, kind, subject = key
    return shop_key(shop, "analytics", generation, kind, subject)


class MemoStore:
    def __init__(self, redis: Redis, ttl_seconds: int, generation: str = "") -> None:
        self.redis, self.ttl, self.generation = redis, ttl_seconds, generation

    async def load(self, keys: Iterable[MemoKey]) -> dict[MemoKey, dict]:
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return {}
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in wanted:
                pipe.get(redis_key(key, self.generation))
            values = await pipe.execute()
        return {key: orjson.loads(v) for key, v in zip(wanted, values, strict=True) if v}

    async def save(self, memos: dict[MemoKey, bytes]) -> None:
        """Store each memo's JSON (bytes) under its key."""
        if not memos:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for key, value in memos.items():
                pipe.set(redis_key(key, self.generation), value, ex=self.ttl)
            await pipe.execute()
