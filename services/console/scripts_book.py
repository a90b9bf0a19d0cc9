"""Each shop's reply scripts for the editor: the console's copy of what it published
(publications, edits, retirements) and, read only, the scripts the router holds
(`services/router/reply_scripts.py`) and its watermark; `listed_scripts.py` merges them."""

from __future__ import annotations

import orjson
from redis.asyncio import Redis

from services.console import keys
from services.console.listed_scripts import listed, settled
from services.core import stage_watermarks
from services.core.redis_batch import RedisBatch
from services.router.reply_scripts import scripts_key

# KEYS[1]: the console's copies; ARGV: (script id, the copy as read) pairs.
DROP_UNCHANGED = """
for i = 1, #ARGV, 2 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then
    redis.call('HDEL', KEYS[1], ARGV[i])
  end
end
"""


class ScriptBook:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._drop_unchanged = redis.register_script(DROP_UNCHANGED)

    async def all(self, shop: str) -> list[dict]:
        """What the editor lists: every script the router will suggest, and the console's
        own publications until the router has read them."""
        batch = RedisBatch(self.redis)
        batch.command("HGETALL", keys.scripts(shop))
        batch.command("HGETALL", scripts_key(shop))
        batch.command("HGETALL", stage_watermarks.KEY)
        raw, held, marks = await batch.execute()
        copies, held, watermark = _decoded(raw), _decoded(held), stage_watermarks.lowest(marks)
        if gone := settled(copies, held, watermark):
            await self._drop(shop, {script_id: _raw(raw, script_id) for script_id in gone})
        return listed(copies, held, watermark)

    async def get(self, shop: str, script_id: str) -> dict | None:
        return next((s for s in await self.all(shop) if s["script_id"] == script_id), None)

    async def _drop(self, shop: str, copies: dict[str, bytes]) -> None:
        """Delete these copies unless the console wrote the script again meanwhile."""
        await self._drop_unchanged(keys=[keys.scripts(shop)],
                                   args=[v for pair in copies.items() for v in pair])

    async def put(self, shop: str, script: dict) -> None:
        """Keep what the console published (a retirement too, until the router read it)."""
        await self.redis.hset(keys.scripts(shop), script["script_id"], orjson.dumps(script))


def _decoded(fields: dict) -> dict:
    return {k.decode() if isinstance(k, bytes) else k: orjson.loads(v)
            for k, v in fields.items()}


def _raw(fields: dict, script_id: str) -> bytes:
    return fields.get(script_id.encode(), fields.get(script_id))
