"""The soak's probe of an owed breach that never came, on the real Valkey: it finds the
conversation's stored clock and where its timer is, and says so when there is none."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from redis.asyncio import Redis

from benchmarks.soak.missing_probe import probe_missing
from services.core.timers.partitioned import PartitionTimers
from services.roles.escalation import RESPONSE_SLOT, timer_id
from services.roles.keys import RoleKeys
from tests.conftest import unique

pytestmark = pytest.mark.e2e
DEADLINE = datetime(2026, 12, 6, 0, 34, tzinfo=UTC)


async def test_the_probe_reports_the_stored_clock_and_where_its_timer_is(stack):
    client = Redis.from_url(stack.redis.url)
    shop, waiting, lost = unique("shop"), unique("conv"), unique("conv")
    try:
        timers = PartitionTimers(client, "presale")
        shard = f"{unique('kefu.role.presale')}:1"
        await timers.take([shard])
        tid = timer_id(shop, "presale", "conversation", waiting, RESPONSE_SLOT)
        await timers.run([timers.schedule(shard, [(tid, 1_796_517_240_000, b"payload")])])
        for conv in (waiting, lost):
            await client.hset(RoleKeys("presale").conv(shop, conv), "clock", f"clock of {conv}")

        found = await probe_missing(
            client, [(waiting, "first_response", DEADLINE), (lost, "first_response", DEADLINE),
                     ("conv-unknown", "next_response", DEADLINE)],
            {waiting: shop, lost: shop})
    finally:
        await client.aclose()

    by_conv = {entry["conversation"]: entry for entry in found}
    assert by_conv[waiting]["presale"]["conv"] == {"clock": f"clock of {waiting}"}
    [timer] = by_conv[waiting]["presale"]["timer"]
    assert (timer["shard"], timer["due_ms"], timer["lease_ms"], timer["payload"]) == (
        shard, 1_796_517_240_000, None, True)
    assert by_conv[lost]["presale"] == {"conv": {"clock": f"clock of {lost}"}, "timer": []}
    assert by_conv[lost]["aftersale"] == {"conv": {}, "timer": []}
    assert by_conv["conv-unknown"] == {"conversation": "conv-unknown", "sla": "next_response",
                                       "deadline": DEADLINE.isoformat(), "shop": None}
