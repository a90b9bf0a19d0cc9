"""Redis keys of the notifier (every one scoped by shop and with a TTL):

- ``kefu:{shop}:notify:order:<order_id>``     HASH buyer_id, locale (from order.created/paid)
- ``kefu:{shop}:notify:conv:<conversation_id>`` STRING agent holding it ("" = queued)
- ``kefu:{shop}:notify:logistics:<order_id>``  ZSET notification_id -> epoch ms (the cap)
- ``kefu:{shop}:notify:id:<notification_id>``  STRING ``queued`` then ``sent`` (dedup)

The outbox of notifications waiting for delivery (due now, after quiet hours, or
being delivered) is the shared timer engine's namespace ``notifier``:
``kefu:{timers:notifier:<shard>}:due|inflight|data|owner``.
"""

from __future__ import annotations

from services.core.redis import shop_key

OUTBOX_NAMESPACE = "notifier"
QUEUED, SENT = b"queued", b"sent"


def order_key(shop: str, order_id: str) -> str:
    return shop_key(shop, "notify", "order", order_id)


def conversation_key(shop: str, conversation_id: str) -> str:
    return shop_key(shop, "notify", "conv", conversation_id)


def logistics_key(shop: str, order_id: str) -> str:
    return shop_key(shop, "notify", "logistics", order_id)


def notification_key(shop: str, notification_id: str) -> str:
    return shop_key(shop, "notify", "id", notification_id)
