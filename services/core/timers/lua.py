"""The Lua scripts registered on a client, and running many of them per round trip."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from services.core.redis_batch import RedisBatch
from services.core.retry import Fenced
from services.core.timers import scripts
from services.core.timers.keys import ShardKeys

# (script, shard keys, args[, generation]): one script call on one shard's keys; the
# generation of a fenced shard's owner, or none.
Call = tuple[Any, ShardKeys, list] | tuple[Any, ShardKeys, list, int | str]


class ShardScripts:
    """The timer scripts, registered once on `redis`, called per shard."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.schedule = redis.register_script(scripts.SCHEDULE)
        self.cancel = redis.register_script(scripts.CANCEL)
        self.claim = redis.register_script(scripts.CLAIM)
        self.ack = redis.register_script(scripts.ACK)
        self.extend = redis.register_script(scripts.EXTEND)
        self.release = redis.register_script(scripts.RELEASE)

    async def run(self, calls: list[Call]) -> list[Any]:
        """Run the calls in ONE pipelined round trip (see RedisBatch: EVALSHA only, and
        calls that met an empty script cache are re-run once their scripts are loaded)."""
        batch = RedisBatch(self.redis)
        for script, keys, args, *generation in calls:
            batch.script(script, [keys.due, keys.inflight, keys.data, keys.owner, keys.fence],
                         [*args, generation[0] if generation else ""])
        try:
            return await batch.execute()
        except ResponseError as exc:
            if str(exc).startswith("FENCED"):
                raise Fenced(str(exc)) from None
            raise
