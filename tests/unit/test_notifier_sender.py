"""Sending one queued notification, on hand-written fakes: once delivered, it is marked
sent even when the service is stopping meanwhile, so a graceful stop never causes a
second delivery; a stop before anything was delivered gives up at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import orjson
import pytest
from prometheus_client import CollectorRegistry

from contracts import Notification, to_json_bytes
from services.core.policy import load_policy
from services.core.retry import ShuttingDown
from services.notifier import keys
from services.notifier.channels import Delivery
from services.notifier.metrics import NotifierMetrics
from services.notifier.sender import Sender, unsendable_letter


class FakeRedis:
    def __init__(self) -> None:
        self.values: dict[str, bytes] = {}

    async def get(self, key: str) -> bytes | None:
        return self.values.get(key)

    async def set(self, key: str, value: bytes, ex: int | None = None) -> bool:
        self.values[key] = value
        return True


class StopsWhileDelivering:
    """A channel whose receiver answers 2xx while the service is asked to stop."""

    def __init__(self, stopping: asyncio.Event) -> None:
        self.stopping, self.delivered = stopping, []

    async def deliver(self, n: Notification) -> Delivery:
        self.stopping.set()
        self.delivered.append(n.notification_id)
        return Delivery(True, 1)


def notification() -> Notification:
    return Notification(notification_id="n-1", shop_id="shop-1", audience="buyer",
                        kind="shipped", channel="log", locale="zh-CN", text="已发货",
                        order_id="o-1", created_at=datetime(2026, 11, 22, tzinfo=UTC))


def sender(redis: FakeRedis, channel, stopping: asyncio.Event, published: list) -> Sender:
    async def publish(outputs) -> None:
        published.extend(outputs)

    return Sender(redis=redis, publish=publish, policy=load_policy(None), log_channel=channel,
                  webhook=None, stopping=stopping, metrics=NotifierMetrics(CollectorRegistry()),
                  dedup_ttl=60)


async def test_a_notification_delivered_while_stopping_is_still_marked_sent():
    redis, stopping, published = FakeRedis(), asyncio.Event(), []
    channel = StopsWhileDelivering(stopping)
    n = notification()
    await sender(redis, channel, stopping, published).send(to_json_bytes(n))
    assert channel.delivered == ["n-1"]
    assert redis.values[keys.notification_key("shop-1", "n-1")] == keys.SENT


async def test_a_stop_before_the_delivery_gives_up_without_delivering():
    redis, stopping, published = FakeRedis(), asyncio.Event(), []
    channel = StopsWhileDelivering(asyncio.Event())
    stopping.set()
    with pytest.raises(ShuttingDown):
        await sender(redis, channel, stopping, published).send(to_json_bytes(notification()))
    assert channel.delivered == [] and redis.values == {}


def test_the_dead_letter_of_an_unsendable_notification_masks_its_detail():
    """pydantic quotes the input in its message: the letter's human detail must not carry
    the phone number or address of the notification text (raw keeps the bytes)."""
    payload = b'{"shop_id": "shop-1", "text": "\xe8\xaf\xb7\xe8\x87\xb4\xe7\x94\xb5 13812345678"}'
    try:
        Notification.model_validate_json(payload)
    except ValueError as exc:
        error = exc
    out = unsendable_letter(payload, error)
    letter = orjson.loads(out.value)
    assert letter["reason"] == "processing_error" and "13812345678" not in letter["detail"]
    assert "138****5678" in letter["detail"], "masked, not dropped"
    assert letter["raw"] == payload.decode(), "raw keeps the original bytes for replay"
