"""The Lua scripts registered on a client, and running many of them per round trip."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis
from redis.exceptions import NoScriptError

from services.core.timers import scripts
from services.core.timers.keys import TimerKeys

# (script, shard, args): one script call on one shard's keys.
Call = tuple[Any, int, list]


class ShardScripts:
    """The timer scripts, registered once on `redis`, called per shard."""

    def __init__(self, redis: Redis, keys: TimerKeys) -> None:
        self.redis = redis
        self._keys = [[k.due, k.inflight, k.data, k.owner] for k in keys.all()]
        self.schedule = redis.register_script(scripts.SCHEDULE)
        self.cancel = redis.register_script(scripts.CANCEL)
        self.claim = redis.register_script(scripts.CLAIM)
        self.ack = redis.register_script(scripts.ACK)
        self.extend = redis.register_script(scripts.EXTEND)
        self.release = redis.register_script(scripts.RELEASE)

    async def run(self, calls: list[Call]) -> list[Any]:
        """Run the calls in ONE pipelined round trip (EVALSHA only: no SCRIPT EXISTS
        round trip first). Calls that met an empty script cache (a restarted server)
        did nothing, so they are re-run once their scripts are loaded."""
        results: list[Any] = [None] * len(calls)
        todo = list(range(len(calls)))
        for attempt in range(3):
            async with self.redis.pipeline(transaction=False) as pipe:
                for i in todo:
                    script, shard, args = calls[i]
                    pipe.evalsha(script.sha, 4, *self._keys[shard], *args)
                replies = await pipe.execute(raise_on_error=False)
            missing = []
            for i, reply in zip(todo, replies, strict=True):
                if isinstance(reply, NoScriptError) and attempt < 2:
                    missing.append(i)
                elif isinstance(reply, Exception):
                    raise reply
                else:
                    results[i] = reply
            if not missing:
                break
            for script in {id(calls[i][0]): calls[i][0] for i in missing}.values():
                sha = await self.redis.script_load(script.script)
                script.sha = sha.decode() if isinstance(sha, bytes) else sha
            todo = missing
        return results
