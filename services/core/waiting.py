"""Waiting for an asyncio.Event with a time limit, and letting go of a task nobody will
await."""

from __future__ import annotations

import asyncio


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
