"""Data for the analytics benchmark: a realistic mix of what analytics consumes (routed
chat events, order events, escalations, assignments), and SQL that fills the store
straight away with a month of one shop (the query benchmark: inserting generated rows is
allowed there; ingesting ten million events through Kafka would take an hour here)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import orjson

from contracts import topics

INTENTS = ("greeting", "product_inquiry", "bargaining", "order_change", "urge_shipment",
           "logistics_inquiry", "return_refund", "quality_issue", "complaint")


def envelope(kind: str, n: int, at: datetime, shop: str, payload: dict) -> dict:
    return {"event_id": f"bench-{n}", "event_type": kind, "schema_version": 1,
            "occurred_at": at.isoformat(), "shop_id": shop, "platform": "taobao",
            "payload": payload, "trace_id": f"t-{n}"}


def ingest_mix(n: int, seed: int = 7) -> dict[str, list[tuple[bytes, bytes]]]:
    """`n` records over kefu's topics: conversations of three buyer turns and two to
    three replies (some closed), orders paid, shipped, scanned and reviewed, and an
    escalation or assignment now and then; 20 shops, 2,000 items."""
    rng, out = random.Random(seed), {t: [] for t in (topics.ROLE_PRESALE, topics.ROLE_AFTERSALE,
                                                     topics.ORDERS, topics.ESCALATIONS,
                                                     topics.ASSIGNMENTS)}
    at, count = datetime(2026, 11, 2, 1, tzinfo=UTC), 0

    def add(topic: str, key: str, body: dict) -> None:
        nonlocal count
        out[topic].append((key.encode(), orjson.dumps(body)))
        count += 1

    while count < n:
        shop, conv = f"shop-{rng.randrange(20)}", f"conv-{count}"
        role = rng.choice(("presale", "presale", "aftersale"))
        topic, buyer = topics.role_topic(role), f"buyer-{rng.randrange(50_000)}"
        for turn in range(3):
            at += timedelta(seconds=rng.uniform(0.5, 3))
            routing = {"intent": rng.choice(INTENTS), "role": role, "priority": "normal",
                       "confidence": 0.9, "reason": "bench", "routed_at": at.isoformat()}
            payload = {"conversation_id": conv, "buyer_id": buyer, "message_id": f"m{count}",
                       "text": "这款还有货吗？什么时候发货" * 2}
            if rng.random() < 0.3:
                payload["item_id"] = f"sku-{rng.randrange(2000)}"
            add(topic, conv, {**envelope("buyer.message", count, at, shop, payload),
                              "routing": routing})
            if turn < 2 or rng.random() < 0.5:
                at += timedelta(seconds=rng.uniform(5, 200))
                add(topic, conv, envelope("agent.message", count, at, shop, {
                    "conversation_id": conv, "agent_id": f"agent-{rng.randrange(40)}",
                    "message_id": f"m{count}", "text": "亲，有货的，今天下单48小时内发货哦"}))
        if rng.random() < 0.25:
            add(topic, conv, envelope("conversation.closed", count, at, shop,
                                      {"conversation_id": conv}))
        if rng.random() < 0.2:
            add(topics.ASSIGNMENTS, conv, {"conversation_id": conv, "shop_id": shop,
                                           "role": role, "agent_id": "agent-1",
                                           "reason": "least_loaded", "at": at.isoformat()})
        if rng.random() < 0.4:
            order, item = f"order-{count}", f"sku-{rng.randrange(2000)}"
            lines = [{"item_id": item, "title": "羊毛针织开衫", "quantity": 1, "price": 289.0}]
            scan = {"tracking_no": "t", "status": "in_transit"}
            when = at  # the order's events happen later; the chats go on meanwhile
            for kind, payload in (("order.paid", {"buyer_id": buyer, "items": lines}),
                                  ("order.shipped", {"carrier": "SF", "tracking_no": "t"}),
                                  ("logistics.update", scan),
                                  ("review.posted", {"buyer_id": buyer,
                                                     "rating": rng.choice((1, 4, 5, 5))})):
                when += timedelta(minutes=rng.uniform(1, 90))
                add(topics.ORDERS, order, envelope(kind, count, when, shop,
                                                   {"order_id": order, **payload}))
        if rng.random() < 0.05:
            add(topics.ESCALATIONS, conv, {
                "escalation_id": f"esc-{count}", "shop_id": shop, "role": role,
                "subject": {"kind": "conversation", "id": conv}, "sla": "first_response",
                "level": 1, "state": "warning", "deadline": at.isoformat(),
                "fired_at": at.isoformat()})
    return out
