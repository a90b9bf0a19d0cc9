"""Waiting for an asyncio.Event with a time limit, letting go of a task nobody will
await, and taking turns with the rest of the event loop during long CPU work."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import TypeVar

T = TypeVar("T")


async def wait_event(event: asyncio.Event, timeout: float) -> bool:
    """True once `event` is set, False after `timeout` seconds without it.

    Built on asyncio.timeout rather than asyncio.wait_for: on Python 3.11, wait_for can
    swallow a cancellation that arrives as its timeout expires (CPython gh-86296), and a
    loop that sleeps with it then ignores the cancel and runs on."""
    if event.is_set():
        return True
    try:
        async with asyncio.timeout(timeout):
            await event.wait()
    except TimeoutError:
        return False
    return True


def let_go(task: asyncio.Future) -> None:
    """Cancel `task` if it still runs, and retrieve whatever it ends with: a failure
    nobody awaits is then not reported as "exception never retrieved"."""
    task.cancel()
    task.add_done_callback(retrieve)


def retrieve(future: asyncio.Future) -> None:
    """Mark the outcome of a finished future as seen."""
    if not future.cancelled():
        future.exception()


async def taking_turns(items: Sequence[T], size: int) -> AsyncIterator[Sequence[T]]:
    """`items` in slices of `size`, the event loop turning between two slices. Work on a
    big batch is CPU only; done in one go it holds up every other task's I/O for its
    whole length, such as the previous batch's write, which then reaches Redis later
    than it could and delays this batch's own round trips behind it."""
    for start in range(0, len(items), size):
        if start:
            await asyncio.sleep(0)
        yield items[start:start + size]
