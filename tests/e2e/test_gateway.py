"""The HTTP ingest gateway with a real HTTP client, the real broker and Redis, and the
router: what an integrator is told, and what kefu.inbound holds afterwards."""

from __future__ import annotations

import asyncio
import time

import orjson
import pytest
from redis.asyncio import Redis

from contracts import event_key, parse_inbound, topics
from services.core.kafka import murmur2
from services.gateway.app import create_app
from tests.conftest import TEST_PARTITIONS, unique
from tests.support.faults import buyer_message, event
from tests.support.gateway import NDJSON, Integrator, integrator, ndjson, signed_headers
from tests.support.kafka_io import wait_until
from tests.support.services import running, started

pytestmark = pytest.mark.e2e

SECRET = "gateway-test-secret"
OWN_SECRET = "shop-own-secret"
OWN_SHOP = "shop-with-own-secret"
PREVIOUS_OWN_SECRET = "shop-own-secret-before-rotation"
BODY_LIMIT = 256 * 1024
EVENT_LIMIT = 16 * 1024


def gateway_settings(stack, tmp_path_factory, **overrides):
    policy = tmp_path_factory.mktemp("gateway") / "policy.yaml"
    policy.write_text(f"shops:\n  {OWN_SHOP}:\n    ingest: {{secret_env: OWN_SHOP_SECRET}}\n",
                      encoding="utf-8")
    values = dict(policy_file=policy, ingest_secret=SECRET, max_event_bytes=EVENT_LIMIT,
                  gateway_max_body_bytes=BODY_LIMIT, gateway_max_in_flight_bytes=BODY_LIMIT,
                  gateway_max_batch=200)
    return stack.settings(**(values | overrides))


@pytest.fixture(scope="module")
async def gateway(stack, kafka, tmp_path_factory):
    settings = gateway_settings(stack, tmp_path_factory)
    # The shop's secret is being rotated: new first, then the one integrators may still use.
    app = create_app(settings, environ={"OWN_SHOP_SECRET": f"{OWN_SECRET},{PREVIOUS_OWN_SECRET}"})
    async with started(app, "gateway"):
        yield app


@pytest.fixture(scope="module")
async def router(stack, kafka):
    async with running("router", stack.settings()) as app:
        yield app


@pytest.fixture
async def client(gateway):
    async with integrator(gateway, SECRET) as client:
        yield client


@pytest.fixture(scope="module")
async def redis(stack):
    client = Redis.from_url(stack.redis.url, decode_responses=True)
    yield client
    await client.aclose()


async def on_inbound(kafka, ids: set[str], count: int, settle: float = 0.0) -> list:
    found = await kafka.collect(topics.INBOUND, lambda body, _: body.get("event_id") in ids,
                                count=count, timeout=30, settle=settle)
    return [record for _, record in found]


async def written_before(kafka, client: Integrator, ids: set[str], key_event: dict) -> set[str]:
    """Which of `ids` kefu.inbound holds, read up to a sentinel accepted after them on
    the same partition (same key): whatever was written before it is in the log."""
    sentinel = dict(key_event, event_id=unique("sentinel"))
    assert (await client.send(sentinel)).status_code == 202
    records = await on_inbound(kafka, ids | {sentinel["event_id"]}, count=1)
    found = {orjson.loads(r.value)["event_id"] for r in records}
    assert found, "the sentinel was not written"
    return found - {sentinel["event_id"]}


async def test_one_event_is_written_as_sent_keyed_and_partitioned_by_the_contract(
        client, kafka):
    sent = event("order.paid", unique("shop"), order_id=unique("o"), buyer_id="b",
                 promised_ship_by="2026-11-24T20:16:30+08:00")
    body = orjson.dumps(sent, option=orjson.OPT_INDENT_2)  # as the integrator wrote it
    response = await client.post(body, "application/json")
    assert response.status_code == 202
    assert response.json() == {"accepted": 1, "duplicates": 0, "rejected": 0, "results": [
        {"index": 0, "event_id": sent["event_id"], "status": "accepted"}]}
    (record,) = await on_inbound(kafka, {sent["event_id"]}, count=1)
    key = event_key(parse_inbound(body)).encode()
    assert record.key == key and record.value == body
    assert record.partition == (murmur2(key) & 0x7FFFFFFF) % TEST_PARTITIONS  # the Java client's
    assert dict(record.headers)["content-type"] == b"application/json"


