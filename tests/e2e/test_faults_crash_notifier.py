"""The notifier SIGKILLed mid-stream (a real `kefu run notifier` child) and restarted:
no notification is lost, and every one keeps its deterministic notification_id, on
kefu.notifications and on the webhook (X-Kefu-Notification-Id).

Repeats are what the contract allows (at-least-once in, effectively-once out) and no
more: only notifications the killed worker held (claimed from the outbox, leases then
expired) can go out again, so an id appears at most twice (before and after the kill),
only ids first sent before the kill repeat, and no more of them than the worker may
hold for those shops. Every request verifies with the shared secret, so a receiver that
drops repeats by the signed X-Kefu-Notification-Id acts on each notification once."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from redis.asyncio import Redis

from contracts import example, topics
from services.notifier.decide import notification_id
from services.notifier.lanes import Limits
from services.notifier.outbox import Outbox
from services.notifier.signing import ID_HEADER, verify_request
from tests.conftest import unique
from tests.support.faults import FirstSeen, ends_of, group_committed_through, repeats
from tests.support.kafka_io import wait_until
from tests.support.processes import ServiceProcess
from tests.support.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.e2e

SECRET_ENV, SECRET = "KEFU_TEST_CRASH_SECRET", "crash-secret"
ORDERS_PER_SHOP = 120
HELD_PER_SHOP = Limits().queue_per_shop  # what the delivery worker may hold of one shop
BATCH = 200


def policy_text(hook_shop: str, url: str) -> str:
    return f"""shops:
  default:
    notify:
      quiet_hours: []
  {hook_shop}:
    notify:
      channels: {{buyer: webhook, supervisor: webhook}}
      webhook: {{url: "{url}", secret_env: {SECRET_ENV}, timeout: 2s, max_attempts: 5,
                 backoff_base: 100ms, allow_http: true}}
