"""Password guessing at the login form. Failed logins are counted in Redis (every console
replica sees them) per user name and client address: after FAILURES within WINDOW_S,
that name is refused from that address until the window ends (HTTP 429, Retry-After),
before any password is checked, so a guesser spends no argon2 work of ours either. A
correct login clears the count.

Behind a reverse proxy every request comes from the proxy's address, so the count is per
user name: a guesser can then hold one name's logins for WINDOW_S, and learns nothing."""

from __future__ import annotations

import hashlib

from redis.asyncio import Redis

FAILURES = 5
WINDOW_S = 15 * 60


def failures_key(name: str, client: str) -> str:
    """`kefu:{console}:login:<digest>`: names are whatever the form was sent, so they
    are hashed into a key of fixed size."""
    digest = hashlib.sha256(f"{name}\0{client}".encode()).hexdigest()[:32]
    return f"kefu:{{console}}:login:{digest}"


class LoginThrottle:
    def __init__(self, redis: Redis, *, failures: int = FAILURES,
                 window_s: int = WINDOW_S) -> None:
        self.redis, self.failures, self.window_s = redis, failures, window_s

    async def wait_s(self, name: str, client: str) -> int:
        """Seconds until `name` may try again from `client`; 0: now."""
        key = failures_key(name, client)
        async with self.redis.pipeline(transaction=False) as pipe:
            count, ttl = await pipe.get(key).ttl(key).execute()
        if count is None or int(count) < self.failures:
            return 0
        return max(1, int(ttl)) if ttl and int(ttl) > 0 else self.window_s

    async def failed(self, name: str, client: str) -> None:
        key = failures_key(name, client)
        async with self.redis.pipeline(transaction=True) as pipe:
            await pipe.incr(key).expire(key, self.window_s, nx=True).execute()

    async def succeeded(self, name: str, client: str) -> None:
        await self.redis.delete(failures_key(name, client))
