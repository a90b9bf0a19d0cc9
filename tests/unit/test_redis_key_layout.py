"""Every per-shop Redis key has one layout, `services.core.redis.shop_key`'s. The
router formats its hot keys in one step for speed: they must equal that layout."""

from __future__ import annotations

from services.core.redis import shop_key
from services.router.context import RouterContext


def test_the_routers_fast_keys_are_shop_keys() -> None:
    shop = "店铺-1:{x}"
    assert RouterContext.seen_key(shop, "e1") == shop_key(shop, "seen", "e1")
    assert RouterContext.order_key(shop, "o1") == shop_key(shop, "order", "o1")
    assert RouterContext.conversation_key(shop, "c1") == shop_key(shop, "conv", "c1", "role")
    assert RouterContext.buyer_order_key(shop, "b1") == shop_key(shop, "buyer", "b1",
                                                                 "latest_order")
    assert RouterContext.case_key(shop, "k1") == shop_key(shop, "case", "k1", "order")