"""


def order_events(shop: str, order_id: str) -> list[dict]:
    def ev(kind, **payload):
        return example(kind, event_id=unique("e"), shop_id=shop,
                       payload={"order_id": order_id, **payload})

    return [ev("order.paid", buyer_id=f"b-{order_id}"),
            ev("order.shipped", carrier="SF", tracking_no=f"SF{order_id}"),
            ev("logistics.update", status="out_for_delivery", tracking_no=f"SF{order_id}"),
            ev("logistics.update", status="delivered", tracking_no=f"SF{order_id}")]


def alert(shop: str, order_id: str) -> dict:
    now = datetime.now(UTC)
    return {"escalation_id": unique("esc"), "shop_id": shop, "role": "presale",
            "subject": {"kind": "order", "id": order_id}, "sla": "ship_by", "level": 2,
            "state": "breached", "deadline": (now - timedelta(minutes=5)).isoformat(),
            "fired_at": now.isoformat(), "trace_id": unique("t")}


def expected_ids(event: dict) -> set[str]:
    shop = event["shop_id"]
    if "escalation_id" in event:
        return {notification_id(shop, event["escalation_id"], "escalation_alert", "supervisor")}
    kind = event["event_type"]
    if kind == "order.shipped":
        return {notification_id(shop, event["event_id"], "shipped", "buyer")}
    if kind == "logistics.update":
        notice = "delivered" if event["payload"]["status"] == "delivered" else "logistics_update"
        return {notification_id(shop, event["event_id"], notice, "buyer")}
    return set()


async def test_sigkill_mid_stream_loses_no_notification_and_keeps_ids(stack, kafka, tmp_path):
    hook_shop, log_shop = unique("hook"), unique("log")
    async with WebhookReceiver() as receiver:
        receiver.hang(hook_shop, None, seconds=0.05)  # a slow receiver: deliveries in flight
        policy = tmp_path / "policy.yaml"
        policy.write_text(policy_text(hook_shop, receiver.url(hook_shop)), encoding="utf-8")
        # the killed member holds the group until its session ends: keep that short
        settings = stack.settings(policy_file=policy, consumer_max_records=BATCH,
                                  consumer_session_timeout_ms=3000)
        events: list[tuple[str, dict, str]] = []
        for shop in (hook_shop, log_shop):
            for i in range(ORDERS_PER_SHOP):
                order_id = unique("o")
                events += [(topics.ORDERS, e, order_id) for e in order_events(shop, order_id)]
                if i % 4 == 0:
                    events.append((topics.ESCALATIONS, alert(shop, order_id), order_id))
        wanted = set().union(*(expected_ids(e) for _, e, _ in events))
        hook_wanted = set().union(*(expected_ids(e) for _, e, _ in events
                                    if e["shop_id"] == hook_shop))

        halfway, produced = asyncio.Event(), []

        async def produce() -> None:  # paced, so the kill lands while input still arrives
            producer = await kafka.producer()
            for start in range(0, len(events), 40):
                futures = [await producer.send(topic, orjson.dumps(body), key=key.encode())
                           for topic, body, key in events[start:start + 40]]
                produced.extend(await asyncio.gather(*futures))
                if start >= len(events) // 2:
                    halfway.set()
                await asyncio.sleep(0.1)

        env = {SECRET_ENV: SECRET, "KEFU_TIMER_LEASE": "PT3S"}  # if the outbox lease follows it
        first = ServiceProcess("notifier", settings, tmp_path, **env).start()
        feeding = None
        try:
            assert await first.ready(), "notifier did not become ready"
            feeding = asyncio.create_task(produce())
            await asyncio.wait_for(halfway.wait(), timeout=30)
            assert await wait_until(lambda: len(receiver.received(hook_shop)) >= 10,
                                    timeout=30, interval=0.05), "nothing delivered before the kill"
        finally:
            first.kill()
        sent_before_kill = {r.headers[ID_HEADER] for r in receiver.received(hook_shop)}
        still_feeding = not feeding.done()
        in_flight_at_kill = len(hook_wanted - delivered_ids(receiver, hook_shop))
        assert in_flight_at_kill > 0, "the kill should land while deliveries are pending"
        second = ServiceProcess("notifier", settings, tmp_path, **env).start()
        try:
            assert await second.ready(), "restarted notifier did not become ready"
            await feeding

            group, ends = settings.group_id("notifier"), ends_of(produced)
            outbox = Outbox(Redis.from_url(stack.redis.url), lambda: datetime.now(UTC))

            async def all_done() -> bool:
                """Input committed, outbox drained (the dead process' leases expire after
                30 s and its claimed entries are sent again), every webhook delivered."""
                if not hook_wanted <= delivered_ids(receiver, hook_shop):
                    return False
                left = await outbox.store.count()
                if left["due"] or left["inflight"]:
                    return False
                return await group_committed_through(stack.broker.bootstrap, group, ends,
                                                     (topics.ORDERS, topics.ESCALATIONS))

            try:
                assert await wait_until(all_done, timeout=90, interval=0.5), (
                    f"not done: outbox {await outbox.store.count()}, "
                    f"{len(hook_wanted - delivered_ids(receiver, hook_shop))} webhooks missing")
            finally:
                await outbox.store.redis.aclose()

            def of_ours(body, _record) -> bool:
                return body.get("shop_id") in (hook_shop, log_shop)

            seen = FirstSeen(of_ours, lambda body: body["notification_id"])
            await kafka.collect(topics.NOTIFICATIONS, seen, count=len(wanted), timeout=30,
                                settle=1.0)
        finally:
            assert second.terminate() == 0, "graceful stop exits 0"
        letters = await kafka.collect(
            topics.DLQ, lambda b, _: hook_shop in b.get("raw", "") or log_shop in b.get("raw", ""),
            count=1, timeout=2, at_least=0)  # looks for absence

    recorded = [body["notification_id"] for body in seen.all]
    missing = wanted - set(recorded)
    assert not missing, f"{len(missing)} of {len(wanted)} notifications lost"
    assert set(recorded) == wanted, "a notification id that no cause explains (ids not derived)"
    per_cause = Counter((b["order_id"], b["kind"]) for b in {b["notification_id"]: b
                                                            for b in seen.all}.values())
    assert max(per_cause.values()) == 1, "one cause, two notification ids"
    recorded_twice = [i for i, n in Counter(recorded).items() if n > 1]
    assert max(Counter(recorded).values()) <= 2, "recorded again without a kill to explain it"
    assert len(recorded_twice) <= 2 * HELD_PER_SHOP, \
        f"{len(recorded_twice)} ids recorded twice: more than the killed worker held"
    hooks = receiver.received(hook_shop)
    assert all(r.headers[ID_HEADER] == r.json["notification_id"] for r in hooks)
    assert all(verify_request(SECRET, r.headers, r.body) for r in hooks), \
        "every request is signed, id and attempt included"
    hook_ids = [r.headers[ID_HEADER] for r in hooks]
    acted_on = set(hook_ids)  # a receiver that drops repeats by the signed id
    assert acted_on == hook_wanted, "each notification acted on once, none missing"
    delivered_twice = {i for i, n in Counter(hook_ids).items() if n > 1}
    assert max(Counter(hook_ids).values()) <= 2, "delivered again without a kill to explain it"
    assert delivered_twice <= sent_before_kill, "a repeat of an id first sent after the kill"
    assert len(delivered_twice) <= HELD_PER_SHOP, \
        f"{len(delivered_twice)} webhooks delivered twice: more than the killed worker held"
    assert not letters, f"dead letters: {[b['reason'] for b, _ in letters]}"
    print(f"\n{len(wanted)} notifications; at the kill {in_flight_at_kill} webhook deliveries "
          f"were pending and input was {'still' if still_feeding else 'no longer'} arriving; "
          f"repeats: {repeats(recorded)} recorded, {repeats(hook_ids)} delivered")


def delivered_ids(receiver: WebhookReceiver, shop: str) -> set[str]:
    return {r.headers[ID_HEADER] for r in receiver.received(shop) if r.answer in (200, "hang")}
