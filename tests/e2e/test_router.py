"""The router on the real broker and Redis: routing, order stages, stickiness,
duplicates and the DLQ (docs/contract.md, "Topics", "Guarantees")."""

from __future__ import annotations

import orjson
import pytest

from contracts import example, parse_routed, topics
from services.core.dlq import MAX_RAW_BYTES
from tests.conftest import unique
from tests.support.services import running

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
async def router(stack, kafka):
    async with running("router", stack.settings()) as app:
        yield app


def buyer_says(text: str, *, shop: str, conv: str, buyer: str = "b1", order_id=None, **env):
    payload = {"conversation_id": conv, "buyer_id": buyer, "message_id": unique("m"), "text": text}
    if order_id:
        payload["order_id"] = order_id
    return example("buyer.message", event_id=unique("e"), shop_id=shop, payload=payload, **env)


def order_event(kind: str, *, shop: str, order_id: str, buyer: str = "b1", **payload):
    base = {"order_id": order_id}
    if kind in ("order.created", "order.paid"):
        base["buyer_id"] = buyer
    base.update(payload)
    return example(kind, event_id=unique("e"), shop_id=shop, payload=base)


def on(shop: str):
    return lambda body, _record: body.get("shop_id") == shop


async def routed(kafka, topic: str, shop: str, count: int = 1, settle: float = 0.0):
    found = await kafka.collect(topic, on(shop), count=count, timeout=30, settle=settle)
    return [body for body, _ in found]


async def test_buyer_message_goes_to_its_role_with_routing(router, kafka):
    shop, conv = unique("shop"), unique("c")
    await kafka.send(
        topics.INBOUND, buyer_says("亲，这件衣服有M码吗？", shop=shop, conv=conv), conv
    )
    [body] = await routed(kafka, topics.ROLE_PRESALE, shop)
    routing = body["routing"]
    assert routing["intent"] == "product_inquiry"
    assert routing["role"] == "presale" and routing["priority"] == "normal"
    assert 0 <= routing["confidence"] <= 1 and routing["reason"]
    assert body["payload"]["conversation_id"] == conv


async def test_key_is_the_conversation_and_extra_fields_pass_through(router, kafka):
    shop, conv = unique("shop"), unique("c")
    event = buyer_says("hello", shop=shop, conv=conv)
    event["x_integrator"] = {"tenant": 7}
    event["payload"]["x_channel"] = "app"
    await kafka.send(topics.INBOUND, event, conv)
    [(body, record)] = await kafka.collect(topics.ROLE_PRESALE, on(shop), timeout=30)
    assert record.key == conv.encode()
    assert body["x_integrator"] == {"tenant": 7} and body["payload"]["x_channel"] == "app"


async def test_complaint_is_urgent_aftersale(router, kafka):
    shop, conv = unique("shop"), unique("c")
    text = "你们再不处理我就去投诉，给差评！"
    await kafka.send(topics.INBOUND, buyer_says(text, shop=shop, conv=conv), conv)
    [body] = await routed(kafka, topics.ROLE_AFTERSALE, shop)
    assert body["routing"]["intent"] == "complaint"
    assert body["routing"]["priority"] == "urgent"


async def test_logistics_question_follows_the_order_stage(router, kafka):
    shop, shipped, unshipped = unique("shop"), unique("o"), unique("o")
    for event in (
        order_event("order.paid", shop=shop, order_id=shipped),
        order_event("order.shipped", shop=shop, order_id=shipped, carrier="SF", tracking_no="SF1"),
        order_event("order.paid", shop=shop, order_id=unshipped, buyer="b2"),
    ):
        await kafka.send(topics.INBOUND, event, event["payload"]["order_id"])
    await routed(kafka, topics.ORDERS, shop, count=3)
    c1, c2 = unique("c"), unique("c")
    await kafka.send(
        topics.INBOUND, buyer_says("我的快递到哪了？", shop=shop, conv=c1, order_id=shipped), c1
    )
    await kafka.send(
        topics.INBOUND, buyer_says("where is my parcel?", shop=shop, conv=c2, buyer="b2"), c2
    )
    [after] = await routed(kafka, topics.ROLE_AFTERSALE, shop)
    [before] = await routed(kafka, topics.ROLE_PRESALE, shop)
    assert after["payload"]["conversation_id"] == c1
    assert after["routing"]["intent"] == "logistics_inquiry"
    assert before["payload"]["conversation_id"] == c2, "buyer b2's only order is unshipped"


