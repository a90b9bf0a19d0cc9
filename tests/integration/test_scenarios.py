"""Scenarios written once and run on two backends (docs/architecture.md, "Code layout"):
the in-memory broker for speed and the real embedded broker for truth. Redis is real in
both."""

from __future__ import annotations

from contextlib import AsyncExitStack

import pytest

from contracts import example, topics
from services.cli.services import create_app
from services.core.embedded import free_port
from tests.conftest import unique
from tests.support.memory_broker import MemoryBroker
from tests.support.services import running


@pytest.fixture(scope="module", params=["memory", "kafka"])
async def system(request, stack, kafka):
    """A router and a presale service on the chosen backend, shared by the module's
    scenarios (each uses shops and keys of its own); yields (send, collect)."""
    settings = stack.settings()
    if request.param == "memory":
        broker = MemoryBroker()
        apps = [create_app(name, settings) for name in ("router", "presale")]
        for app in apps:
            broker.attach(app)
        yield broker
        await broker.close()
        for app in apps:
            app.stopping.set()
            await app.redis.aclose()
        return
    async with AsyncExitStack() as services:
        for name in ("router", "presale"):
            own_port = settings.model_copy(update={"http_port": free_port()})
            await services.enter_async_context(running(name, own_port))
        yield kafka


def of_shop(shop):
    return lambda body, _record: body.get("shop_id") == shop


def agent_online(shop: str, agent: str) -> dict:
    return example("agent.status", event_id=unique("e"), shop_id=shop,
                   payload={"agent_id": agent, "roles": ["presale"], "status": "online",
                            "max_concurrent": 2})


def buyer(shop: str, conv: str, text: str, **payload) -> dict:
    return example("buyer.message", event_id=unique("e"), shop_id=shop,
                   payload={"conversation_id": conv, "buyer_id": "b1",
                            "message_id": unique("m"), "text": text, **payload})


async def test_a_question_is_routed_and_assigned_to_the_online_agent(system):
    shop, conv = unique("shop"), unique("c")
    await system.send(topics.INBOUND, agent_online(shop, "a1"), "a1")
    await system.collect(topics.ROLE_PRESALE, of_shop(shop))
    await system.send(topics.INBOUND, buyer(shop, conv, "Do you have this in XL?"), conv)
    [(routed, _)] = await system.collect(
        topics.ROLE_PRESALE, lambda b, r: of_shop(shop)(b, r) and "routing" in b)
    assert routed["routing"]["intent"] == "product_inquiry"
    [(assignment, record)] = await system.collect(topics.ASSIGNMENTS, of_shop(shop))
    assert assignment["agent_id"] == "a1" and assignment["reason"] == "least_loaded"
    assert record.key == conv.encode()


async def test_a_repeated_event_has_one_effect(system):
    shop, conv = unique("shop"), unique("c")
    event = buyer(shop, conv, "能便宜点吗？")
    for _ in range(3):
        await system.send(topics.INBOUND, event, conv)
    found = await system.collect(topics.ROLE_PRESALE, of_shop(shop), count=1, settle=1.0)
    assert [body["event_id"] for body, _ in found] == [event["event_id"]]


async def test_an_order_stage_decides_where_a_parcel_question_goes(system):
    shop, conv, order = unique("shop"), unique("c"), unique("o")
    for kind, payload in (("order.paid", {"buyer_id": "b1"}),
                          ("order.shipped", {"carrier": "SF", "tracking_no": "SF1"})):
        await system.send(topics.INBOUND, example(kind, event_id=unique("e"), shop_id=shop,
                                                  payload={"order_id": order, **payload}), order)
    await system.collect(topics.ORDERS, of_shop(shop), count=2)
    await system.send(topics.INBOUND, buyer(shop, conv, "我的快递到哪了", order_id=order), conv)
    [(routed, _)] = await system.collect(topics.ROLE_AFTERSALE, of_shop(shop))
    assert routed["routing"]["intent"] == "logistics_inquiry"


async def test_garbage_is_dead_lettered_with_its_bytes(system):
    key = unique("k")
    await system.send(topics.INBOUND, b"{not json", key)
    [(letter, _)] = await system.collect(topics.DLQ, lambda b, r: r.key == key.encode())
    assert letter["reason"] == "invalid_json" and letter["raw"] == "{not json"
