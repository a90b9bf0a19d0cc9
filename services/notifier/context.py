"""The notifier's memory in Redis, seen through one batch: loaded in one pipelined
round trip, read and updated in memory while the batch is decided in order, written
back in one pipeline after the batch's notifications were queued in the outbox."""

from __future__ import annotations

from redis.asyncio import Redis

from services.notifier import keys
from services.notifier.compose import Recipient


def _text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


class NotifierContext:
    def __init__(self, redis: Redis, *, ttl: int, dedup_ttl: int) -> None:
        self.redis, self.ttl, self.dedup_ttl = redis, ttl, dedup_ttl
        self._orders: dict[str, dict[str, str]] = {}
        self._convs: dict[str, str | None] = {}
        self._logistics: dict[str, dict[str, int]] = {}
        self._known: dict[str, bool] = {}
        self._dirty: set[str] = set()
        self._queued: list[str] = []
        self._counted: dict[str, tuple[str, int, int]] = {}  # key -> (member, ms, window ms)

    async def load(self, *, orders: set[str], convs: set[str], logistics: set[str],
                   ids: set[str]) -> None:
        """Fetch the given keys (built with `services.notifier.keys`)."""
        orders, convs, logistics, ids = map(list, (orders, convs, logistics, ids))
        if not (orders or convs or logistics or ids):
            return
        pipe = self.redis.pipeline(transaction=False)
        for key in orders:
            pipe.hgetall(key)
        for key in convs:
            pipe.get(key)
        for key in logistics:
            pipe.zrange(key, 0, -1, withscores=True)
        for key in ids:
            pipe.exists(key)
        results = iter(await pipe.execute())
        for key in orders:
            self._orders[key] = {_text(k): _text(v) for k, v in (next(results) or {}).items()}
        for key in convs:
            self._convs[key] = _text(next(results))
        for key in logistics:
            self._logistics[key] = {_text(m): int(s) for m, s in next(results)}
        for key in ids:
            self._known[key] = bool(next(results))

    # --- reads and writes while deciding ------------------------------------------------
    def recipient(self, shop: str, order_id: str | None, conversation_id: str | None) -> Recipient:
        order = self._orders.get(keys.order_key(shop, order_id), {}) if order_id else {}
        conv = keys.conversation_key(shop, conversation_id) if conversation_id else None
        agent = self._convs.get(conv) if conv else None
        return Recipient(buyer_id=order.get("buyer_id") or None,
                         locale=order.get("locale") or None,
                         agent_id=agent or None, queued=agent == "")

    def remember_order(self, shop: str, order_id: str, buyer_id: str, locale: str | None) -> None:
        key = keys.order_key(shop, order_id)
        known = self._orders.get(key, {}).get("locale")
        entry = {"buyer_id": buyer_id, "locale": locale or known or ""}
        if self._orders.get(key) != entry:
            self._orders[key] = entry
            self._dirty.add(key)

    def remember_agent(self, shop: str, conversation_id: str, agent_id: str | None) -> None:
        key = keys.conversation_key(shop, conversation_id)
        self._convs[key] = agent_id or ""
        self._dirty.add(key)

    def is_known(self, shop: str, notification_id: str) -> bool:
        """Already queued or sent (before or earlier in this batch)."""
        return self._known.get(keys.notification_key(shop, notification_id), False)

    def mark_queued(self, shop: str, notification_id: str) -> None:
        key = keys.notification_key(shop, notification_id)
        self._known[key] = True
        self._queued.append(key)

    def logistics_sent(self, shop: str, order_id: str, since_ms: int) -> int:
        """Logistics updates decided for the order since `since_ms`."""
        sent = self._logistics.get(keys.logistics_key(shop, order_id), {})
        return sum(1 for at in sent.values() if at > since_ms)

    def count_logistics(self, shop: str, order_id: str, notification_id: str, at_ms: int,
                        window_ms: int) -> None:
        key = keys.logistics_key(shop, order_id)
        self._logistics.setdefault(key, {})[notification_id] = at_ms
        self._counted[key] = (notification_id, at_ms, window_ms)

    async def flush(self) -> None:
        """Write the dedup marks (never over ``sent``), changed memory and cap counts."""
        if not (self._queued or self._dirty or self._counted):
            return
        pipe = self.redis.pipeline(transaction=False)
        for key in self._queued:
            pipe.set(key, keys.QUEUED, ex=self.dedup_ttl, nx=True)
        for key in self._dirty:
            if key in self._orders:
                pipe.hset(key, mapping=self._orders[key])
                pipe.expire(key, self.ttl)
            else:
                pipe.set(key, self._convs[key] or "", ex=self.ttl)
        for key, (_, last_ms, window_ms) in self._counted.items():
            members = {m: at for m, at in self._logistics[key].items() if at > last_ms - window_ms}
            pipe.zadd(key, members)
            pipe.zremrangebyscore(key, "-inf", last_ms - window_ms)
            pipe.pexpire(key, window_ms)
        await pipe.execute()
        self._queued.clear()
        self._dirty.clear()
        self._counted.clear()
