"""The gateway's claims in the real Redis (their Lua and TTLs): a claim is a lease that the
request writing its events renews, so a gateway that died mid-request frees its events
within one lease (a resend is then written), while a live write that waits on a slow
broker for longer than a lease keeps them (a concurrent resend stays `in_progress`)."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
from redis.asyncio import Redis

from services.gateway.budget import InFlightBudget
from services.gateway.claims import ClaimState, RedisClaims
from services.gateway.delivery import Delivery
from services.gateway.events import Candidate
from tests.conftest import unique
from tests.support.gateway import FakeWriter
from tests.support.kafka_io import wait_until

pytestmark = pytest.mark.e2e
LEASE = timedelta(milliseconds=500)


@pytest.fixture
async def claims(stack):
    redis = Redis.from_url(stack.redis.url)
    yield RedisClaims(redis, dedup_window=timedelta(minutes=5), lease=LEASE)
    await redis.aclose()


async def test_a_dead_requests_claims_free_their_events_within_a_lease(claims):
    event = (unique("shop"), unique("evt"))
    assert await claims.claim([event], "dead-gateway") == [ClaimState.CLAIMED]
    # Nobody renews the dead request's claim: a resend is taken once the lease ran out,
    # not minutes later.
    started = time.monotonic()
    assert await wait_until(lambda: _claimed(claims, event, "resend"),
                            timeout=10 * LEASE.total_seconds())
    assert time.monotonic() - started < 3 * LEASE.total_seconds()


async def test_a_live_write_keeps_its_claims_for_longer_than_a_lease(claims):
    shop = unique("shop")
    candidates = [Candidate(i, shop, unique("evt"), shop.encode(), b"{}") for i in range(3)]
    events = [(c.shop_id, c.event_id) for c in candidates]
    writer = FakeWriter()
    writer.hold = asyncio.Event()  # the broker has not acked yet
    delivery = Delivery(claims, writer)
    reservation = InFlightBudget(1 << 20).reserve(100)
    started = await delivery.start(candidates, reservation)
    await writer.started.wait()
    held_until = time.monotonic() + 4 * LEASE.total_seconds()
    resends: list[list[ClaimState]] = []

    async def resent_past_four_leases() -> bool:  # a concurrent resend all along
        resends.append(await claims.claim(events, "resend"))
        return time.monotonic() >= held_until

    assert await wait_until(resent_past_four_leases, timeout=20 * LEASE.total_seconds(),
                            interval=LEASE.total_seconds() / 4)
    assert len(resends) >= 4 and all(r == [ClaimState.BUSY] * 3 for r in resends), resends
    writer.hold.set()
    assert [o.status for o in await started.writing] == ["accepted"] * 3
    assert await claims.claim(events, "resend") == [ClaimState.ACCEPTED] * 3


async def _claimed(claims: RedisClaims, event, token: str) -> bool:
    return await claims.claim([event], token) == [ClaimState.CLAIMED]
