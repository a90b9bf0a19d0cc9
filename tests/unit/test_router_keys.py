"""The router's Redis keys follow the shared layout (services.core.redis.shop_key):
`kefu:{shop}:...`, the shop as the hash tag, so one shop's keys share a Redis Cluster
slot and a batch costs one MGET and one Lua write per shop."""

from __future__ import annotations

import pytest

from services.core.redis import shop_key
from services.router.context import RouterContext

SHOP = "shop-亲-01"


@pytest.mark.parametrize(
    ("key", "parts"),
    [
        (RouterContext.seen_key(SHOP, "evt-1"), ("seen", "evt-1")),
        (RouterContext.order_key(SHOP, "o-1"), ("order", "o-1")),
        (RouterContext.conversation_key(SHOP, "c-1"), ("conv", "c-1", "role")),
        (RouterContext.buyer_order_key(SHOP, "b-1"), ("buyer", "b-1", "latest_order")),
        (RouterContext.case_key(SHOP, "k-1"), ("case", "k-1", "order")),
    ],
)
def test_every_router_key_is_in_the_shared_layout(key: str, parts: tuple[str, ...]) -> None:
    assert key == shop_key(SHOP, *parts)
    assert key[key.index("{") + 1 : key.index("}")] == SHOP
