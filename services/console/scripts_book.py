"""Each shop's reply scripts for the editor: the console's copy of what it published
(publications, edits, retirements) and, read only, the scripts the router holds
(`services/router/reply_scripts.py`) and its watermark; `listed_scripts.py` merges them."""

from __future__ import annotations

import orjson
from redis.asyncio import Redis

from services.console import keys
from services.console.listed_scripts import listed
from services.core import stage_watermarks
from services.core.redis_batch import RedisBatch
from services.router.reply_scripts import scripts_key


class ScriptBook:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def all(self, shop: str) -> list[dict]:
        """What the editor lists: every script the router will suggest, and the console's
        own publications until the router has read them."""
        batch = RedisBatch(self.redis)
        batch.command("HGETALL", keys.scripts(shop))
        batch.command("HGETALL", scripts_key(shop))
        batch.command("HGETALL", stage_watermarks.KEY)
        copies, held, marks = await batch.execute()
        return listed(_decoded(copies), _decoded(held), stage_watermarks.lowest(marks))

    async def get(self, shop: str, script_id: str) -> dict | None:
        return next((s for s in await self.all(shop) if s["script_id"] == script_id), None)

    async def put(self, shop: str, script: dict) -> None:
        """Keep what the console published (a retirement too, until the router read it)."""
        await self.redis.hset(keys.scripts(shop), script["script_id"], orjson.dumps(script))


def _decoded(fields: dict) -> dict:
    return {k.decode() if isinstance(k, bytes) else k: orjson.loads(v)
            for k, v in fields.items()}