async def test_conversation_role_is_sticky(router, kafka):
    shop, conv = unique("shop"), unique("c")
    await kafka.send(
        topics.INBOUND, buyer_says("收到的衣服破了个洞，质量太差", shop=shop, conv=conv), conv
    )
    await routed(kafka, topics.ROLE_AFTERSALE, shop)
    await kafka.send(topics.INBOUND, buyer_says("在吗", shop=shop, conv=conv), conv)
    agent_reply = example(
        "agent.message",
        event_id=unique("e"),
        shop_id=shop,
        payload={
            "conversation_id": conv,
            "agent_id": "a1",
            "message_id": unique("m"),
            "text": "您好，在的",
        },
    )
    closed = example(
        "conversation.closed", event_id=unique("e"), shop_id=shop, payload={"conversation_id": conv}
    )
    await kafka.send(topics.INBOUND, agent_reply, conv)
    await kafka.send(topics.INBOUND, closed, conv)
    bodies = await routed(kafka, topics.ROLE_AFTERSALE, shop, count=4)
    assert [b["event_type"] for b in bodies] == [
        "buyer.message",
        "buyer.message",
        "agent.message",
        "conversation.closed",
    ]
    assert bodies[1]["routing"]["intent"] == "greeting"
    assert await routed(kafka, topics.ROLE_PRESALE, shop, count=0, settle=1.0) == []


async def test_a_conversation_moved_to_aftersale_is_closed_for_presale(router, kafka):
    """Pre-sale must stop its clocks and free its agent when after-sale takes the
    conversation over: it never sees the after-sale agent's replies."""
    shop, conv = unique("shop"), unique("c")
    question = buyer_says("亲，这件衣服有M码吗？", shop=shop, conv=conv)
    await kafka.send(topics.INBOUND, question, conv)
    await routed(kafka, topics.ROLE_PRESALE, shop)
    complaint = buyer_says("收到的衣服破了个洞，质量太差，我要退货", shop=shop, conv=conv)
    await kafka.send(topics.INBOUND, complaint, conv)
    [moved] = await routed(kafka, topics.ROLE_AFTERSALE, shop)
    assert moved["event_id"] == complaint["event_id"]
    first, close = await routed(kafka, topics.ROLE_PRESALE, shop, count=2, settle=1.0)
    assert first["event_type"] == "buyer.message"
    assert close["event_type"] == "conversation.closed"
    assert close["payload"] == {"conversation_id": conv, "closed_by": "handoff:aftersale"}
    assert close["occurred_at"] == complaint["occurred_at"], "pre-sale's clock stops then"
    assert close["event_id"] not in (first["event_id"], complaint["event_id"])
    assert close["trace_id"] == complaint["trace_id"]
    parse_routed(orjson.dumps(close))  # what the role service reads: a valid event


async def test_agent_status_goes_to_each_role_the_agent_serves(router, kafka):
    shop, agent = unique("shop"), unique("agent")
    status = example(
        "agent.status",
        event_id=unique("e"),
        shop_id=shop,
        payload={"agent_id": agent, "roles": ["presale", "aftersale"], "status": "online"},
    )
    await kafka.send(topics.INBOUND, status, agent)
    for topic in (topics.ROLE_PRESALE, topics.ROLE_AFTERSALE):
        [(body, record)] = await kafka.collect(topic, on(shop), timeout=30)
        assert record.key == agent.encode() and body["payload"]["agent_id"] == agent


async def test_order_events_go_to_orders_keyed_by_order(router, kafka):
    shop, order_id = unique("shop"), unique("o")
    kinds = [
        "order.created",
        "order.paid",
        "order.shipped",
        "logistics.update",
        "aftersale.requested",
        "review.posted",
    ]
    for kind in kinds:
        event = example(kind, event_id=unique("e"), shop_id=shop, payload={"order_id": order_id})
        await kafka.send(topics.INBOUND, event, order_id)
    found = await kafka.collect(topics.ORDERS, on(shop), count=len(kinds), timeout=30)
    assert [body["event_type"] for body, _ in found] == kinds, "order per key is kept"
    assert {record.key for _, record in found} == {order_id.encode()}


