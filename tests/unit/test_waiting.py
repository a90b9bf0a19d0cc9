"""wait_event: True when the event is set in time, False after the timeout, and a
cancellation is never lost (asyncio.wait_for on Python 3.11 swallows one that arrives
together with the event or the timeout: a service's sleeping loop then ran on and
the test system's shutdown hung)."""

from __future__ import annotations

import asyncio
import random

from services.core.waiting import wait_event


async def test_set_in_time_or_timed_out() -> None:
    event = asyncio.Event()
    assert await wait_event(event, 0.01) is False
    asyncio.get_running_loop().call_later(0.01, event.set)
    assert await wait_event(event, 5) is True
    assert await wait_event(event, 0) is True


async def test_a_loop_sleeping_with_it_always_stops_when_cancelled() -> None:
    rng = random.Random(7)
    stopping = asyncio.Event()  # never set: only cancellation can stop the loop

    async def sleeper() -> None:
        while True:
            await wait_event(stopping, 0.001)

    for _ in range(300):
        task = asyncio.create_task(sleeper())
        await asyncio.sleep(rng.uniform(0, 0.003))
        task.cancel()
        done, _ = await asyncio.wait([task], timeout=1)
        assert done and task.cancelled(), "the cancellation was swallowed"


async def test_a_cancellation_arriving_with_the_event_is_not_lost() -> None:
    event = asyncio.Event()
    task = asyncio.create_task(wait_event(event, 10))
    await asyncio.sleep(0)  # the task is waiting now
    event.set()
    task.cancel()
    await asyncio.wait([task], timeout=1)
    assert task.cancelled()
