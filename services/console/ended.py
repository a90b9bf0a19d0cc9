"""Sessions ended by logging out. A session cookie is valid on its own until its TTL; to
end it on the server too (a copy in another tab, or a stolen one), logging out records
the session's nonce in Redis for the rest of its TTL, and every request checks it."""

from __future__ import annotations

from redis.asyncio import Redis

from services.console.keys import ended_session


class EndedSessions:
    def __init__(self, redis: Redis, ttl_s: int) -> None:
        self.redis, self.ttl_s = redis, ttl_s

    async def end(self, nonce: str) -> None:
        await self.redis.set(ended_session(nonce), 1, ex=max(1, self.ttl_s))

    async def ended(self, nonce: str) -> bool:
        return bool(await self.redis.exists(ended_session(nonce)))