async def test_same_event_twice_has_the_effect_of_once(router, kafka):
    shop, conv = unique("shop"), unique("c")
    event = buyer_says("能便宜点吗", shop=shop, conv=conv)
    await kafka.send(topics.INBOUND, event, conv)
    await routed(kafka, topics.ROLE_PRESALE, shop)
    await kafka.send(topics.INBOUND, event, conv)
    await kafka.send(topics.INBOUND, event, conv)
    marker = buyer_says("还有别的颜色吗", shop=shop, conv=conv)
    await kafka.send(topics.INBOUND, marker, conv)
    bodies = await routed(kafka, topics.ROLE_PRESALE, shop, count=2, settle=1.0)
    assert [b["event_id"] for b in bodies] == [event["event_id"], marker["event_id"]]


def _valid_bytes(shop: str) -> bytes:
    import orjson

    return orjson.dumps(buyer_says("hi", shop=shop, conv=unique("c")))


BAD_INPUTS = {
    "invalid_json": lambda shop: b'{"event_id": "x", ',
    "invalid_encoding": lambda shop: b'{"event_id": "\xff\xfe"}',
    "schema_violation": lambda shop: _valid_bytes(shop).replace(b'"buyer_id"', b'"buyer_idx"'),
    "unsupported_schema_version": lambda shop: _valid_bytes(shop).replace(
        b'"schema_version":1', b'"schema_version":2'
    ),
    "unknown_event_type": lambda shop: _valid_bytes(shop).replace(
        b'"buyer.message"', b'"buyer.sneezed"'
    ),
    "naive_timestamp": lambda shop: _valid_bytes(shop).replace(b"+08:00", b""),
    "oversize": lambda shop: _valid_bytes(shop)[:-1] + b', "pad": "' + b"x" * 1_100_000 + b'"}',
}


@pytest.mark.parametrize("reason", sorted(BAD_INPUTS))
async def test_every_invalid_input_lands_in_the_dlq_with_its_bytes(router, kafka, reason):
    key = unique("k")
    raw = BAD_INPUTS[reason](unique("shop"))
    await kafka.send(topics.INBOUND, raw, key)
    found = await kafka.collect(topics.DLQ, lambda b, r: r.key == key.encode(), timeout=30)
    [(letter, _)] = found
    assert letter["reason"] == reason
    assert letter["source_topic"] == topics.INBOUND and letter["service"] == "router"
    assert isinstance(letter["partition"], int) and isinstance(letter["offset"], int)
    assert letter["detail"]
    import base64

    original = (
        base64.b64decode(letter["raw"])
        if letter.get("raw_encoding") == "base64"
        else letter["raw"].encode()
    )
    if reason == "oversize":
        assert letter["raw_truncated"] is True and letter["raw_size"] == len(raw)
        # as much as fits the letter, written as JSON: 960 KiB (a few quotes escaped)
        assert raw.startswith(original) and MAX_RAW_BYTES - 1000 < len(original) < MAX_RAW_BYTES
    else:
        assert original == raw


async def test_schema_violation_names_the_field(router, kafka):
    key, shop = unique("k"), unique("shop")
    event = buyer_says("hi", shop=shop, conv=key)
    event["payload"]["text"] = 42
    await kafka.send(topics.INBOUND, event, key)
    [(letter, _)] = await kafka.collect(topics.DLQ, lambda b, r: r.key == key.encode(), timeout=30)
    assert letter["reason"] == "schema_violation" and "payload.text" in letter["detail"]


async def test_garbage_does_not_block_its_partition(router, kafka):
    shop, conv = unique("shop"), unique("c")
    await kafka.send(topics.INBOUND, b"\x00\x01 not json at all", conv)
    await kafka.send(topics.INBOUND, b"[1, 2, 3]", conv)
    await kafka.send(topics.INBOUND, buyer_says("有货吗", shop=shop, conv=conv), conv)
    [body] = await routed(kafka, topics.ROLE_PRESALE, shop)
    assert body["payload"]["conversation_id"] == conv
