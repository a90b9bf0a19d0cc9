"""A router started after the role services, on a backlog (a first deployment): its
first records reach presale before it has written any watermark. In a module of its own:
the stamped records it leaves on the role topic make every later reader of that
partition wait for a router, as they should."""

from __future__ import annotations

from datetime import timedelta

import orjson
import pytest
from redis.asyncio import Redis

from contracts import topics
from services.core.stage_watermarks import KEY as ROUTER_WATERMARKS
from services.core.stage_watermarks import PARTITIONS
from services.core.watermark import UNKNOWN, WATERMARK_HEADER
from tests.conftest import unique
from tests.e2e import role_replica as r
from tests.e2e.test_event_time import caught_up, escalation_key, full_ladder, of_shop
from tests.support.faults import FirstSeen, ends_of
from tests.support.kafka_io import wait_until
from tests.support.services import running

pytestmark = pytest.mark.e2e


@pytest.fixture
def settings(stack, tmp_path):
    return stack.settings(policy_file=r.write_policy(tmp_path, r.THREE_SECONDS))


async def test_a_router_first_started_on_a_backlog_after_presale_makes_no_false_breach(
        stack, kafka, settings, tmp_path) -> None:
    """A first deployment: presale runs before any router has written its watermark, then
    the router starts on a backlog in kefu.inbound. Its first batch (stamped UNKNOWN, as
    a router's first outputs are) holds buyer messages whose deadlines are long past; the
    replies follow in its next batch. Presale must not take being caught up on the first
    batch as proof that nothing else happened before the deadlines."""
    shop, t0 = unique("shop"), r.now() - timedelta(seconds=20)
    answered = [unique("ok") for _ in range(20)]
    unanswered = [unique("late") for _ in range(5)]
    producer = await kafka.producer()

    async def routed(body: dict, conv: str, partition: int, stamped: bool):
        headers = [(WATERMARK_HEADER, str(UNKNOWN).encode())] if stamped else []
        return await producer.send_and_wait(topics.ROLE_PRESALE, orjson.dumps(body),
                                            key=conv.encode(), partition=partition,
                                            headers=headers)

    redis = Redis.from_url(stack.redis.url)
    try:
        async with running("presale", settings):
            final, probe = await first_router_run(stack, kafka, settings, redis, routed,
                                                  shop, t0, answered, unanswered)
    finally:
        await redis.aclose()
    false = {key for key in final.ids if key[0] in set(answered)}
    assert not false, f"{len(false)} escalations for conversations answered in time"
    assert final.ids == full_ladder(unanswered + [probe])


async def first_router_run(stack, kafka, settings, redis, routed, shop, t0, answered,
                           unanswered):
    """The router's first batch (buyer messages), firing rounds after presale read it,
    the router's next batch (replies in time), then its first watermark; returns the
    shop's escalations once settled, and the probe conversation's id."""
    first = [await routed(r.buyer(shop, c, at=t0, buyer_id=f"b-{c}"), c, 0, True)
             for c in answered + unanswered]
    assert await wait_until(lambda: caught_up(stack, settings, ends_of(first)),
                            timeout=60), "presale did not read the router's first batch"
    # A conversation a producer wrote directly on another partition: once its whole
    # ladder is out, presale has run firing rounds after reading the first batch.
    probe = unique("probe")
    await routed(r.buyer(shop, probe, at=t0), probe, 1, False)
    ladder = FirstSeen(lambda b, _r: b["subject"]["id"] == probe, escalation_key)
    await kafka.collect(topics.ESCALATIONS, ladder, count=3, timeout=30)
    for conv in answered:  # the router's next batch: replies made within the SLA
        await routed(r.agent_says(shop, conv, at=t0 + timedelta(seconds=1)), conv, 0, True)
    # the router writes its first watermark: it has routed everything until now
    await redis.hset(ROUTER_WATERMARKS, mapping={PARTITIONS: 1,
                                                 "0": round(r.now().timestamp() * 1000)})
    seen = FirstSeen(of_shop(shop), escalation_key)
    await kafka.collect(topics.ESCALATIONS, seen, count=3 * (len(unanswered) + 1), timeout=30)
    final = FirstSeen(of_shop(shop), escalation_key)
    await kafka.collect(topics.ESCALATIONS, final, count=len(seen.ids) + 1, timeout=2,
                        at_least=len(seen.ids))
    return final, probe
