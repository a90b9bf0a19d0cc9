"""Awkward records never block their partition (issue #13): a record whose dead letter
would be bigger than a Kafka message may be once escaped (350,000 bytes of U+0001: every
one becomes `\\u0001` in JSON) or that is oversize and escapes badly, is dead-lettered
within the limit, and the valid event behind it on the same key is routed."""

from __future__ import annotations

import base64

import orjson
import pytest

from contracts import example, topics
from tests.conftest import unique
from tests.support.services import running

pytestmark = pytest.mark.e2e

AWKWARD = {
    "control characters": b"\x01" * 350_000,  # valid UTF-8, not JSON, 6x escaped
    "quotes, oversize": b'"' * 1_100_000,  # over KEFU_MAX_EVENT_BYTES, 2x escaped
    "not UTF-8, oversize": b"\xff" * 1_500_000,
}


@pytest.mark.parametrize("name", list(AWKWARD))
async def test_an_awkward_record_is_dead_lettered_and_the_next_event_routed(stack, kafka, name):
    raw, shop, conv = AWKWARD[name], unique("shop"), unique("c")
    event = example("buyer.message", event_id=unique("e"), shop_id=shop, payload={
        "conversation_id": conv, "buyer_id": "b1", "message_id": unique("m"), "text": "在吗"})
    async with running("router", stack.settings()):
        await kafka.send(topics.INBOUND, raw, conv)
        await kafka.send(topics.INBOUND, orjson.dumps(event), conv)
        [(routed, _)] = await kafka.collect(
            topics.ROLE_PRESALE, lambda b, _r: b.get("event_id") == event["event_id"], timeout=30)
        [(letter, record)] = await kafka.collect(
            topics.DLQ, lambda b, r: r.key == conv.encode(), timeout=30)
    assert routed["routing"]["intent"] == "greeting"
    assert len(record.value) <= stack.settings().kafka_max_message_bytes
    assert letter["reason"] in ("invalid_json", "oversize", "invalid_encoding")
    kept = base64.b64decode(letter["raw"]) if letter.get("raw_encoding") else \
        letter["raw"].encode()
    if letter.get("raw_truncated"):
        assert raw.startswith(kept) and len(kept) > 700_000, "it keeps the first bytes"
        assert letter["raw_size"] == len(raw)
    else:
        assert kept == raw, "the whole record, when it fits as base64"
