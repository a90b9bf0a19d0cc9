"""Redis faults a test can begin and end: down (stopped, then started again from its
AOF) or refusing every write (`maxmemory` reached under `noeviction`: OOM)."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis


class RefusingWrites:
    """Redis stays up and answers reads, but refuses every write (OOM)."""

    def __init__(self, url: str) -> None:
        self.url, self.saved = url, {}

    async def begin(self) -> None:
        admin = Redis.from_url(self.url, decode_responses=True)
        try:
            for name in ("maxmemory", "maxmemory-policy"):
                self.saved.update(await admin.config_get(name))
            await admin.config_set("maxmemory-policy", "noeviction")
            await admin.config_set("maxmemory", "1")
        finally:
            await admin.aclose()

    async def end(self) -> None:
        admin = Redis.from_url(self.url, decode_responses=True)
        try:
            for name, value in self.saved.items():
                await admin.config_set(name, value)
        finally:
            await admin.aclose()


class Down:
    def __init__(self, stack) -> None:
        self.stack = stack

    async def begin(self) -> None:
        await asyncio.to_thread(self.stack.redis.stop)

    async def end(self) -> None:
        await asyncio.to_thread(self.stack.redis.start)


def redis_fault(kind: str, stack):
    """`down` or `refusing_writes`."""
    return Down(stack) if kind == "down" else RefusingWrites(stack.redis.url)
