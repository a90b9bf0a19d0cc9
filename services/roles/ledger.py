"""The assignment ledger in Redis (layout in `keys.py`, atomic steps in `scripts.py`) and
the bulk reads the role services make of it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from redis.asyncio import Redis

from services.roles import scripts
from services.roles.assignment import AgentView, Sticky
from services.roles.conversation import ConvState
from services.roles.keys import CAUSE_TTL_SECONDS, RoleKeys


def text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode() if isinstance(value, bytes) else str(value)


def text_hash(raw: dict | None) -> dict[str, str]:
    return {text(k): text(v) for k, v in (raw or {}).items()}


@dataclass(frozen=True, slots=True)
class Outcome:
    status: str  # ok | replay | stale | full
    agent: str
    reason: str
    at: int


class Ledger:
    def __init__(self, redis: Redis, keys: RoleKeys, *, key_ttl_ms: int) -> None:
        self.redis, self.keys, self.key_ttl_ms = redis, keys, key_ttl_ms
        self._assign = redis.register_script(scripts.ASSIGN)
        self._release = redis.register_script(scripts.RELEASE)
        self._presence = redis.register_script(scripts.PRESENCE)

    async def assign(
        self, shop: str, conv: str, target: str, *, cause: str, reason: str, now_ms: int,
        expect: str, sticky_ttl_ms: int, score: int = 0, buyer: str = "",
    ) -> Outcome:
        args = [self.keys.prefix(shop), conv, target, cause, reason, now_ms, expect, score,
                buyer, sticky_ttl_ms, self.key_ttl_ms, CAUSE_TTL_SECONDS]
        reply = await self._assign(keys=[self.keys.conv(shop, conv)], args=args)
        status, agent, why, at = (text(v) for v in reply)
        return Outcome(status, agent, why, int(at) if at else 0)

    async def release(self, shop: str, conv: str, cause: str) -> str:
        args = [self.keys.prefix(shop), conv, cause, self.key_ttl_ms]
        return text(await self._release(keys=[self.keys.conv(shop, conv)], args=args))

    async def presence(self, shop: str, agent: str, status: str, max_concurrent: int,
                       now_ms: int) -> list[str]:
        """Record presence; returns the conversations to hand back (not online)."""
        args = [self.keys.prefix(shop), agent, status, max_concurrent, now_ms, self.key_ttl_ms]
        reply = await self._presence(keys=[self.keys.agent(shop, agent)], args=args)
        return sorted(text(v) for v in reply)

    async def agents(self, shop: str) -> dict[str, AgentView]:
        """Every agent of the shop in this role with its load; prunes expired members."""
        ids = sorted(text(v) for v in await self.redis.smembers(self.keys.agents(shop)))
        if not ids:
            return {}
        pipe = self.redis.pipeline(transaction=False)
        for agent in ids:
            pipe.hmget(self.keys.agent(shop, agent), "status", "max", "idle")
            pipe.scard(self.keys.held(shop, agent))
        replies = await pipe.execute()
        views, gone = {}, []
        for i, agent in enumerate(ids):
            (status, max_c, idle), load = replies[2 * i], replies[2 * i + 1]
            if status is None:
                gone.append(agent)
                continue
            views[agent] = AgentView(agent, text(status), int(text(max_c) or 0), int(load),
                                     int(text(idle) or 0))
        if gone:
            await self.redis.srem(self.keys.agents(shop), *gone)
        return views

    async def queue_heads(self, shop: str, start: int, count: int) -> list[str]:
        """Queued conversations in serving order, from rank `start`."""
        queue = self.keys.queue(shop)
        return [text(v) for v in await self.redis.zrange(queue, start, start + count - 1)]

    async def convs(self, shop: str, ids: Iterable[str]) -> dict[str, ConvState]:
        ids = list(dict.fromkeys(ids))
        if not ids:
            return {}
        pipe = self.redis.pipeline(transaction=False)
        for conv in ids:
            pipe.hgetall(self.keys.conv(shop, conv))
        replies = await pipe.execute()
        return {c: ConvState.from_hash(c, text_hash(r)) for c, r in zip(ids, replies, strict=True)}

    async def stickies(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Sticky]:
        """The sticky agent of each (shop, buyer) that has one."""
        pairs = [p for p in dict.fromkeys(pairs) if p[1]]
        if not pairs:
            return {}
        pipe = self.redis.pipeline(transaction=False)
        for shop, buyer in pairs:
            pipe.hmget(self.keys.buyer(shop, buyer), "agent", "at")
        found = {}
        for pair, (agent, at) in zip(pairs, await pipe.execute(), strict=True):
            if agent:
                found[pair] = Sticky(text(agent), int(text(at) or 0))
        return found

    async def cause_members(self, shop: str, cause: str) -> list[str]:
        return sorted(text(v) for v in await self.redis.smembers(self.keys.cause(shop, cause)))
