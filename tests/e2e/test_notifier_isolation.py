"""The notifier on the real broker and Redis against real HTTP receivers that hang: dead
receivers never starve another shop or a supervisor alert, and a graceful stop while a
webhook is being answered does not send it a second time."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis

from contracts import example, topics
from services.notifier.app import create_app
from services.notifier.decide import notification_id
from services.notifier.outbox import Outbox
from services.notifier.signing import ATTEMPT_HEADER, ID_HEADER
from tests.conftest import unique
from tests.support.kafka_io import wait_until
from tests.support.services import started
from tests.support.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.e2e

SECRET_ENV, SECRET = "KEFU_TEST_ISOLATION_SECRET", "isolation-secret"
HANGING, BACKLOG = 8, 40
HANG_TIMEOUT = 10  # seconds a webhook attempt may take: the attempts of a dead receiver


def hook(shop: str, url: str, timeout: str, attempts: int) -> str:
    return f"""
  {shop}:
    notify:
      channels: {{buyer: webhook, supervisor: webhook}}
      webhook: {{url: "{url}", secret_env: {SECRET_ENV}, timeout: {timeout},
                 max_attempts: {attempts}, backoff_base: 100ms, allow_http: true}}"""


def write_policy(tmp_path, shops: str):
    path = tmp_path / "policy.yaml"
    path.write_text(f"shops:\n  default:\n    notify:\n      quiet_hours: []{shops}\n",
                    encoding="utf-8")
    return path


def shipped(shop: str) -> tuple[dict, str]:
    order_id = unique("o")
    return example("order.shipped", event_id=unique("e"), shop_id=shop,
                   payload={"order_id": order_id, "carrier": "SF", "tracking_no": "SF1"}), order_id


def breach(shop: str) -> dict:
    now = datetime.now(UTC)
    return {"escalation_id": unique("esc"), "shop_id": shop, "role": "presale",
            "subject": {"kind": "order", "id": unique("o")}, "sla": "ship_by", "level": 2,
            "state": "breached", "deadline": (now - timedelta(minutes=5)).isoformat(),
            "fired_at": now.isoformat(), "trace_id": unique("t")}


@contextlib.asynccontextmanager
async def notifier(stack, policy):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(SECRET_ENV, SECRET)
        app = create_app(stack.settings(policy_file=policy))
    async with started(app, "notifier"):
        yield app


async def test_eight_dead_receivers_starve_no_other_shop_and_no_supervisor_alert(
        stack, kafka, tmp_path):
    dead = [WebhookReceiver() for _ in range(HANGING)]
    async with contextlib.AsyncExitStack() as servers:
        for receiver in dead:
            await servers.enter_async_context(receiver)
            receiver.hang("hook", None, seconds=600)
        healthy = await servers.enter_async_context(WebhookReceiver())
        shops = [unique(f"dead{i}") for i in range(HANGING)]
        live, watch = unique("live"), unique("watch")
        hooks = [hook(shop, r.url("hook"), f"{HANG_TIMEOUT}s", 2)
                 for shop, r in zip(shops, dead, strict=True)]
        hooks += [hook(live, healthy.url(live), "5s", 2), hook(watch, healthy.url(watch), "5s", 2)]
        policy = write_policy(tmp_path, "".join(hooks))
        outbox = Outbox(Redis.from_url(stack.redis.url), lambda: datetime.now(UTC))
        servers.push_async_callback(outbox.store.redis.aclose)
        stuck: list[str] = []
        servers.push_async_callback(lambda: outbox.store.cancel_many(stuck))  # for later tests
        async with notifier(stack, policy):
            for shop in shops:
                for _ in range(BACKLOG):
                    event, order_id = shipped(shop)
                    await kafka.send(topics.ORDERS, event, order_id)
                    stuck.append(notification_id(shop, event["event_id"], "shipped", "buyer"))

            async def backlog_queued() -> bool:
                left = await outbox.store.count()
                return left["due"] + left["inflight"] >= HANGING * BACKLOG

            assert await wait_until(backlog_queued, timeout=60), "the backlog was not queued"
            assert await wait_until(lambda: all(r.received() for r in dead), timeout=30)
            notice, order_id = shipped(live)
            await kafka.send(topics.ORDERS, notice, order_id)
            alert = breach(watch)
            await kafka.send(topics.ESCALATIONS, alert, alert["subject"]["id"])

            def retried() -> bool:  # a dead receiver's first attempt timed out
                return any(q.headers.get(ATTEMPT_HEADER) == "2" for r in dead
                           for q in r.received())

            def served() -> bool:
                return bool(healthy.received(live) and healthy.received(watch))

            assert await wait_until(lambda: served() or retried(), timeout=60)
            assert served(), "the live shop and the supervisor alert waited for dead receivers"
            assert not retried()
            for receiver in dead:
                receiver.release()  # answer now, so the stop need not wait


async def test_a_graceful_stop_during_a_delivery_does_not_send_it_twice(stack, kafka, tmp_path):
    shop = unique("stop")
    async with WebhookReceiver() as receiver:
        receiver.hang(shop, 1, seconds=1.5)  # the first request is answered 1.5 s later
        policy = write_policy(tmp_path, hook(shop, receiver.url(shop), "5s", 3))
        outbox = Outbox(Redis.from_url(stack.redis.url), lambda: datetime.now(UTC))
        try:
            event, order_id = shipped(shop)
            async with notifier(stack, policy):
                await kafka.send(topics.ORDERS, event, order_id)
                assert await wait_until(lambda: receiver.received(shop), timeout=30)
            # stopped while the receiver was still answering
            [first] = receiver.received(shop)
            assert not await queued(outbox, first.headers[ID_HEADER]), \
                "handed back to the outbox: it would be sent again"

            marker, marker_order = shipped(shop)
            marker_id = notification_id(shop, marker["event_id"], "shipped", "buyer")
            async with notifier(stack, policy):
                await kafka.send(topics.ORDERS, marker, marker_order)
                assert await wait_until(lambda: any(r.json["order_id"] == marker_order
                                                    for r in receiver.received(shop)), timeout=30)
                assert await wait_until(lambda: not_queued(outbox, marker_id), timeout=30)
        finally:
            await outbox.store.redis.aclose()
    ids = [r.headers[ID_HEADER] for r in receiver.received(shop)]
    assert ids.count(first.headers[ID_HEADER]) == 1, "delivered before the stop, sent again after"


async def queued(outbox: Outbox, nid: str) -> bool:
    """Whether the notification waits in the outbox, due or in flight."""
    keys = outbox.store.keys.shard(outbox.store.keys.shard_for(nid))
    redis = outbox.store.redis
    return await redis.zscore(keys.due, nid) is not None or \
        await redis.zscore(keys.inflight, nid) is not None


async def not_queued(outbox: Outbox, nid: str) -> bool:
    return not await queued(outbox, nid)
