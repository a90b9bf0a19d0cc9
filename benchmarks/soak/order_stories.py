"""Traffic stories of orders: placing, changes, shipping, transit, after-sale, reviews."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from benchmarks.soak.story_types import OrderSpec, ShopSpec, Step
from services.demo.catalogue import CATALOGUE

PRODUCTS, SCANS = CATALOGUE.product_names, CATALOGUE.scans
AFTERSALE_PATHS = (
    ("agreed", "returned_goods_received", "refunded"), ("agreed", "refunded"),
    ("rejected", "platform_intervened", "refunded"), ("agreed", "closed"),
)
"""The statuses a case goes through after it is requested."""


class OrderStories:
    """The order stories of `Traffic` (a mixin)."""

    def _order(self, shop: ShopSpec) -> Iterator[Step]:
        """An order's life from its entry stage on, compressed to minutes. At any moment
        a shop has orders in every stage, so a story may start with an order placed before
        the soak: paid (it ships next), in transit (scans next) or delivered (a case or
        a review next). New orders may be cancelled, changed or delayed."""
        rng = self.rng
        entry = rng.choices(("created", "paid", "shipped", "delivered"), (45, 25, 18, 12))[0]
        order = self._new_order(shop)
        if entry == "created":
            yield from self._place(order)
            if order.stage == "cancelled":
                return
            shop.orders.append(order)
            yield from self._before_shipping(order)
            if order.stage == "cancelled":
                return
        else:
            order.stage = entry
            shop.orders.append(order)
        if entry in ("created", "paid"):
            yield from self._ship(order)
        if entry in ("created", "paid", "shipped"):
            yield from self._transit(order)
            yield from self._after_delivery(order, case=0.10, review=0.30)
        else:
            yield from self._after_delivery(order, case=0.45, review=1.0)

    def _new_order(self, shop: ShopSpec) -> OrderSpec:
        rng = self.rng
        items = [{"sku": f"sku-{rng.randint(1000, 9999)}",
                  "name": f"{rng.choice(PRODUCTS)} {rng.choice(CATALOGUE.colours)} "
                          f"{rng.choice(CATALOGUE.sizes)}",
                  "quantity": rng.randint(1, 3), "price": float(rng.choice((59, 129, 189, 459)))}
                 for _ in range(rng.choices((1, 2, 3), (70, 20, 10))[0])]
        amount = round(sum(i["price"] * i["quantity"] for i in items), 2)
        return OrderSpec(self._id(shop.order_prefix), self._id("buyer"), items, amount)

    def _place(self, order: OrderSpec) -> Iterator[Step]:
        rng, oid = self.rng, order.order_id
        yield Step(0.0, "order.created", {"order_id": oid, "buyer_id": order.buyer_id,
                                          "items": order.items, "amount": order.amount})
        if rng.random() < 0.12:
            yield Step(rng.uniform(30, 300), "order.cancelled",
                       {"order_id": oid, "reason": "买家未付款"})
            order.stage = "cancelled"
            return
        yield Step(rng.uniform(10, 90), "order.paid",
                   {"order_id": oid, "buyer_id": order.buyer_id, "items": order.items,
                    "amount": order.amount, "promised_ship_by": timedelta(hours=48)})
        order.stage = "paid"

    def _before_shipping(self, order: OrderSpec) -> Iterator[Step]:
        rng, oid = self.rng, order.order_id
        roll = rng.random()
        if roll < 0.05:
            yield Step(rng.uniform(30, 200), "order.changed",
                       {"order_id": oid, "change": rng.choice(("address", "items", "quantity")),
                        "awaiting_buyer_confirmation": rng.random() < 0.5})
        elif roll < 0.09:
            yield Step(rng.uniform(60, 300), "order.delayed",
                       {"order_id": oid, "reason": "缺货，厂家补货中",
                        "new_ship_by": timedelta(hours=72)})
        elif roll < 0.12:
            yield Step(rng.uniform(60, 300), "order.cancelled",
                       {"order_id": oid, "reason": "买家申请取消"})
            order.stage = "cancelled"

    def _ship(self, order: OrderSpec) -> Iterator[Step]:
        carrier = self.rng.choice(CATALOGUE.carriers)
        order.tracking_no = f"{carrier.code}{self.rng.getrandbits(40)}"
        yield Step(self.rng.uniform(60, 300), "order.shipped",
                   {"order_id": order.order_id, "carrier": carrier.name,
                    "tracking_no": order.tracking_no})
        order.stage = "shipped"

    def _transit(self, order: OrderSpec) -> Iterator[Step]:
        rng, oid = self.rng, order.order_id
        tracking = order.tracking_no or f"ZT{rng.getrandbits(40)}"
        for _ in range(rng.randint(1, 3)):
            status = "exception" if rng.random() < 0.03 else "in_transit"
            yield Step(rng.uniform(60, 240), "logistics.update",
                       {"order_id": oid, "tracking_no": tracking, "status": status,
                        "description": SCANS["in_transit"],
                        "location": rng.choice(CATALOGUE.cities)})
        yield Step(rng.uniform(60, 180), "logistics.update",
                   {"order_id": oid, "tracking_no": tracking, "status": "out_for_delivery",
                    "description": SCANS["out_for_delivery"]})
        yield Step(rng.uniform(30, 120), "logistics.update",
                   {"order_id": oid, "tracking_no": tracking, "status": "delivered",
                    "description": SCANS["delivered"]})
        order.stage = "delivered"

    def _after_delivery(self, order: OrderSpec, *, case: float, review: float
                        ) -> Iterator[Step]:
        """A case with probability `case`; otherwise a review with probability `review`."""
        rng, oid = self.rng, order.order_id
        if rng.random() < case:
            case_id = self._id("case")
            yield Step(rng.uniform(30, 300), "aftersale.requested",
                       {"case_id": case_id, "order_id": oid, "buyer_id": order.buyer_id,
                        "kind": rng.choice(("refund_only", "return_refund", "exchange")),
                        "reason": "质量问题", "amount": order.amount,
                        "respond_by": timedelta(hours=48)})
            order.stage = "aftersale"
            for status in rng.choice(AFTERSALE_PATHS):
                yield Step(rng.uniform(60, 300), "aftersale.updated",
                           {"case_id": case_id, "order_id": oid, "status": status})
        elif rng.random() < review:
            rating = rng.choices((5, 4, 3, 2, 1), (70, 15, 7, 4, 4))[0]
            yield Step(rng.uniform(60, 300), "review.posted",
                       {"order_id": oid, "buyer_id": order.buyer_id, "rating": rating,
                        "text": CATALOGUE.reviews[rating]})
