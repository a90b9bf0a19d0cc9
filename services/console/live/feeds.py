"""The console's own feeds in Redis (`services/console/keys.py`), written from what it
consumes: the latest escalations of each shop as on the topic, the last hour's dead
letters (their reason and place, never the original bytes: they may hold a buyer's
phone or address), the shops seen; and the acknowledgements its users made. Every write
is idempotent (keyed by the message's own id), so a redelivered batch changes nothing."""

from __future__ import annotations

from datetime import datetime

import orjson
from redis.asyncio import Redis

from contracts import DeadLetter, Escalation
from services.console import keys
from services.core.redis_batch import RedisBatch

# KEYS[1] the shop's feed ZSET; ARGV: bodies hash, size, then (id, score ms, body)...
# Adds each escalation once and keeps the newest `size`.
ADD_ESCALATIONS = """
local feed, bodies, size = KEYS[1], ARGV[1], tonumber(ARGV[2])
for i = 3, #ARGV, 3 do
  redis.call('ZADD', feed, ARGV[i + 1], ARGV[i])
  redis.call('HSET', bodies, ARGV[i], ARGV[i + 2])
end
local old = redis.call('ZRANGE', feed, 0, -(size + 1))
if #old > 0 then
  redis.call('ZREM', feed, unpack(old))
  redis.call('HDEL', bodies, unpack(old))
end
return #old
"""
DETAIL_KEPT = 200


def letter_shop(letter: DeadLetter) -> str | None:
    """The shop a dead letter's original names, when it is a JSON object with one."""
    try:
        original = orjson.loads(letter.raw_bytes())
    except (orjson.JSONDecodeError, ValueError):
        return None
    shop = original.get("shop_id") if isinstance(original, dict) else None
    return shop if isinstance(shop, str) and 0 < len(shop) <= 64 else None


def letter_summary(letter: DeadLetter) -> dict:
    return {"reason": str(letter.reason), "detail": letter.detail[:DETAIL_KEPT],
            "service": letter.service, "source_topic": letter.source_topic,
            "partition": letter.partition, "offset": letter.offset,
            "failed_at": letter.failed_at.isoformat()}


class Feeds:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._add = redis.register_script(ADD_ESCALATIONS)

    async def record(self, escalations: list[tuple[Escalation, bytes]],
                     letters: list[DeadLetter], shops: set[str], now: datetime) -> None:
        """Write a batch's escalations (each with its message as on the topic), letters
        and shops in one round trip."""
        batch = RedisBatch(self.redis)
        by_shop: dict[str, list] = {}
        for esc, raw in escalations:
            by_shop.setdefault(esc.shop_id, []).extend([
                esc.escalation_id, round(esc.fired_at.timestamp() * 1000), raw])
        for shop, args in by_shop.items():
            batch.script(self._add, [keys.escalations(shop)],
                         [keys.escalation(shop), keys.FEED_SIZE, *args])
        cutoff = round(now.timestamp() * 1000) - keys.LETTER_WINDOW_MS
        for letter in letters:
            key = keys.letters(letter_shop(letter))
            batch.command("ZADD", key, round(letter.failed_at.timestamp() * 1000),
                          orjson.dumps(letter_summary(letter)))
            batch.command("ZREMRANGEBYSCORE", key, "-inf", cutoff)
            batch.command("EXPIRE", key, 24 * 3600)
        if shops:
            batch.command("SADD", keys.SHOPS, *sorted(shops))
        if len(batch):
            await batch.execute()

    async def acknowledged(self, shop: str, escalation_id: str, by: str, at: datetime,
                           note: str | None) -> None:
        key = keys.acks(shop)
        await self.redis.hset(key, escalation_id, orjson.dumps(
            {"by": by, "at": at.isoformat(), "note": note}))
        await self.redis.expire(key, keys.ACK_TTL_S)

    async def escalation(self, shop: str, escalation_id: str) -> dict | None:
        """An escalation of the shop's feed, as it was on the topic."""
        raw = await self.redis.hget(keys.escalation(shop), escalation_id)
        return orjson.loads(raw) if raw else None

    async def shops(self) -> set[str]:
        return {s.decode() if isinstance(s, bytes) else s
                for s in await self.redis.smembers(keys.SHOPS)}
