"""Analytics inserts what a trickle of records brings in a few batches, not one insert
per record: each batch costs ClickHouse inserts into up to nine tables, and a service
inserting record by record spent ~2 ms of CPU per event at 200 ev/s, more than the
router and role services together (soak 0e94b2). It asks the broker for at least
`KEFU_ANALYTICS_FETCH_MIN_BYTES` or `KEFU_ANALYTICS_FETCH_MAX_WAIT_MS`, whichever comes
first."""

from __future__ import annotations

import asyncio

import pytest

from contracts import topics
from tests.conftest import unique
from tests.e2e.test_router import order_event
from tests.support.kafka_io import wait_until
from tests.support.services import running

pytestmark = pytest.mark.e2e
TRICKLE = 40  # records, one every 25 ms: one second of a quiet shop's traffic


def handled(app) -> tuple[float, float]:
    """(records handled, batches handled) by the running service."""
    records = sum(s.value for m in app.metrics.events_in.collect() for s in m.samples
                  if s.name.endswith("_total"))
    batches = sum(s.value for m in app.metrics.batch_seconds.collect() for s in m.samples
                  if s.name.endswith("_count"))
    return records, batches


async def test_a_trickle_of_records_is_inserted_in_a_few_batches(stack, kafka, chdb_dir):
    settings = stack.settings(analytics_data_dir=chdb_dir, analytics_token="t",
                              analytics_database=unique("trickle").replace("-", "_"))
    shop = unique("shop")
    async with running("analytics", settings) as app:
        for _ in range(TRICKLE):
            order = unique("order")
            await kafka.send(topics.ORDERS, order_event("order.created", shop=shop,
                                                        order_id=order), key=order)
            await asyncio.sleep(0.025)  # the pace of the traffic, not a synchronisation
        assert await wait_until(lambda: handled(app)[0] >= TRICKLE, timeout=30)
        records, batches = handled(app)
    assert records == TRICKLE
    assert batches <= TRICKLE / 8, f"{TRICKLE} records in {batches:.0f} batches"
