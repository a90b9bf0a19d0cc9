"""The router with the console's events on the real broker and Redis: supervisor
actions validated and sent to the role topic they name with the contract's keys; a
published reply script rides on the next routed buyer message of its intent and
language, and a retired one no longer does."""

from __future__ import annotations

import orjson
import pytest
from redis.asyncio import Redis

from contracts import example, topics
from services.router.reply_scripts import scripts_key
from tests.conftest import unique
from tests.support.kafka_io import wait_until
from tests.support.services import running

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
async def router(stack, kafka):
    async with running("router", stack.settings()) as app:
        yield app


def event(kind: str, shop: str, **payload):
    return example(kind, event_id=unique("e"), shop_id=shop, payload=payload)


async def first(kafka, topic: str, match, timeout: float = 30):
    found = await kafka.collect(topic, lambda body, _r: match(body), timeout=timeout)
    assert found, f"nothing on {topic}"
    return found[0]


async def test_actions_go_to_the_role_they_name_keyed_as_the_contract_says(router, kafka):
    shop, order = unique("shop"), unique("o")
    ack = event("escalation.acknowledged", shop, subject={"kind": "order", "id": order},
                role="presale")
    move = event("conversation.reassigned", shop, conversation_id=unique("c"), role="aftersale")
    bad = event("conversation.reassigned", shop, conversation_id=unique("c"))
    del bad["payload"]["to_agent_id"]
    for body in (ack, move, bad):
        await kafka.send(topics.INBOUND, body)
    body, record = await first(kafka, topics.ROLE_PRESALE, lambda b: b["shop_id"] == shop)
    assert body["event_id"] == ack["event_id"] and record.key.decode() == order
    body, record = await first(kafka, topics.ROLE_AFTERSALE, lambda b: b["shop_id"] == shop)
    assert record.key.decode() == move["payload"]["conversation_id"]
    letter, _ = await first(kafka, topics.DLQ, lambda b: shop in b.get("raw", ""))
    assert (letter["reason"], letter["detail"].split(":")[0]) == (
        "schema_violation", "payload.to_agent_id")


async def kept(stack, shop: str, script_id: str, present: bool) -> None:
    """Wait until the router has kept (or dropped) the script: a message routed before
    that, on another partition, may rightly go without it."""
    redis = Redis.from_url(stack.redis.url)
    try:
        assert await wait_until(
            lambda: _has(redis, shop, script_id, present), timeout=30)
    finally:
        await redis.aclose()


async def _has(redis: Redis, shop: str, script_id: str, present: bool) -> bool:
    return bool(await redis.hexists(scripts_key(shop), script_id)) is present


async def test_a_published_script_rides_on_the_next_buyer_message(router, kafka, stack):
    shop = unique("shop")
    script = event("reply_script.published", shop, script_id=unique("s"),
                   intent="urge_shipment", locale="zh-CN", text="亲，48小时内发货哦")
    await kafka.send(topics.INBOUND, script, script["payload"]["script_id"])
    await kept(stack, shop, script["payload"]["script_id"], True)

    async def routed(text: str) -> dict:
        conv = unique("c")
        await kafka.send(topics.INBOUND, event("buyer.message", shop, conversation_id=conv,
                                               buyer_id="b1", message_id=unique("m"),
                                               text=text), conv)
        body, _ = await first(kafka, topics.ROLE_PRESALE,
                              lambda b: b["payload"].get("conversation_id") == conv)
        return body["routing"]

    zh = await routed("什么时候发货啊，急")
    assert zh["intent"] == "urge_shipment"
    assert zh["suggested_replies"] == [{"script_id": script["payload"]["script_id"],
                                        "text": "亲，48小时内发货哦"}]
    en = await routed("when will my order ship? please hurry")
    assert en["intent"] == "urge_shipment" and "suggested_replies" not in en
    retired = {**script, "event_id": unique("e"),
               "payload": {**script["payload"], "retired": True}}
    await kafka.send(topics.INBOUND, retired, script["payload"]["script_id"])
    await kept(stack, shop, script["payload"]["script_id"], False)
    assert "suggested_replies" not in await routed("还不发货？快点发货")


async def test_a_script_is_suggested_by_the_next_batch_before_it_reached_redis(stack):
    """The router is pipelined: the next batch is routed while the previous one's writes
    are on their way to Redis. It sees the script from those pending writes."""
    from aiokafka import ConsumerRecord

    from services.core.metrics import Metrics
    from services.router.classify import classifier_for
    from services.router.handler import RouterHandler

    redis = Redis.from_url(stack.redis.url)
    handler = RouterHandler(redis=redis, classifier_for=lambda shop: classifier_for({}),
                            metrics=Metrics("router-scripts"), max_event_bytes=64 * 1024,
                            context_ttl=3600, dedup_ttl=3600)
    shop, offsets = unique("shop"), iter(range(100))

    def batch(*events: dict) -> list[ConsumerRecord]:
        return [ConsumerRecord(topics.INBOUND, 0, next(offsets), 0, 0, b"k", orjson.dumps(e),
                               None, 1, 1, []) for e in events]

    def asking() -> dict:
        return event("buyer.message", shop, conversation_id=unique("c"), buyer_id="b1",
                     message_id=unique("m"), text="亲，什么时候发货")

    def suggested(outcome) -> list:
        [routed] = [orjson.loads(o.value) for o in outcome.outputs]
        return routed["routing"].get("suggested_replies", [])

    script = event("reply_script.published", shop, script_id="s1", intent="urge_shipment",
                   locale="zh-CN", text="48小时内发货")
    try:
        published = await handler(batch(script))
        assert published.outputs == [], "a script goes to no topic"
        pending = await handler(batch(asking()))
        assert suggested(pending) == [{"script_id": "s1", "text": "48小时内发货"}]
        for outcome in (published, pending):
            for effect in outcome.after_ack:
                await effect()
        assert suggested(await handler(batch(asking()))) == [
            {"script_id": "s1", "text": "48小时内发货"}], "and from Redis"
    finally:
        await redis.aclose()
