"""The notifier on the real broker and Redis, delivering to a real local HTTP receiver:
each kind once per cause (also when the cause is redelivered), signatures, retries on
5xx and timeouts, delivery_failed dead letters, shop isolation, the logistics cap."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis

from contracts import example, topics
from services.notifier.app import create_app
from services.notifier.keys import conversation_key
from services.notifier.signing import (
    ATTEMPT_HEADER,
    ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    verify_request,
)
from tests.conftest import unique
from tests.support.kafka_io import wait_until
from tests.support.services import started
from tests.support.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.e2e

SECRET_ENV, SECRET = "KEFU_TEST_HOOK_SECRET", "s3cret-for-tests"
PREVIOUS_SECRET = "s3cret-before-rotation"
"""The notifier runs with the secret being rotated (`new,old`): receivers on either verify."""
RUN = unique("n")
HOOK, EN, RETRY, SLOW, FAIL, REJECT, DEAD, CAP, LOG = (
    f"{name}-{RUN}" for name in
    ("hook", "en", "retry", "slow", "fail", "reject", "dead", "cap", "log")
)


def webhook_shop(shop: str, **notify) -> str:
    extra = "".join(f"\n      {key}: {value}" for key, value in notify.items())
    return f"""
  {shop}:
    notify:
      channels: {{buyer: webhook, supervisor: webhook}}
      webhook: {{url: "{{url}}/{shop}", secret_env: {SECRET_ENV}, timeout: 1s,
                 max_attempts: 3, backoff_base: 100ms, allow_http: true}}{extra}"""


def policy_text(url: str) -> str:
    shops = [
        webhook_shop(HOOK), webhook_shop(EN, locale="en"), webhook_shop(RETRY),
        webhook_shop(SLOW), webhook_shop(FAIL), webhook_shop(REJECT), webhook_shop(DEAD),
        webhook_shop(CAP, logistics_updates="{in_transit: true, max_per_order: 2, window: 1h}"),
    ]
    body = "".join(shops).replace("{url}", url)
    return f"shops:\n  default:\n    notify:\n      quiet_hours: []{body}\n  {LOG}: {{}}\n"


def running_notifier(settings, **kwargs):
    return started(create_app(settings, **kwargs), "notifier")


@pytest.fixture(scope="module")
async def receiver():
    async with WebhookReceiver() as server:
        yield server


@pytest.fixture(scope="module")
async def notifier(stack, kafka, receiver, tmp_path_factory):
    policy = tmp_path_factory.mktemp("policy") / "policy.yaml"
    policy.write_text(policy_text(receiver.url("").rstrip("/")), encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(SECRET_ENV, f"{SECRET},{PREVIOUS_SECRET}")
        async with running_notifier(stack.settings(policy_file=policy)) as app:
            yield app


@pytest.fixture(scope="module")
async def redis(stack):
    client = Redis.from_url(stack.redis.url)
    yield client
    await client.aclose()


def order_event(kind: str, shop: str, order_id: str, **payload) -> dict:
    return example(kind, event_id=unique("e"), shop_id=shop,
                   payload={"order_id": order_id, **payload})


def escalation(shop: str, subject: tuple[str, str], sla: str, level: int, state: str,
               late: timedelta | None = None, deadline: datetime | None = None) -> dict:
    fired = datetime.now(UTC)
    if deadline is None and state != "raised":
        deadline = fired - (late or timedelta(0))
    return {"escalation_id": unique("esc"), "shop_id": shop, "role": "aftersale",
            "subject": {"kind": subject[0], "id": subject[1]}, "sla": sla, "level": level,
            "state": state, "deadline": deadline.isoformat() if deadline else None,
            "fired_at": fired.isoformat(), "trace_id": unique("t")}


async def send_order(kafka, event: dict) -> None:
    await kafka.send(topics.ORDERS, event, event["payload"]["order_id"])


async def notifications(kafka, match, count: int, settle: float = 0.0) -> list[dict]:
    found = await kafka.collect(topics.NOTIFICATIONS, lambda body, _: match(body),
                                count=count, timeout=30, settle=settle)
    return [body for body, _ in found]


def for_order(order_id: str):
    return lambda body: body.get("order_id") == order_id


def delivered(receiver: WebhookReceiver, shop: str, order_id: str) -> list:
    return [r for r in receiver.received(shop)
            if r.answer == 200 and r.json.get("order_id") == order_id]


async def test_shipped_is_delivered_once_signed_and_recorded(notifier, kafka, receiver):
    order_id = unique("o")
    await send_order(kafka, order_event("order.paid", HOOK, order_id, buyer_id="buyer-1"))
    shipped = order_event("order.shipped", HOOK, order_id, carrier="中通快递",
                          tracking_no="ZT7300012345678")
    await send_order(kafka, shipped)
    assert await wait_until(lambda: delivered(receiver, HOOK, order_id), timeout=20)
    [request] = delivered(receiver, HOOK, order_id)
    body = request.json
    assert body["kind"] == "shipped" and body["audience"] == "buyer"
    assert body["buyer_id"] == "buyer-1" and body["locale"] == "zh-CN"
    assert "中通快递" in body["text"] and "ZT7300012345678" in body["text"]
    assert request.headers[ID_HEADER] == body["notification_id"]
    assert request.headers[ATTEMPT_HEADER] == "1"
    assert request.headers[SIGNATURE_HEADER].startswith("v2=")
    assert verify_request(SECRET, request.headers, request.body)
    assert verify_request(PREVIOUS_SECRET, request.headers, request.body), "mid-rotation"
    assert not verify_request("wrong-secret", request.headers, request.body)
    assert not verify_request(SECRET, request.headers, request.body.replace(b"ZT73", b"ZT74"))
    replayed = {**request.headers, ID_HEADER: "a-new-id", TIMESTAMP_HEADER: str(int(time.time()))}
    assert not verify_request(SECRET, replayed, request.body), "a replay under a new id"
    [record] = await notifications(kafka, for_order(order_id), 1)
    assert record == body, "the webhook body is the record on kefu.notifications"

    await send_order(kafka, shipped)  # redelivered after it was delivered
    marker = order_event("logistics.update", HOOK, order_id, status="delivered",
                         tracking_no="ZT7300012345678")
    await send_order(kafka, marker)
    records = await notifications(kafka, for_order(order_id), 2, settle=1.0)
    assert [r["kind"] for r in records] == ["shipped", "delivered"]
    assert [r.json["kind"] for r in delivered(receiver, HOOK, order_id)] == ["shipped", "delivered"]


async def test_each_kind_once_for_its_cause_even_when_redelivered(notifier, kafka, receiver):
    order_id = unique("o")
    events = [
        order_event("order.paid", EN, order_id, buyer_id="buyer-en", locale="en-US"),
        order_event("order.delayed", EN, order_id, reason="out_of_stock",
                    new_ship_by="2026-11-25T17:00:00+00:00"),
        order_event("order.shipped", EN, order_id, carrier="SF Express", tracking_no="SF100"),
        order_event("logistics.update", EN, order_id, status="in_transit", tracking_no="SF100"),
        order_event("logistics.update", EN, order_id, status="out_for_delivery",
                    tracking_no="SF100", description="Courier Wang, 13912345678"),
        order_event("logistics.update", EN, order_id, status="delivered", tracking_no="SF100"),
    ]
    for event in events + events:
        await send_order(kafka, event)
    await notifications(kafka, for_order(order_id), 4)  # the stall comes long after
    deadline = datetime.now(UTC) - timedelta(hours=3)
    stall_1 = escalation(EN, ("order", order_id), "logistics_stalled", 1, "warning",
                         deadline=deadline + timedelta(hours=6))
    stall_2 = escalation(EN, ("order", order_id), "logistics_stalled", 2, "breached",
                         deadline=deadline + timedelta(hours=6))
    for esc in (stall_1, stall_2, stall_1, stall_2):
        await kafka.send(topics.ESCALATIONS, esc, order_id)
    kinds = ["delay_notice", "shipped", "logistics_update", "delivered", "stalled_parcel",
             "escalation_alert"]
    records = await notifications(kafka, for_order(order_id), len(kinds), settle=1.5)
    assert sorted(r["kind"] for r in records) == sorted(kinds)
    by_kind = {r["kind"]: r for r in records}
    assert all(r["locale"] == "en" for r in records)
    assert by_kind["delay_notice"]["text"].count("26 Nov") == 1, "the date in shop time"
    assert "out of stock" in by_kind["delay_notice"]["text"]
    assert "out for delivery" in by_kind["logistics_update"]["text"]
    assert "checking with the carrier" in by_kind["stalled_parcel"]["text"]
    assert by_kind["escalation_alert"]["audience"] == "supervisor"
    assert {r["buyer_id"] for r in records if r["audience"] == "buyer"} == {"buyer-en"}
    assert await wait_until(lambda: len(delivered(receiver, EN, order_id)) == len(kinds))


async def test_escalation_alert_says_what_how_late_and_who(notifier, kafka, receiver, redis):
    conv = unique("c")
    assignment = {"conversation_id": conv, "shop_id": HOOK, "role": "presale",
                  "agent_id": "agent-lin", "reason": "least_loaded",
                  "at": datetime.now(UTC).isoformat()}
    await kafka.send(topics.ASSIGNMENTS, assignment, conv)
    assert await wait_until(lambda: redis.exists(conversation_key(HOOK, conv)), timeout=20)
    level1 = escalation(HOOK, ("conversation", conv), "first_response", 1, "breached")
    breach = escalation(HOOK, ("conversation", conv), "first_response", 2, "breached",
                        late=timedelta(hours=2, minutes=5, seconds=10))
    complaint = escalation(HOOK, ("conversation", conv), "complaint", 2, "raised")
    for esc in (level1, breach, complaint):
        await kafka.send(topics.ESCALATIONS, esc, conv)
    records = await notifications(kafka, lambda b: b.get("conversation_id") == conv, 2,
                                  settle=1.0)
    texts = sorted(r["text"] for r in records)
    assert all(r["kind"] == "escalation_alert" and r["audience"] == "supervisor" for r in records)
    assert any("首次回复已超时2小时5分钟" in t and "agent-lin" in t for t in texts), texts
    assert any("买家投诉需要立即处理" in t for t in texts), texts


async def test_retries_on_500_then_succeeds(notifier, kafka, receiver):
    receiver.fail(RETRY, 2, status=500)
    order_id = unique("o")
    await send_order(kafka, order_event("order.shipped", RETRY, order_id, carrier="SF",
                                        tracking_no="SF1"))
    assert await wait_until(lambda: delivered(receiver, RETRY, order_id), timeout=20)
    attempts = [r for r in receiver.received(RETRY) if r.json["order_id"] == order_id]
    assert [r.answer for r in attempts] == [500, 500, 200]
    assert [r.headers[ATTEMPT_HEADER] for r in attempts] == ["1", "2", "3"]
    assert len({r.headers[ID_HEADER] for r in attempts}) == 1


async def test_retries_on_timeout_then_succeeds(notifier, kafka, receiver):
    receiver.hang(SLOW, 1, seconds=5)
    order_id = unique("o")
    await send_order(kafka, order_event("order.shipped", SLOW, order_id, carrier="SF",
                                        tracking_no="SF2"))
    assert await wait_until(lambda: delivered(receiver, SLOW, order_id), timeout=20)
    attempts = [r for r in receiver.received(SLOW) if r.json["order_id"] == order_id]
    assert [r.answer for r in attempts] == ["hang", 200]


async def dead_letters(kafka, order_id: str, count: int = 1) -> list[dict]:
    found = await kafka.collect(
        topics.DLQ, lambda body, _: body.get("reason") == "delivery_failed"
        and order_id in body.get("raw", ""), count=count, timeout=30)
    return [body for body, _ in found]


async def test_delivery_failed_after_max_attempts_goes_to_the_dlq(notifier, kafka, receiver):
    receiver.fail(FAIL, None, status=503)
    order_id = unique("o")
    await send_order(kafka, order_event("order.shipped", FAIL, order_id, carrier="SF",
                                        tracking_no="SF3"))
    [letter] = await dead_letters(kafka, order_id)
    assert letter["service"] == "notifier" and "after 3 attempt(s)" in letter["detail"]
    [record] = await notifications(kafka, for_order(order_id), 1)
    assert letter["raw"].encode() and record["notification_id"] in letter["raw"]
    attempts = [r for r in receiver.received(FAIL) if r.json["order_id"] == order_id]
    assert [r.answer for r in attempts] == [503, 503, 503]


async def test_a_4xx_answer_is_not_retried(notifier, kafka, receiver):
    receiver.fail(REJECT, None, status=400)
    order_id = unique("o")
    await send_order(kafka, order_event("order.shipped", REJECT, order_id, carrier="SF",
                                        tracking_no="SF4"))
    [letter] = await dead_letters(kafka, order_id)
    assert "HTTP 400" in letter["detail"]
    assert len([r for r in receiver.received(REJECT) if r.json["order_id"] == order_id]) == 1


async def test_a_dead_receiver_does_not_delay_another_shop(notifier, kafka, receiver):
    receiver.hang(DEAD, None, seconds=30)
    dead_order, live_order = unique("o"), unique("o")
    await send_order(kafka, order_event("order.shipped", DEAD, dead_order, carrier="SF",
                                        tracking_no="SF5"))
    assert await wait_until(lambda: receiver.received(DEAD), timeout=20)
    await send_order(kafka, order_event("order.shipped", HOOK, live_order, carrier="SF",
                                        tracking_no="SF6"))
    assert await wait_until(lambda: delivered(receiver, HOOK, live_order), timeout=20)
    [live] = delivered(receiver, HOOK, live_order)
    await dead_letters(kafka, dead_order)
    dead_attempts = [r for r in receiver.received(DEAD) if r.json["order_id"] == dead_order]
    assert len(dead_attempts) == 3
    assert live.seq < dead_attempts[-1].seq, "the live shop was served while the dead one retried"


async def test_logistics_updates_are_capped_per_order(notifier, kafka, receiver):
    order_id = unique("o")
    labels = {"kind": "logistics_update", "reason": "logistics_cap"}  # no shop: see metrics.py

    def skipped() -> float:
        sample = "kefu_notifications_skipped_total"
        return notifier.metrics.registry.get_sample_value(sample, labels) or 0.0

    skipped_before = skipped()
    scans = ["in_transit", "out_for_delivery", "exception", "out_for_delivery", "delivered"]
    for status in scans:
        await send_order(kafka, order_event("logistics.update", CAP, order_id, status=status,
                                            tracking_no="YT9"))
    records = await notifications(kafka, for_order(order_id), 3, settle=1.5)
    assert [r["kind"] for r in records].count("logistics_update") == 2
    assert [r["kind"] for r in records].count("delivered") == 1
    assert skipped() - skipped_before == 2


async def test_log_channel_records_without_webhook(notifier, kafka, receiver):
    order_id = unique("o")
    await send_order(kafka, order_event("order.shipped", LOG, order_id, carrier="SF",
                                        tracking_no="SF7"))
    [record] = await notifications(kafka, for_order(order_id), 1)
    assert record["channel"] == "log" and record["kind"] == "shipped"
    assert not [r for r in receiver.requests if r.json.get("order_id") == order_id]


async def test_invalid_escalation_is_dead_lettered(notifier, kafka):
    key = unique("k")
    await kafka.send(topics.ESCALATIONS, b'{"escalation_id": "x"}', key)
    found = await kafka.collect(
        topics.DLQ, lambda body, record: record.key == key.encode(), timeout=30)
    [(letter, _)] = found
    assert letter["reason"] == "schema_violation" and letter["service"] == "notifier"
