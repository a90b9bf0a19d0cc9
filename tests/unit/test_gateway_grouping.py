"""Group commit: what is submitted while a flush runs goes out together in the next one,
each caller gets its own result, and a failed flush fails only its own callers."""

from __future__ import annotations

import asyncio

import pytest

from services.gateway.grouping import Grouped


class Flusher:
    def __init__(self) -> None:
        self.flushes: list[list[int]] = []
        self.gate = asyncio.Event()
        self.began = asyncio.Event()
        self.fail_next = False

    async def __call__(self, items: list[int]) -> list[int]:
        self.flushes.append(items)
        self.began.set()
        await self.gate.wait()
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("down")
        return [item * 10 for item in items]


async def test_callers_waiting_on_a_flush_share_the_next_one() -> None:
    flusher = Flusher()
    grouped = Grouped(flusher)
    first = asyncio.create_task(grouped.submit(1))
    await flusher.began.wait()
    rest = [asyncio.create_task(grouped.submit(n)) for n in (2, 3, 4)]
    await asyncio.sleep(0)  # they queue up while the first flush waits
    flusher.gate.set()
    assert [await t for t in (first, *rest)] == [10, 20, 30, 40]
    assert flusher.flushes == [[1], [2, 3, 4]]


async def test_a_failed_flush_fails_its_callers_only() -> None:
    flusher = Flusher()
    grouped = Grouped(flusher)
    flusher.fail_next = True
    failing = asyncio.create_task(grouped.submit(1))
    await flusher.began.wait()
    later = asyncio.create_task(grouped.submit(2))
    flusher.gate.set()
    with pytest.raises(ConnectionError):
        await failing
    assert await later == 20
    assert await grouped.submit(3) == 30  # and it goes on afterwards
