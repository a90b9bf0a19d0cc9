"""A pre-sale day as the role topic and kefu.orders carry it: many shops and agents,
conversations of three buyer turns and two replies that span batches, every fourth one
closed, agents going away and coming back, orders paid and shipped.

Event times are spread over the minute before the run, so every response clock is
still running while the backlog is read: the run measures ingestion, not firing."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson

from benchmarks.router_workload import ZH_TEXTS
from contracts import topics
from services.demo.catalogue import CATALOGUE

TURNS = ("buyer", "reply", "buyer", "reply", "buyer")  # three buyer turns, two replies
STEP_S = 4.0  # seconds between a conversation's turns
ZTO = CATALOGUE.carrier("ZT")


@dataclass
class RoleWorkload:
    records: list[tuple[str, bytes, bytes]]  # topic, key, value
    kinds: dict[str, int]
    mean_bytes: float


def make_role_workload(n: int, *, shops: int, agents: int, seed: int, run: str,
                       role: str = "presale", span_s: float = 60.0) -> RoleWorkload:
    rng = random.Random(seed)
    start = datetime.now(UTC) - timedelta(seconds=span_s)
    timed: list[tuple[float, str, str, dict]] = []  # (seconds, topic, key, event)
    counter = iter(range(10**9))

    def envelope(kind: str, shop: str, at: float, payload: dict, routed: bool = False) -> dict:
        """As the router forwards an integrator's event: with the fields integrators add
        on top of the contract (the same as benchmarks/router_workload.py)."""
        when = (start + timedelta(seconds=at)).isoformat(timespec="milliseconds")
        body = {"event_id": f"{run}-{next(counter)}", "event_type": kind, "schema_version": 1,
                "occurred_at": when, "shop_id": shop, "platform": "taobao", "payload": payload,
                "trace_id": f"trace-{uuid.UUID(int=rng.getrandbits(128)).hex}",
                "x_integrator": {"source": "openapi-gateway", "region": "cn-hangzhou",
                                 "received_at": when,
                                 "request_id": uuid.UUID(int=rng.getrandbits(128)).hex}}
        if routed:
            urgent = rng.random() < 0.02
            body["routing"] = {
                "intent": "complaint" if urgent else "product_inquiry", "role": role,
                "priority": "urgent" if urgent else "normal", "confidence": 0.9,
                "reason": "keywords: 尺码", "routed_at": body["occurred_at"]}
        return body

    role_topic = topics.role_topic(role)
    shop_ids = [f"shop-{run}-{s:03d}" for s in range(shops)]
    for shop in shop_ids:
        for a in range(agents):
            agent = f"{shop}-agent-{a:02d}"
            timed.append((0.0, role_topic, agent, envelope("agent.status", shop, 0.0, {
                "agent_id": agent, "roles": [role], "status": "online", "max_concurrent": 5})))
    per_conv = len(TURNS) + 0.25 + 2 / 3  # turns, a close per 4, an order per 3 (2 events)
    conversations = max(1, int((n - shops * agents) / per_conv))
    window = span_s - STEP_S * len(TURNS)
    for i in range(conversations):
        shop, conv = rng.choice(shop_ids), f"conv-{run}-{i:07d}"
        t0 = window * i / conversations
        buyer = f"buyer-{run}-{i:07d}"
        for turn, who in enumerate(TURNS):
            at = t0 + turn * STEP_S
            if who == "buyer":
                text = CATALOGUE.fill(rng.choice(ZH_TEXTS), rng, order_id="ord")
                payload = {"conversation_id": conv, "buyer_id": buyer, "text": text,
                           "message_id": f"m-{i}-{turn}",
                           "buyer_nick": rng.choice(CATALOGUE.buyer_nicks),
                           "client": rng.choice(["ios", "android", "pc"])}
                if rng.random() < 0.15:
                    payload["attachments"] = [{"type": "image", "url": "https://img.example.cn/"
                                               f"chat/{rng.getrandbits(40):x}.jpg"}]
                timed.append((at, role_topic, conv, envelope("buyer.message", shop, at, payload,
                                                             routed=True)))
            else:
                agent = f"{shop}-agent-{rng.randrange(agents):02d}"
                timed.append((at, role_topic, conv, envelope("agent.message", shop, at, {
                    "conversation_id": conv, "agent_id": agent, "message_id": f"m-{i}-{turn}",
                    "text": rng.choice(CATALOGUE.agent_replies.zh)})))
        end = t0 + len(TURNS) * STEP_S
        if i % 4 == 0:
            timed.append((end, role_topic, conv, envelope("conversation.closed", shop, end, {
                "conversation_id": conv, "closed_by": "buyer"})))
        if i % 3 == 0:
            order = f"ord-{run}-{i:07d}"
            timed.append((t0, topics.ORDERS, order, envelope("order.paid", shop, t0, {
                "order_id": order, "buyer_id": buyer, "amount": 99.0})))
            timed.append((end, topics.ORDERS, order, envelope("order.shipped", shop, end, {
                "order_id": order, "carrier": ZTO.name, "tracking_no": f"{ZTO.code}{i}"})))
        if i % 50 == 0:  # presence changes: an agent steps away, and comes back later
            agent = f"{shop}-agent-{rng.randrange(agents):02d}"
            for at, status in ((t0, "away"), (t0 + 2 * STEP_S, "online")):
                timed.append((at, role_topic, agent, envelope("agent.status", shop, at, {
                    "agent_id": agent, "roles": [role], "status": status,
                    "max_concurrent": 5})))
    timed.sort(key=lambda item: item[0])
    records, kinds, total = [], {}, 0
    for _, topic, key, event in timed:
        raw = orjson.dumps(event)
        records.append((topic, key.encode(), raw))
        kinds[event["event_type"]] = kinds.get(event["event_type"], 0) + 1
        total += len(raw)
    return RoleWorkload(records, kinds, total / max(1, len(records)))
