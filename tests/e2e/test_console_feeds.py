"""The console's feeds on a real Redis: the latest 50 escalations of a shop, each once
however often it is delivered; dead letters filed under the shop their original names
(or kept for admins when it names none), without the original bytes, which may hold a
buyer's phone number or address."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest
from aiokafka import ConsumerRecord
from redis.asyncio import Redis

from contracts import DeadLetter, example, topics
from services.console import keys
from services.console.live.consumer import FeedHandler
from services.console.live.feeds import Feeds
from tests.conftest import unique

pytestmark = pytest.mark.e2e
T0 = datetime.now(UTC)


def record(topic: str, offset: int, body: dict | bytes) -> ConsumerRecord:
    value = body if isinstance(body, bytes) else orjson.dumps(body)
    return ConsumerRecord(topic, 0, offset, 0, 0, b"k", value, None, 1, len(value), [])


def escalation(shop: str, n: int) -> dict:
    return {"escalation_id": f"esc-{n}", "shop_id": shop, "role": "presale",
            "subject": {"kind": "conversation", "id": f"c{n}"}, "sla": "first_response",
            "level": 2, "state": "breached", "deadline": T0.isoformat(),
            "fired_at": (T0 + timedelta(seconds=n)).isoformat(), "extra_field": n}


def letter(raw: bytes) -> dict:
    return DeadLetter.from_bytes(raw, reason="schema_violation", detail="payload.rating: bad",
                                 source_topic=topics.INBOUND, partition=0, offset=7,
                                 service="router", failed_at=T0).model_dump(mode="json")


async def handled(handler: FeedHandler, records: list[ConsumerRecord]) -> None:
    outcome = await handler(records)
    assert outcome.outputs == []
    for effect in outcome.after_ack:
        await effect()


async def test_latest_50_escalations_once_each_and_letters_without_personal_data(stack):
    redis, shop, touched = Redis.from_url(stack.redis.url), unique("shop"), []
    handler = FeedHandler(Feeds(redis), touched.append)
    try:
        batch = [record(topics.ESCALATIONS, n, escalation(shop, n)) for n in range(55)]
        await handled(handler, batch)
        await handled(handler, batch[-5:])  # redelivered
        kept = await redis.zrevrange(keys.escalations(shop), 0, -1)
        assert [k.decode() for k in kept] == [f"esc-{n}" for n in range(54, 4, -1)]
        assert orjson.loads(await redis.hget(keys.escalation(shop), "esc-54"))[
            "extra_field"] == 54, "as on the topic"
        assert touched[-1] == {shop}
        phone = "13812345678"
        bad = example("review.posted", shop_id=shop, payload={"rating": 9,
                                                              "text": f"call me {phone}"})
        await handled(handler, [record(topics.DLQ, 0, letter(orjson.dumps(bad))),
                                record(topics.DLQ, 1, letter(b"\xff not json")),
                                record(topics.DLQ, 2, b"not a letter")])
        [filed] = await redis.zrange(keys.letters(shop), 0, -1)
        assert orjson.loads(filed)["reason"] == "schema_violation" and phone.encode() not in filed
        assert await redis.zcard(keys.ORPHAN_LETTERS) >= 1
    finally:
        await redis.aclose()
