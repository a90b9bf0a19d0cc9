"""The router handles a batch while the previous batch's context may still be on its
way to Redis (it is pipelined): on the real Redis, a batch routed before the previous
one's writes landed must route exactly as if they had landed: duplicates dropped,
order stages and conversation roles known."""

from __future__ import annotations

import orjson
import pytest
from aiokafka import ConsumerRecord
from redis.asyncio import Redis

from contracts import INBOUND, topics
from services.core.metrics import Metrics
from services.router.classify import classifier_for
from services.router.context import RouterContext
from services.router.handler import RouterHandler, parse_with_bytes
from tests.conftest import unique
from tests.e2e.test_router import buyer_says, order_event

pytestmark = pytest.mark.e2e


@pytest.fixture
async def redis(stack):
    client = Redis.from_url(stack.redis.url)
    yield client
    await client.aclose()


def says(text: str, *, shop: str, conv: str):
    """A buyer message of buyer b1 that names no order (its stage is that of b1's
    latest order, which only the first batch's writes know)."""
    event = buyer_says(text, shop=shop, conv=conv, buyer="b1")
    del event["payload"]["order_id"]
    return event


def batch(*events) -> list[ConsumerRecord]:
    values = [orjson.dumps(e) for e in events]
    return [ConsumerRecord(INBOUND, 0, i, 0, 0, b"k", v, None, 1, len(v), [])
            for i, v in enumerate(values)]


def roles(outcome) -> list[tuple[str, str]]:
    return [(out.topic, orjson.loads(out.value)["payload"].get("text", ""))
            for out in outcome.outputs if out.topic != topics.ORDERS]


async def test_a_batch_sees_the_previous_batchs_writes_before_they_land(redis) -> None:
    handler = RouterHandler(redis=redis, classifier_for=lambda shop: classifier_for({}),
                            metrics=Metrics("router-pipelined"), max_event_bytes=1 << 20,
                            context_ttl=3600, dedup_ttl=3600)
    shop, order, conv = unique("shop"), unique("order"), unique("conv")
    complaint = says("再不处理我就投诉了！", shop=shop, conv=conv)
    first = await handler(batch(
        order_event("order.paid", shop=shop, order_id=order, buyer="b1"),
        order_event("order.shipped", shop=shop, order_id=order),
        complaint,
    ))
    assert roles(first) == [(topics.ROLE_AFTERSALE, "再不处理我就投诉了！")]

    # The first batch's after-ack writes have not run: Redis knows nothing yet.
    second = await handler(batch(
        complaint,  # redelivered
        says("我的快递到哪了？", shop=shop, conv=unique("conv")),
        says("好的", shop=shop, conv=conv),
    ))
    assert roles(second) == [(topics.ROLE_AFTERSALE, "我的快递到哪了？"),
                             (topics.ROLE_AFTERSALE, "好的")]

    for outcome in (first, second):
        for effect in outcome.after_ack:
            await effect()
    fresh = RouterHandler(redis=redis, classifier_for=lambda shop: classifier_for({}),
                          metrics=Metrics("router-fresh"), max_event_bytes=1 << 20,
                          context_ttl=3600, dedup_ttl=3600)
    third = await fresh(batch(complaint, says("好的", shop=shop, conv=conv)))
    assert roles(third) == [(topics.ROLE_AFTERSALE, "好的")], "both batches' writes landed"



async def test_once_written_redis_is_the_truth_again(redis) -> None:
    """After a partition moved to another replica and back, what that replica wrote
    counts: a router forgets its own writes once they are in Redis."""
    def new_router(name: str) -> RouterHandler:
        return RouterHandler(redis=redis, classifier_for=lambda shop: classifier_for({}),
                             metrics=Metrics(name), max_event_bytes=1 << 20,
                             context_ttl=3600, dedup_ttl=3600)

    async def routed(router: RouterHandler, *events):
        outcome = await router(batch(*events))
        for effect in outcome.after_ack:
            await effect()
        return outcome

    here, there = new_router("router-here"), new_router("router-there")
    shop, order = unique("shop"), unique("order")
    await routed(here, order_event("order.paid", shop=shop, order_id=order, buyer="b1"))
    await routed(there, order_event("order.shipped", shop=shop, order_id=order))
    question = await routed(here, says("我的快递到哪了？", shop=shop, conv=unique("conv")))
    assert roles(question) == [(topics.ROLE_AFTERSALE, "我的快递到哪了？")]