async def test_a_batch_is_acked_per_index_and_all_of_it_is_written(client, kafka):
    shop = unique("shop")
    batch = [buyer_message(shop) for _ in range(150)]
    response = await client.send(batch)
    assert response.status_code == 202
    answer = response.json()
    assert answer["accepted"] == 150 and answer["duplicates"] == answer["rejected"] == 0
    assert [(r["index"], r["event_id"]) for r in answer["results"]] == [
        (i, e["event_id"]) for i, e in enumerate(batch)]
    records = await on_inbound(kafka, {e["event_id"] for e in batch}, count=150)
    by_conversation = {r.key.decode(): orjson.loads(r.value)["event_id"] for r in records}
    assert by_conversation == {e["payload"]["conversation_id"]: e["event_id"] for e in batch}


async def test_a_replayed_request_is_all_duplicates_and_written_once(client, kafka):
    batch = [buyer_message(unique("shop")) for _ in range(5)]
    first, again = await client.send(batch), await client.send(batch)
    assert first.status_code == again.status_code == 202
    assert again.json()["duplicates"] == 5
    assert {r["detail"] for r in again.json()["results"]} == {"already accepted"}
    records = await on_inbound(kafka, {e["event_id"] for e in batch}, count=5, settle=1.0)
    assert len(records) == 5


async def test_a_partial_batch_accepts_the_valid_events_and_says_why_not_the_others(
        client, kafka):
    shop = unique("shop")
    good = buyer_message(shop)
    naive = event("order.paid", shop, order_id=unique("o"), buyer_id="b") | {
        "occurred_at": "2026-11-22T09:30:00"}
    no_text = buyer_message(shop)
    del no_text["payload"]["text"]
    huge = buyer_message(shop)
    huge["payload"]["text"] = "长" * EVENT_LIMIT
    unknown = buyer_message(shop) | {"event_type": "buyer.sang"}
    response = await client.send([good, naive, no_text, b"{not json", huge, unknown, good])
    assert response.status_code == 202
    answer = response.json()
    assert (answer["accepted"], answer["duplicates"], answer["rejected"]) == (1, 1, 5)
    assert [(r["status"], r.get("reason")) for r in answer["results"]] == [
        ("accepted", None), ("rejected", "naive_timestamp"), ("rejected", "schema_violation"),
        ("rejected", "invalid_json"), ("rejected", "oversize"),
        ("rejected", "unknown_event_type"), ("duplicate", None)]
    assert "payload.text" in answer["results"][2]["detail"]
    rejected = {naive["event_id"], no_text["event_id"], huge["event_id"], unknown["event_id"]}
    assert not await written_before(kafka, client, rejected, good)


async def test_nothing_valid_is_422(client):
    response = await client.send([b"{nope", buyer_message("s") | {"platform": "ebay"}])
    assert response.status_code == 422
    assert response.json()["rejected"] == 2
    empty = await client.post(b"\n\n", NDJSON)
    assert empty.status_code == 422 and empty.json()["error"] == "no_events"


