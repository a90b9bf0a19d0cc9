"""What the notifier knows while it decides one batch (pure, no I/O): each order's buyer
and locale, who holds each conversation, the logistics updates sent per order (the
cap) and which notification ids are queued or sent, read and updated in memory, in
order. `NotifierContext` (context.py) loads it from Redis and writes back what
changed."""

from __future__ import annotations

from services.notifier import keys
from services.notifier.compose import Recipient


class NotifierState:
    def __init__(self, *, ttl: int, dedup_ttl: int) -> None:
        self.ttl, self.dedup_ttl = ttl, dedup_ttl
        self._orders: dict[str, dict[str, str]] = {}
        self._convs: dict[str, str | None] = {}
        self._logistics: dict[str, dict[str, int]] = {}
        self._known: dict[str, bool] = {}
        self._dirty: set[str] = set()
        self._queued: list[str] = []
        self._counted: dict[str, tuple[str, int, int]] = {}  # key -> (member, ms, window ms)

    def loaded(self, *, orders: dict[str, dict[str, str]] | None = None,
               convs: dict[str, str | None] | None = None,
               logistics: dict[str, dict[str, int]] | None = None,
               known: dict[str, bool] | None = None) -> None:
        """What was found under these keys (built with `services.notifier.keys`)."""
        self._orders.update(orders or {})
        self._convs.update(convs or {})
        self._logistics.update(logistics or {})
        self._known.update(known or {})

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