async def test_a_record_redelivered_after_its_batch_was_done_is_not_routed_again(redis) -> None:
    """A router paused past its session had routed, published and written a batch; its
    commit failed, so the replica that took the partition reads the same records again.
    The batch's own later events changed the context meanwhile (the order shipped), and
    routing the buyer message again would send it to the other role as well. Its mark
    says it was done: it is a duplicate."""
    def new_router(name: str) -> RouterHandler:
        return RouterHandler(redis=redis, classifier_for=lambda shop: classifier_for({}),
                             metrics=Metrics(name), max_event_bytes=1 << 20,
                             context_ttl=3600, dedup_ttl=3600)

    shop, order = unique("shop"), unique("order")
    records = batch(order_event("order.paid", shop=shop, order_id=order, buyer="b1"),
                    says("我的快递到哪了？", shop=shop, conv=unique("conv")),
                    order_event("order.shipped", shop=shop, order_id=order))
    zombie = await new_router("router-paused")(records)
    assert roles(zombie) == [(topics.ROLE_PRESALE, "我的快递到哪了？")]  # paid, not shipped
    for effect in zombie.after_ack:  # published and acked, written; the commit fails
        await effect()
    again = await new_router("router-new-owner")(records)
    assert again.outputs == [], "a record whose batch was done is routed again"


async def test_a_record_redelivered_before_its_batch_was_written_goes_where_it_went(
        redis) -> None:
    """A router is SIGKILLed after its batch's outputs were acked, before its after-ack
    write. Meanwhile another partition's router learns that the buyer's order shipped.
    The replica that reads the batch again must send the buyer message where it already
    went, byte for byte: routing it with the newer context would put one message on both
    role topics."""
    def new_router(name: str) -> RouterHandler:
        return RouterHandler(redis=redis, classifier_for=lambda shop: classifier_for({}),
                             metrics=Metrics(name), max_event_bytes=1 << 20,
                             context_ttl=3600, dedup_ttl=3600)

    shop, order = unique("shop"), unique("order")
    paid = await new_router("router-orders")(
        batch(order_event("order.paid", shop=shop, order_id=order, buyer="b1")))
    for effect in paid.after_ack:
        await effect()
    question = batch(says("我的快递到哪了？", shop=shop, conv=unique("conv")))
    killed = await new_router("router-killed")(question)
    assert roles(killed) == [(topics.ROLE_PRESALE, "我的快递到哪了？")]  # paid, not shipped
    shipped = await new_router("router-orders")(
        batch(order_event("order.shipped", shop=shop, order_id=order)))
    for effect in shipped.after_ack:
        await effect()
    again = await new_router("router-new-owner")(question)
    assert [(o.topic, o.key, o.value) for o in again.outputs] == \
        [(o.topic, o.key, o.value) for o in killed.outputs]


async def test_a_late_decision_never_undoes_a_done_mark(redis) -> None:
    """A router paused between routing and storing its decisions resumes after the new
    owner routed, published and marked the same record done: its late write changes
    nothing, and the record stays a duplicate."""
    shop, conv = unique("shop"), unique("conv")
    question = batch(says("这件有M码吗", shop=shop, conv=conv))
    event = parse_with_bytes(question[0].value)[0]
    paused = RouterContext(redis, ttl=3600, dedup_ttl=3600)
    await paused.load([(event, "0:0")])
    assert not paused.is_duplicate(shop, event.event_id)
    paused.decide(shop, event.event_id, {"role": "aftersale"})
    done = await RouterHandler(redis=redis, classifier_for=lambda shop: classifier_for({}),
                               metrics=Metrics("router-new-owner"), max_event_bytes=1 << 20,
                               context_ttl=3600, dedup_ttl=3600)(question)
    for effect in done.after_ack:
        await effect()
    await paused.store_decisions()
    again = RouterContext(redis, ttl=3600, dedup_ttl=3600)
    await again.load([(event, "0:0")])
    assert again.is_duplicate(shop, event.event_id)