async def test_size_limits_are_413_and_other_media_types_415(client):
    over = await client.post(b"{}\n" * (BODY_LIMIT // 3 + 1), NDJSON)
    assert over.status_code == 413 and over.json()["error"] == "payload_too_large"
    many = await client.send([buyer_message("s") for _ in range(201)])
    assert many.status_code == 413 and many.json()["error"] == "too_many_events"
    csv = await client.post(b"a,b\n", "text/csv")
    assert csv.status_code == 415


@pytest.mark.parametrize("case", [
    "wrong secret", "old timestamp", "body changed after signing", "no signature",
    "a shop the global secret does not cover", "a shop another shop's secret does not cover",
])
async def test_signature_failures_are_401_and_write_nothing(client, kafka, case):
    shop = OWN_SHOP if "global" in case else unique("shop")
    sent = buyer_message(shop)
    body = ndjson([buyer_message(unique("shop")), sent])
    if case == "wrong secret":
        response = await client.post(body, NDJSON, secret="guessed")
    elif case == "old timestamp":
        response = await client.post(body, NDJSON, at=time.time() - 301)
    elif case == "body changed after signing":
        changed = body.replace("有货".encode(), "没货".encode(), 1)
        response = await client.post(changed, NDJSON, signed_body=body)
    elif case == "no signature":
        response = await client.http.post("/v1/events", content=body,
                                          headers={"Content-Type": NDJSON})
    elif "global" in case:
        response = await client.post(body, NDJSON)
    else:
        response = await client.post(body, NDJSON, secret=OWN_SECRET)
    assert response.status_code == 401 and response.json()["error"] == "unauthorized"
    sentinel_client = Integrator(str(client.http.base_url),
                                 OWN_SECRET if shop == OWN_SHOP else SECRET)
    try:
        assert not await written_before(kafka, sentinel_client, {sent["event_id"]}, sent)
    finally:
        await sentinel_client.close()


async def test_a_shop_with_its_own_secret_signs_with_it(client, kafka):
    sent = buyer_message(OWN_SHOP)
    response = await client.send(sent, secret=OWN_SECRET)
    assert response.status_code == 202
    assert await on_inbound(kafka, {sent["event_id"]}, count=1)


async def test_while_a_secret_is_rotated_the_previous_one_still_signs_for_its_shop(
        client, kafka):
    sent = buyer_message(OWN_SHOP)
    response = await client.send(sent, secret=PREVIOUS_OWN_SECRET)
    assert response.status_code == 202
    assert await on_inbound(kafka, {sent["event_id"]}, count=1)
    other = await client.send(buyer_message(unique("shop")), secret=PREVIOUS_OWN_SECRET)
    assert other.status_code == 401, "it covers its own shop and no other"


async def test_concurrent_resends_write_each_event_once(client, kafka):
    """One shop: its events are claimed in one atomic step, so exactly one request takes
    them all; the others are told it is in progress (429) or that they are duplicates."""
    shop = unique("shop")
    batch = [buyer_message(shop) for _ in range(20)]
    responses = await asyncio.gather(*(client.send(batch) for _ in range(12)))
    assert {r.status_code for r in responses} <= {202, 429}
    accepted = [r["event_id"] for resp in responses if resp.status_code == 202
                for r in resp.json()["results"] if r["status"] == "accepted"]
    assert sorted(accepted) == sorted(e["event_id"] for e in batch)
    records = await on_inbound(kafka, set(accepted), count=20, settle=1.0)
    assert len(records) == 20


async def test_overlapping_concurrent_batches_of_many_shops_write_each_event_once(
        client, kafka):
    """Requests that share some events, over several shops, sent at once and resent
    until taken: every event is accepted by exactly one request and written once."""
    shops = [unique("shop") for _ in range(4)]
    pool = [buyer_message(shops[i % 4]) for i in range(40)]
    requests = [pool[i * 5:i * 5 + 15] for i in range(6)]  # each overlaps the next
    accepted: list[str] = []

    async def until_taken(batch: list[dict]) -> None:
        async def taken() -> bool:
            response = await client.send(batch)
            if response.status_code != 202:
                return False
            accepted.extend(r["event_id"] for r in response.json()["results"]
                            if r["status"] == "accepted")
            return True

        assert await wait_until(taken, timeout=30, interval=0.2)

    await asyncio.gather(*(until_taken(batch) for batch in requests))
    sent = {e["event_id"] for batch in requests for e in batch}
    assert sorted(accepted) == sorted(sent)
    records = await on_inbound(kafka, sent, count=len(sent), settle=1.0)
    assert len(records) == len(sent)


async def test_over_the_in_flight_budget_is_429_with_retry_after(client, gateway):
    """A request holds its declared length from its headers on; one that arrives while
    another holds the whole budget is refused at once, not buffered."""
    body = ndjson(wordy_messages(100))
    assert BODY_LIMIT // 2 < len(body) <= BODY_LIMIT
    half = asyncio.Event()

    async def slow_body():
        yield body[:100]
        await half.wait()
        yield body[100:]

    headers = signed_headers(SECRET, body, NDJSON) | {"Content-Length": str(len(body))}
    holding = asyncio.create_task(client.http.post("/v1/events", content=slow_body(),
                                                   headers=headers))
    assert await wait_until(lambda: _in_flight_bytes(client), timeout=10)
    refused = await client.send(wordy_messages(100))
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    half.set()
    assert (await holding).status_code == 202


def wordy_messages(count: int) -> list[dict]:
    shop = unique("shop")
    return [buyer_message(shop) | {"payload": {**buyer_message(shop)["payload"],
                                               "text": "请问这件还有货吗" * 50}}
            for _ in range(count)]


async def _in_flight_bytes(client: Integrator) -> bool:
    text = (await client.http.get("/metrics")).text
    line = next(x for x in text.splitlines() if x.startswith("kefu_gateway_in_flight_bytes "))
    return float(line.split()[1]) > 0


async def test_a_client_gone_mid_body_gives_its_budget_back(client, gateway):
    body = ndjson(wordy_messages(100))
    headers = signed_headers(SECRET, body, NDJSON)
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway.health.port)
    writer.write(f"POST /v1/events HTTP/1.1\r\nHost: gateway\r\n{head}"
                 f"Content-Length: {len(body)}\r\n\r\n".encode() + body[:1000])
    await writer.drain()
    assert await wait_until(lambda: _in_flight_bytes(client), timeout=10)
    writer.close()
    await writer.wait_closed()

    async def given_back() -> bool:
        return not await _in_flight_bytes(client)

    assert await wait_until(given_back, timeout=10)
    assert (await client.send(wordy_messages(100))).status_code == 202


async def test_slow_acks_are_429_and_a_resend_is_then_a_duplicate(
        stack, kafka, tmp_path_factory):
    settings = gateway_settings(stack, tmp_path_factory, gateway_ack_timeout="0.000001")
    app = create_app(settings, environ={"OWN_SHOP_SECRET": "x"})
    async with started(app, "gateway"), integrator(app, SECRET) as impatient:
        batch = [buyer_message(unique("shop")) for _ in range(50)]
        slow = await impatient.send(batch)
        assert slow.status_code == 429 and slow.json()["error"] == "broker_slow"
        assert int(slow.headers["Retry-After"]) >= 1

        async def resent_as_duplicates() -> bool:
            response = await impatient.send(batch)
            return response.status_code == 202 and response.json()["duplicates"] == 50

        assert await wait_until(resent_as_duplicates, timeout=30, interval=0.2)
    records = await on_inbound(kafka, {e["event_id"] for e in batch}, count=50, settle=1.0)
    assert len(records) == 50


async def test_events_are_routed_end_to_end_and_routed_ones_are_duplicates(
        client, kafka, router, redis):
    shop = unique("shop")
    sent = event("buyer.message", shop, conversation_id=unique("c"), buyer_id="b",
                 message_id=unique("m"), text="我要退货退款，衣服破了")
    assert (await client.send(sent)).status_code == 202
    routed = await kafka.collect(topics.ROLE_AFTERSALE,
                                 lambda body, _: body.get("event_id") == sent["event_id"])
    ((body, _),) = routed
    assert body["routing"]["role"] == "aftersale"
    seen = f"kefu:{{{shop}}}:seen:{sent['event_id']}"
    assert await wait_until(lambda: redis.exists(seen), timeout=10)
    again = (await client.send(sent)).json()["results"][0]
    assert (again["status"], again["detail"]) == ("duplicate", "already received and routed")
    # an event that reached kefu.inbound another way is a duplicate too
    direct = buyer_message(shop)
    await kafka.send(topics.INBOUND, direct, direct["payload"]["conversation_id"])
    direct_seen = f"kefu:{{{shop}}}:seen:{direct['event_id']}"
    assert await wait_until(lambda: redis.exists(direct_seen), timeout=30)
    assert (await client.send(direct)).json()["results"][0]["status"] == "duplicate"


async def test_health_readiness_metrics_and_the_openapi_document(client):
    assert (await client.http.get("/healthz")).json()["service"] == "gateway"
    ready = await client.http.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["broker"]
    metrics = (await client.http.get("/metrics")).text
    for name in ('kefu_gateway_requests_total{status="202"}',
                 'kefu_gateway_requests_total{status="401"}',
                 'kefu_gateway_events_total{outcome="accepted",reason=""}',
                 'kefu_gateway_events_total{outcome="rejected",reason="naive_timestamp"}',
                 "kefu_gateway_request_seconds_bucket", "kefu_gateway_in_flight_requests",
                 'kefu_events_out_total{topic="kefu.inbound"}'):
        assert name in metrics, name
    document = (await client.http.get("/openapi.json")).json()
    body = document["paths"]["/v1/events"]["post"]["requestBody"]["content"]
    assert set(body) == {"application/json", NDJSON}
    assert "BuyerMessageEvent" in document["components"]["schemas"]
