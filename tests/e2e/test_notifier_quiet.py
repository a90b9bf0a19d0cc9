"""Quiet hours on the real broker and Redis: buyer notices wait in the Redis outbox
until the shop's quiet hours end (also across a restart); supervisor alerts never wait.
The notifier's clock is injected, so "the end of quiet hours" is a clock move."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from redis.asyncio import Redis

from contracts import example, topics
from services.notifier.app import create_app
from services.notifier.keys import SENT, notification_key
from services.notifier.outbox import Outbox
from tests.conftest import unique
from tests.support.kafka_io import wait_until
from tests.support.services import started
from tests.support.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.e2e

SECRET_ENV = "KEFU_TEST_QUIET_SECRET"
SHOP = unique("quiet")
TZ = ZoneInfo("Asia/Shanghai")


class MovableClock:
    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self.offset = offset

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


def quiet_policy(url: str) -> str:
    """Quiet hours from an hour ago to an hour from now, in the shop's timezone."""
    local = datetime.now(TZ)
    start, end = ((local + timedelta(hours=h)).strftime("%H:%M") for h in (-1, 1))
    return f"""shops:
  {SHOP}:
    timezone: Asia/Shanghai
    notify:
      quiet_hours: ["{start}", "{end}"]
      channels: {{buyer: webhook, supervisor: webhook}}
      webhook: {{url: "{url}", secret_env: {SECRET_ENV}, timeout: 1s, max_attempts: 2,
                 backoff_base: 100ms, allow_http: true}}
"""


def running_notifier(settings, clock):
    return started(create_app(settings, clock=clock), "notifier")


@pytest.fixture(scope="module")
async def receiver():
    async with WebhookReceiver() as server:
        yield server


@pytest.fixture
def settings(stack, kafka, receiver, tmp_path, monkeypatch):
    monkeypatch.setenv(SECRET_ENV, "quiet-secret")
    policy = tmp_path / "policy.yaml"
    policy.write_text(quiet_policy(receiver.url(SHOP)), encoding="utf-8")
    return stack.settings(policy_file=policy)


@pytest.fixture
async def redis(stack):
    client = Redis.from_url(stack.redis.url)
    yield client
    await client.aclose()


def shipped(order_id: str) -> dict:
    return example("order.shipped", event_id=unique("e"), shop_id=SHOP,
                   payload={"order_id": order_id, "carrier": "SF", "tracking_no": "SF8"})


def breach(order_id: str) -> dict:
    now = datetime.now(UTC)
    return {"escalation_id": unique("esc"), "shop_id": SHOP, "role": "presale",
            "subject": {"kind": "order", "id": order_id}, "sla": "ship_by", "level": 2,
            "state": "breached", "deadline": (now - timedelta(minutes=30)).isoformat(),
            "fired_at": now.isoformat()}


def kinds(receiver: WebhookReceiver, order_id: str) -> list[str]:
    return [r.json["kind"] for r in receiver.received(SHOP)
            if r.answer == 200 and r.json["order_id"] == order_id]


async def outbox_holds(redis: Redis, clock) -> int:
    return (await Outbox(redis, clock).store.count())["due"]


async def test_buyer_notices_wait_for_quiet_hours_alerts_do_not(settings, kafka, receiver,
                                                                redis):
    clock, order_id = MovableClock(), unique("o")
    async with running_notifier(settings, clock):
        await kafka.send(topics.ORDERS, shipped(order_id), order_id)
        await kafka.send(topics.ESCALATIONS, breach(order_id), order_id)
        assert await wait_until(lambda: kinds(receiver, order_id) == ["escalation_alert"])
        await kafka.collect(topics.NOTIFICATIONS, lambda b, _: b["order_id"] == order_id,
                            count=1, settle=1.0)
        assert kinds(receiver, order_id) == ["escalation_alert"], "the buyer notice waits"
        assert await outbox_holds(redis, clock) >= 1

        clock.offset = timedelta(hours=1, minutes=5)  # quiet hours are over
        assert await wait_until(lambda: "shipped" in kinds(receiver, order_id), timeout=20)
    assert sorted(kinds(receiver, order_id)) == ["escalation_alert", "shipped"]


async def test_deferred_notices_survive_a_restart(settings, kafka, receiver, redis):
    order_id = unique("o")
    event = shipped(order_id)
    async with running_notifier(settings, MovableClock()):
        await kafka.send(topics.ORDERS, event, order_id)
        assert await wait_until(lambda: redis.exists(_key(event)), timeout=20)
        await kafka.send(topics.ORDERS, event, order_id)  # redelivered while it waits
    assert kinds(receiver, order_id) == []

    # The replacement joins a fresh group (rejoining the old one waits out the broker's
    # session timeout): it reads the event again, which the dedup record drops, and
    # the outbox it finds in Redis delivers the waiting notice once.
    replacement = settings.model_copy(update={"group_prefix": unique("test")})
    async with running_notifier(replacement, MovableClock(timedelta(hours=1, minutes=5))):
        assert await wait_until(lambda: kinds(receiver, order_id), timeout=20)
        assert await wait_until(lambda: _is_sent(redis, event), timeout=10)
        found = await kafka.collect(topics.NOTIFICATIONS, lambda b, _: b["order_id"] == order_id,
                                    count=1, settle=1.0)
    assert kinds(receiver, order_id) == ["shipped"]
    assert len(found) == 1


def _key(event: dict) -> str:
    from services.notifier.decide import notification_id

    return notification_key(SHOP, notification_id(SHOP, event["event_id"], "shipped", "buyer"))


async def _is_sent(redis: Redis, event: dict) -> bool:
    return await redis.get(_key(event)) == SENT
