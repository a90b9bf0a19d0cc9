"""The router's memory in Redis, seen through one batch: loaded in bulk (two round trips),
read and updated in memory while the batch is routed in order, written back in one
pipeline after the outputs were acked. Redis only ever holds completed events."""

from __future__ import annotations

from collections.abc import Iterable

from redis.asyncio import Redis

from contracts import EventType
from services.core.redis import shop_key
from services.router.stages import OrderState


def _text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


class RouterContext:
    def __init__(self, redis: Redis, *, ttl: int, dedup_ttl: int) -> None:
        self.redis, self.ttl, self.dedup_ttl = redis, ttl, dedup_ttl
        self._seen: dict[str, bool] = {}
        self._values: dict[str, str | None] = {}
        self._orders: dict[str, OrderState] = {}
        self._dirty_values: set[str] = set()
        self._dirty_orders: set[str] = set()
        self._new_seen: list[str] = []

    # --- keys -------------------------------------------------------------------------
    @staticmethod
    def seen_key(shop: str, event_id: str) -> str:
        return shop_key(shop, "seen", event_id)

    @staticmethod
    def order_key(shop: str, order_id: str) -> str:
        return shop_key(shop, "order", order_id)

    @staticmethod
    def conversation_key(shop: str, conversation_id: str) -> str:
        return shop_key(shop, "conv", conversation_id, "role")

    @staticmethod
    def buyer_order_key(shop: str, buyer_id: str) -> str:
        return shop_key(shop, "buyer", buyer_id, "latest_order")

    @staticmethod
    def case_key(shop: str, case_id: str) -> str:
        return shop_key(shop, "case", case_id, "order")

    # --- loading ----------------------------------------------------------------------
    async def load(self, events: Iterable) -> None:
        seen, values, orders = set(), set(), set()
        for event in events:
            shop, payload = event.shop_id, event.payload
            seen.add(self.seen_key(shop, event.event_id))
            if hasattr(payload, "conversation_id"):
                values.add(self.conversation_key(shop, payload.conversation_id))
            if event.event_type == EventType.BUYER_MESSAGE:
                values.add(self.buyer_order_key(shop, payload.buyer_id))
            if getattr(payload, "order_id", None):
                orders.add(self.order_key(shop, payload.order_id))
            if getattr(payload, "case_id", None):
                values.add(self.case_key(shop, payload.case_id))
        await self._fetch(seen, values, orders)
        # Second hop: orders named only through a buyer's latest order or a case.
        referenced = set()
        for key in values:
            order_id = self._values.get(key)
            if order_id and (":latest_order" in key or key.endswith(":order")):
                shop = key.split("{", 1)[1].split("}", 1)[0]
                referenced.add(self.order_key(shop, order_id))
        await self._fetch(set(), set(), referenced - self._orders.keys())

    async def _fetch(self, seen: set[str], values: set[str], orders: set[str]) -> None:
        seen, values, orders = list(seen), list(values), list(orders)
        if not (seen or values or orders):
            return
        pipe = self.redis.pipeline(transaction=False)
        for key in seen:
            pipe.exists(key)
        for key in values:
            pipe.get(key)
        for key in orders:
            pipe.hgetall(key)
        results = await pipe.execute()
        for key, found in zip(seen, results[: len(seen)], strict=True):
            self._seen[key] = bool(found)
        rest = results[len(seen) :]
        for key, value in zip(values, rest[: len(values)], strict=True):
            self._values[key] = _text(value)
        for key, raw in zip(orders, rest[len(values) :], strict=True):
            data = {_text(k): _text(v) for k, v in (raw or {}).items()}
            self._orders[key] = OrderState(
                data.get("stage"), data.get("before_aftersale"), data.get("buyer_id")
            )

    # --- batch-local reads and writes -------------------------------------------------
    def is_duplicate(self, shop: str, event_id: str) -> bool:
        return self._seen.get(self.seen_key(shop, event_id), False)

    def mark_seen(self, shop: str, event_id: str) -> None:
        key = self.seen_key(shop, event_id)
        self._seen[key] = True
        self._new_seen.append(key)

    def get(self, key: str) -> str | None:
        return self._values.get(key)

    def set(self, key: str, value: str) -> None:
        if self._values.get(key) != value:
            self._values[key] = value
            self._dirty_values.add(key)

    def order(self, shop: str, order_id: str) -> OrderState:
        return self._orders.get(self.order_key(shop, order_id), OrderState())

    def set_order(self, shop: str, order_id: str, state: OrderState) -> None:
        key = self.order_key(shop, order_id)
        if self._orders.get(key) != state:
            self._orders[key] = state
            self._dirty_orders.add(key)

    async def flush(self) -> None:
        """Write dedup marks and changed context, every key with a TTL, in one pipeline."""
        if not (self._new_seen or self._dirty_values or self._dirty_orders):
            return
        pipe = self.redis.pipeline(transaction=False)
        for key in self._new_seen:
            pipe.set(key, 1, ex=self.dedup_ttl)
        for key in self._dirty_values:
            pipe.set(key, self._values[key], ex=self.ttl)
        for key in self._dirty_orders:
            state = self._orders[key]
            fields = {
                "stage": state.stage or "",
                "before_aftersale": state.before_aftersale or "",
                "buyer_id": state.buyer_id or "",
            }
            pipe.hset(key, mapping=fields)
            pipe.expire(key, self.ttl)
        await pipe.execute()
        self._new_seen.clear()
        self._dirty_values.clear()
        self._dirty_orders.clear()
