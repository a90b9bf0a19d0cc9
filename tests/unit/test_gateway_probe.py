"""The broker probe: one metadata round trip answers every request for a while, and
requests that ask at once share it."""

from __future__ import annotations

import asyncio

from services.gateway.probe import BrokerProbe
from tests.support.gateway import FakeBroker


async def test_an_answer_is_reused_until_it_is_old_or_a_fresh_one_is_asked() -> None:
    now = [100.0]
    broker = FakeBroker()
    probe = BrokerProbe(broker.check, max_age=1.0, clock=lambda: now[0])
    assert await probe.reachable() and await probe.reachable()
    assert broker.asked == 1
    broker.up = False
    assert await probe.reachable()  # still the answer of a moment ago
    now[0] += 1.0
    assert not await probe.reachable()
    broker.up = True
    assert await probe.reachable(fresh=True)
    assert broker.asked == 3


async def test_concurrent_requests_share_one_round_trip() -> None:
    gate = asyncio.Event()
    asked = 0

    async def slow_check() -> bool:
        nonlocal asked
        asked += 1
        await gate.wait()
        return True

    probe = BrokerProbe(slow_check)
    waiting = [asyncio.create_task(probe.reachable()) for _ in range(10)]
    await asyncio.sleep(0)
    gate.set()
    assert all(await asyncio.gather(*waiting)) and asked == 1


async def test_a_check_that_raises_means_unreachable() -> None:
    async def broken() -> bool:
        raise OSError("connection refused")

    assert not await BrokerProbe(broken).reachable()
