"""The gateway while the broker or Redis is gone: 503 and nothing accepted that was not
written, then the same request taken once they are back, each event written once.

The embedded broker keeps its log in memory: a restarted broker has no topics until
they are created again (as an operator would), and nothing else is done by hand."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from contracts import topics
from contracts.topics import ALL_TOPICS
from services.core.kafka import create_topics
from services.gateway.app import create_app
from tests.conftest import TEST_PARTITIONS, unique
from tests.support.faults import buyer_message
from tests.support.gateway import Integrator, integrator
from tests.support.kafka_io import wait_until
from tests.support.services import started

pytestmark = pytest.mark.e2e

SECRET = "faults-secret"


@pytest.fixture(scope="module")
async def gateway(stack, kafka):
    settings = stack.settings(ingest_secret=SECRET, gateway_ack_timeout="2s")
    async with started(create_app(settings, environ={}), "gateway") as app:
        yield app


@pytest.fixture
async def client(gateway):
    async with integrator(gateway, SECRET) as client:
        yield client


async def taken_once_back(client: Integrator, kafka, batch: list[dict]) -> None:
    """Resend `batch` until it is taken (every event accepted or a duplicate of an
    earlier write), then check that kefu.inbound holds each event exactly once."""
    async def taken() -> bool:
        response = await client.send(batch)
        return response.status_code == 202 and {
            r["status"] for r in response.json()["results"]} <= {"accepted", "duplicate"}

    assert await wait_until(taken, timeout=90, interval=0.5)
    ids = {e["event_id"] for e in batch}
    found = await kafka.collect(topics.INBOUND, lambda body, _: body.get("event_id") in ids,
                                count=len(ids), timeout=30, settle=2.0)
    written = [orjson.loads(record.value)["event_id"] for _, record in found]
    assert sorted(written) == sorted(ids)


async def test_broker_down_is_503_then_the_resent_request_is_written_once(
        client, stack, kafka):
    shop = unique("shop")
    assert (await client.send([buyer_message(shop)])).status_code == 202
    await asyncio.to_thread(stack.broker.kill)

    async def not_ready() -> bool:
        ready = await client.http.get("/readyz")
        return ready.status_code == 503 and ready.json()["checks"]["broker"] is False

    # Once the gateway saw the broker gone, nothing more is handed to its producer (a
    # write queued before would reach the restarted broker before its topics exist,
    # and the embedded broker acknowledges such writes without keeping them).
    assert await wait_until(not_ready, timeout=30)
    batch = [buyer_message(shop) for _ in range(10)]
    response = await client.send(batch)
    assert response.status_code == 503
    assert response.json()["error"] == "broker_unavailable"
    assert int(response.headers["Retry-After"]) > 0

    await asyncio.to_thread(stack.broker.start)
    await kafka.close()  # the test's own producer starts afresh, like any client would
    await create_topics(stack.settings(), list(ALL_TOPICS), partitions=TEST_PARTITIONS)
    await taken_once_back(client, kafka, batch)


async def test_redis_down_is_503_then_the_resent_request_is_written_once(
        client, stack, kafka):
    batch = [buyer_message(unique("shop")) for _ in range(10)]
    await asyncio.to_thread(stack.redis.stop)
    try:
        response = await client.send(batch)
        assert response.status_code == 503
        assert response.json()["error"] == "redis_unavailable"
    finally:
        await asyncio.to_thread(stack.redis.start)
    await taken_once_back(client, kafka, batch)
