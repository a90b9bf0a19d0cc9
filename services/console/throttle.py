"""Password guessing at the login form. Login attempts are counted in Redis (every
console replica sees them) per user name and client address, before the password is
checked, so that parallel guesses are counted too: past FAILURES within WINDOW_S, that
name is refused from that address until the window ends (HTTP 429, Retry-After) and no
password is checked, so a guesser spends no argon2 work of ours either. A correct login
clears the count: only failed attempts add up.

Behind a reverse proxy every request comes from the proxy's address, so the count is per
user name: a guesser can then hold one name's logins for WINDOW_S, and learns nothing."""

from __future__ import annotations

from redis.asyncio import Redis

from services.console.keys import login_failures

FAILURES = 5
WINDOW_S = 15 * 60


class LoginThrottle:
    def __init__(self, redis: Redis, *, failures: int = FAILURES,
                 window_s: int = WINDOW_S) -> None:
        self.redis, self.failures, self.window_s = redis, failures, window_s

    async def admit(self, name: str, client: str) -> int:
        """Count an attempt of `name` from `client`; 0: check its password, else the
        seconds until it may try again."""
        key = login_failures(name, client)
        async with self.redis.pipeline(transaction=True) as pipe:
            count, _, ttl = await pipe.incr(key).expire(key, self.window_s, nx=True) \
                .ttl(key).execute()
        if int(count) <= self.failures:
            return 0
        return max(1, int(ttl)) if ttl and int(ttl) > 0 else self.window_s

    async def succeeded(self, name: str, client: str) -> None:
        await self.redis.delete(login_failures(name, client))
