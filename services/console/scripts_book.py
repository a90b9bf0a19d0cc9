"""The console's copy of each shop's current reply scripts, for the editor (the router
keeps its own from the published events: `services/router/reply_scripts.py`)."""

from __future__ import annotations

import orjson
from redis.asyncio import Redis

from services.console import keys


class ScriptBook:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def all(self, shop: str) -> list[dict]:
        found = [orjson.loads(v) for v in (await self.redis.hgetall(keys.scripts(shop))).values()]
        return sorted(found, key=lambda s: (s["intent"], s["locale"], s["at"]))

    async def get(self, shop: str, script_id: str) -> dict | None:
        raw = await self.redis.hget(keys.scripts(shop), script_id)
        return orjson.loads(raw) if raw else None

    async def put(self, shop: str, script: dict) -> None:
        await self.redis.hset(keys.scripts(shop), script["script_id"], orjson.dumps(script))

    async def drop(self, shop: str, script_id: str) -> None:
        await self.redis.hdel(keys.scripts(shop), script_id)
