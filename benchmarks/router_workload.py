"""The router benchmark's inbound events: realistic buyer messages and the order life
around them, as an integrator sends them."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import orjson

from contracts import event_key, parse_inbound
from services.demo.catalogue import CATALOGUE
from services.demo.wire import BEIJING

C = CATALOGUE
PRODUCTS = C.product_names
ZH_TEXTS = C.buyer_phrases.zh.every
"""Every simplified-Chinese buyer phrase, whatever the stage: the router sees them all."""
EN_TEXTS = C.buyer_phrases.en.every
AGENT_TEXTS = C.agent_replies.zh + C.agent_replies.en


@dataclass
class Conversation:
    shop: str
    platform: str
    conversation_id: str
    buyer_id: str
    nick: str
    english: bool
    order_id: str | None


@dataclass
class Workload:
    """Serialised events with their Kafka keys; every event causes exactly one output."""

    records: list[tuple[bytes, bytes]]
    mean_bytes: float
    kinds: dict[str, int] = field(default_factory=dict)


class EventFactory:
    """Buyer messages (mostly Chinese, some English, ~8 per conversation) plus agent
    replies, closes and the order, logistics and after-sale events of the same orders,
    over several shops, with fields an integrator typically adds on top of the contract."""

    def __init__(self, seed: int, conversations: int, run: str) -> None:
        self.rng = random.Random(seed)
        self.run = run
        self.count = 0
        shops = [(f"shop-{name}", platform) for name, platform in (
            ("hz-knit", "taobao"), ("gz-denim", "tmall"), ("sz-digital", "jd"),
            ("sh-home", "douyin"), ("cd-kids", "pdd"), ("bj-sport", "taobao"),
            ("xm-tea", "tmall"), ("wh-shoes", "jd"))]
        self.conversations = []
        for i in range(conversations):
            shop, platform = self.rng.choice(shops)
            has_order = self.rng.random() < 0.5
            self.conversations.append(Conversation(
                shop, platform, f"conv-{run}-{i:06d}", f"buyer-{run}-{i:06d}",
                self.rng.choice(C.buyer_nicks),
                self.rng.random() < 0.25,
                f"ord-{run}-{i:06d}" if has_order else None,
            ))
        self.orders = [c for c in self.conversations if c.order_id]

    def _envelope(self, conv: Conversation, event_type: str, at: datetime, payload: dict) -> dict:
        self.count += 1
        n = self.count
        return {
            "event_id": f"evt-{self.run}-{n:08d}",
            "event_type": event_type,
            "schema_version": 1,
            "occurred_at": at.isoformat(timespec="milliseconds"),
            "shop_id": conv.shop,
            "platform": conv.platform,
            "payload": payload,
            "trace_id": f"trace-{uuid.UUID(int=self.rng.getrandbits(128)).hex}",
            "x_integrator": {"source": "openapi-gateway", "region": "cn-hangzhou",
                             "received_at": at.isoformat(timespec="milliseconds"),
                             "request_id": uuid.UUID(int=self.rng.getrandbits(128)).hex},
        }

    def _text(self, conv: Conversation) -> str:
        """One or two sentences with an opener and a closer: few exact repeats, like real
        chat (a classifier cache keyed by text must not flatter the result)."""
        rng = self.rng
        if conv.english:
            parts = [rng.choice(C.buyer_openers.en), rng.choice(EN_TEXTS),
                     rng.choice(C.buyer_closers.en)]
        else:
            parts = [rng.choice(C.buyer_openers.zh), rng.choice(ZH_TEXTS)]
            if rng.random() < 0.3:
                parts.append("，" + rng.choice(ZH_TEXTS))
            parts.append(rng.choice(C.buyer_closers.zh))
        return C.fill("".join(parts), rng, order_id=conv.order_id or "ord-unknown")

    def event(self, at: datetime) -> dict:
        rng, roll = self.rng, self.rng.random()
        conv = rng.choice(self.conversations)
        if roll < 0.78:
            payload = {"conversation_id": conv.conversation_id, "buyer_id": conv.buyer_id,
                       "message_id": f"msg-{self.run}-{self.count:08d}", "text": self._text(conv),
                       "buyer_nick": conv.nick, "client": rng.choice(["ios", "android", "pc"])}
            if conv.order_id and rng.random() < 0.5:
                payload["order_id"] = conv.order_id
            if rng.random() < 0.15:
                payload["attachments"] = [{"type": "image",
                                           "url": f"https://img.example.cn/chat/{rng.getrandbits(40):x}.jpg"}]
            return self._envelope(conv, "buyer.message", at, payload)
        if roll < 0.86:
            return self._envelope(conv, "agent.message", at, {
                "conversation_id": conv.conversation_id, "agent_id": f"agent-{rng.randint(1, 40)}",
                "message_id": f"msg-{self.run}-{self.count:08d}", "text": rng.choice(AGENT_TEXTS)})
        if roll < 0.88:
            return self._envelope(conv, "conversation.closed", at, {
                "conversation_id": conv.conversation_id, "closed_by": "buyer"})
        return self._order_event(rng.choice(self.orders), at)

    def _order_event(self, conv: Conversation, at: datetime) -> dict:
        rng = self.rng
        base = {"order_id": conv.order_id}
        kind = rng.choices(["order.created", "order.paid", "order.shipped", "logistics.update",
                            "aftersale.requested", "review.posted"], [3, 3, 2, 2, 1, 1])[0]
        product = rng.choice(PRODUCTS)
        items = [{"sku": f"sku-{rng.randint(1000, 9999)}",
                  "name": f"{product} {rng.choice(C.colours)} {rng.choice(C.sizes)}",
                  "quantity": rng.randint(1, 3), "price": 189.0}]
        if kind in ("order.created", "order.paid"):
            payload = {**base, "buyer_id": conv.buyer_id, "items": items, "amount": 189.0}
        elif kind == "order.shipped":
            carrier = rng.choice(C.carriers)
            payload = {**base, "carrier": carrier.name,
                       "tracking_no": f"{carrier.code}{rng.getrandbits(40)}"}
        elif kind == "logistics.update":
            status = rng.choice(["in_transit", "out_for_delivery", "delivered"])
            payload = {**base, "tracking_no": f"ZT{rng.getrandbits(40)}", "status": status,
                       "description": C.scans[status], "location": rng.choice(C.cities)}
        elif kind == "aftersale.requested":
            payload = {**base, "case_id": f"case-{conv.order_id}", "buyer_id": conv.buyer_id,
                       "kind": "return_refund", "reason": "尺码不合适", "amount": 189.0}
        else:
            rating = rng.randint(1, 5)
            payload = {**base, "buyer_id": conv.buyer_id, "rating": rating,
                       "text": C.reviews[rating]}
        return self._envelope(conv, kind, at, payload)


def make_workload(n: int, *, seed: int, run: str) -> Workload:
    factory = EventFactory(seed, max(50, n // 8), run)
    start = datetime(2026, 11, 22, 9, 0, tzinfo=BEIJING)
    records, kinds, total = [], {}, 0
    for i in range(n):
        data = factory.event(start + timedelta(milliseconds=37 * i))
        raw = orjson.dumps(data)
        key = event_key(parse_inbound(raw)).encode()  # also proves every event is valid
        records.append((key, raw))
        kinds[data["event_type"]] = kinds.get(data["event_type"], 0) + 1
        total += len(raw)
    return Workload(records, total / max(1, n), kinds)
