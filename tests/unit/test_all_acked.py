"""Waiting for a batch's produce acks: every ack is awaited, the first failure is
raised, and no other failure is left unretrieved (asyncio would log it as lost)."""

from __future__ import annotations

import asyncio
import gc

import pytest
from aiokafka.errors import KafkaTimeoutError, NotLeaderForPartitionError

from services.core.runtime import all_acked
from tests.support.loop_turns import settle


def _loop_errors(loop: asyncio.AbstractEventLoop) -> list[dict]:
    errors: list[dict] = []
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    return errors


async def test_returns_once_every_ack_arrived() -> None:
    loop = asyncio.get_running_loop()
    futures = [loop.create_future() for _ in range(5)]
    waiter = asyncio.ensure_future(all_acked(futures))
    for future in futures[:4]:
        future.set_result(None)
    await settle()
    assert not waiter.done()  # one ack still missing
    futures[4].set_result(None)
    await asyncio.wait_for(waiter, 1)


async def test_raises_the_first_failure_and_retrieves_the_others() -> None:
    loop = asyncio.get_running_loop()
    errors = _loop_errors(loop)
    futures = [loop.create_future() for _ in range(4)]
    futures[0].set_result(None)
    futures[1].set_exception(NotLeaderForPartitionError())
    futures[2].set_exception(KafkaTimeoutError())
    with pytest.raises(NotLeaderForPartitionError):
        await all_acked(futures)
    futures[3].set_exception(KafkaTimeoutError())  # fails after the caller gave up
    await settle()
    del futures
    gc.collect()
    await settle()
    assert errors == []


async def test_an_empty_batch_needs_no_acks() -> None:
    await asyncio.wait_for(all_acked([]), 1)
