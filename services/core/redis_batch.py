"""One pipelined round trip of plain commands and Lua scripts.

Scripts go as EVALSHA only: redis-py's pipelines first ask SCRIPT EXISTS, a round trip
of its own per execute. A script call that met an empty script cache (a restarted or
failed-over server) did nothing: its script is loaded and the call sent again."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError


class RedisBatch:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._calls: list[tuple[AsyncScript | None, tuple]] = []

    def __len__(self) -> int:
        return len(self._calls)

    def command(self, *args: Any) -> int:
        """Queue a command (`"HSET", key, ...`); returns the index of its reply."""
        self._calls.append((None, args))
        return len(self._calls) - 1

    def script(self, script: AsyncScript, keys: list, args: list) -> int:
        self._calls.append((script, (len(keys), *keys, *args)))
        return len(self._calls) - 1

    async def execute(self) -> list[Any]:
        """Every reply in order; the first error (other than a missing script) raises."""
        replies: list[Any] = [None] * len(self._calls)
        todo = list(range(len(self._calls)))
        for attempt in range(3):
            async with self.redis.pipeline(transaction=False) as pipe:
                for i in todo:
                    script, args = self._calls[i]
                    if script is None:
                        pipe.execute_command(*args)
                    else:
                        pipe.execute_command("EVALSHA", script.sha, *args)
                answers = await pipe.execute(raise_on_error=False)
            missing = []
            for i, answer in zip(todo, answers, strict=True):
                if isinstance(answer, NoScriptError) and attempt < 2:
                    missing.append(i)
                elif isinstance(answer, Exception):
                    raise answer
                else:
                    replies[i] = answer
            if not missing:
                return replies
            for script in {id(s): s for s, _ in (self._calls[i] for i in missing)}.values():
                sha = await self.redis.script_load(script.script)
                script.sha = sha.decode() if isinstance(sha, bytes) else sha
            todo = missing
        return replies
