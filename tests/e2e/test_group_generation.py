"""The group generation read from aiokafka's coordinator is the broker's fencing token:
a rebalance raises it, and the broker refuses the older one (services/core/
group_generation.py reaches into aiokafka for it, so this runs on the real broker)."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener

from contracts import topics
from services.core.group_generation import generation_of, is_current
from services.core.waiting import wait_event
from tests.conftest import unique

pytestmark = pytest.mark.e2e


class Generations(ConsumerRebalanceListener):
    def __init__(self, consumer: AIOKafkaConsumer) -> None:
        self.consumer, self.seen, self.changed = consumer, [], asyncio.Event()

    async def on_partitions_revoked(self, revoked) -> None:
        pass

    async def on_partitions_assigned(self, assigned) -> None:
        self.seen.append(generation_of(self.consumer))
        self.changed.set()

    async def next(self) -> int:
        await wait_event(self.changed, 30)
        assert self.changed.is_set(), "no assignment within 30 s"
        self.changed.clear()
        return self.seen[-1]


@contextlib.asynccontextmanager
async def member(bootstrap: str, group: str):
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group,
                                enable_auto_commit=False, session_timeout_ms=6000,
                                heartbeat_interval_ms=500, rebalance_timeout_ms=2000)
    listener = Generations(consumer)
    consumer.subscribe([topics.ROLE_PRESALE], listener=listener)
    await consumer.start()
    polling = asyncio.create_task(_poll(consumer))
    try:
        yield listener
    finally:
        polling.cancel()
        await consumer.stop()


async def _poll(consumer: AIOKafkaConsumer) -> None:
    while True:
        await consumer.getmany(timeout_ms=200)


async def test_a_rebalance_raises_the_generation_and_the_older_one_is_refused(
        stack, kafka) -> None:
    group = unique("generations")
    async with member(stack.broker.bootstrap, group) as first:
        before = await first.next()
        assert before is not None and await is_current(first.consumer, before)
        async with member(stack.broker.bootstrap, group) as second:
            after = await first.next()
            assert await second.next() == after
            assert after > before
            assert await is_current(first.consumer, after)
            assert await is_current(second.consumer, after)
            assert not await is_current(first.consumer, before), \
                "the broker accepts a generation a rebalance replaced"


def test_no_generation_without_a_group() -> None:
    assert generation_of(None) is None
