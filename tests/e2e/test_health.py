"""Every service's HTTP endpoint: /healthz (live), /readyz (broker, Redis, group joined)
and /metrics (Prometheus), on the real broker and Redis."""

from __future__ import annotations

import aiohttp
import pytest

from contracts import example, topics
from tests.conftest import unique
from tests.support.kafka_io import wait_until
from tests.support.services import running

pytestmark = pytest.mark.e2e


async def get(port: int, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(
        f"http://127.0.0.1:{port}{path}", timeout=aiohttp.ClientTimeout(total=5)
    ) as resp:
        return resp.status, await resp.text()


async def test_health_ready_and_metrics(stack, kafka):
    settings = stack.settings()
    async with running("router", settings):
        port = settings.http_port
        assert (await get(port, "/healthz"))[0] == 200
        status, body = await get(port, "/readyz")
        assert status == 200 and '"ready": true' in body

        shop = unique("shop")
        event = example("buyer.message", event_id=unique("e"), shop_id=shop)
        await kafka.send(topics.INBOUND, event, event["payload"]["conversation_id"])
        await kafka.send(topics.INBOUND, b"not json", "k")

        async def counted() -> bool:
            text = (await get(port, "/metrics"))[1]
            return (
                'kefu_events_in_total{event_type="buyer.message",topic="kefu.inbound"}' in text
                and 'kefu_dlq_total{reason="invalid_json"} 1.0' in text
                and 'kefu_batch_seconds_count{topic="kefu.inbound"}' in text
                and 'kefu_events_out_total{topic="kefu.role.presale"}' in text
            )

        assert await wait_until(counted, timeout=30), (await get(port, "/metrics"))[1]


async def test_readyz_names_redis_while_it_is_down(stack, kafka):
    settings = stack.settings()
    async with running("router", settings):
        port = settings.http_port
        stack.redis.stop()
        try:
            status, body = await get(port, "/readyz")
            assert status == 503 and '"redis": false' in body
            assert (await get(port, "/healthz"))[0] == 200, "alive while a dependency is down"
        finally:
            stack.redis.start()

        async def ready_again() -> bool:
            return (await get(port, "/readyz"))[0] == 200

        assert await wait_until(ready_again, timeout=30)
