"""A fencing service (the role services) handles a record only once the partition it
came from is its own: aiokafka hands out records of newly assigned partitions while the
`on_assigned` callback that takes their fencing generation is still running (Redis
refusing writes can hold it for seconds), and records of partitions being revoked while
the revocation waits. Such a batch would be written under a generation that is not (or
no longer) this process's. It is left for redelivery instead, and never handled."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, TopicPartition

from services.core.consumer import BatchConsumer
from services.core.health import AssignmentTracker
from services.core.metrics import Metrics
from services.core.outputs import BatchOutcome
from tests.unit.test_batch_consumer_pipelined import Batch

TP = TopicPartition("kefu.inbound", 0)


class Polled(Batch):
    """A batch as a Kafka consumer hands it out (never started: nothing connects)."""

    def __init__(self, name: str, log: list[str]) -> None:
        super().__init__(name, log)
        self.consumer = AIOKafkaConsumer()


def consumer(tracker: AssignmentTracker, handled: list[str]) -> BatchConsumer:
    async def handle(records):
        handled.append(str(records[0].offset))
        return BatchOutcome()

    async def publish(_outputs) -> None:
        return None

    return BatchConsumer(service="test", handler=handle, publish=publish,
                         metrics=Metrics("test"), stopping=asyncio.Event(), max_backoff=0.01,
                         pipelined=True, ownership=tracker)


class Watched(asyncio.Event):
    """An event that tells when somebody started waiting for it."""

    def __init__(self) -> None:
        super().__init__()
        self.waited = asyncio.Event()

    async def wait(self):
        self.waited.set()
        return await super().wait()


async def test_records_of_a_partition_still_being_fenced_are_not_handled() -> None:
    fencing, handled, log = Watched(), [], []

    async def take_generation(_partitions) -> None:
        await fencing.wait()  # Redis refuses the write meanwhile

    tracker = AssignmentTracker(on_assigned=take_generation)
    batches = consumer(tracker, handled)
    assigning = asyncio.create_task(tracker.on_partitions_assigned({TP}))
    await fencing.waited.wait()  # the callback is running; aiokafka already fetches
    await batches(Polled("1", log))
    assert handled == [] and log == ["rewind 1"], "handled before its generation was taken"
    fencing.set()
    await assigning
    await batches(Polled("1", log))
    assert handled == ["1"]


async def test_records_read_while_their_partition_is_revoked_are_not_handled() -> None:
    handled, log = [], []
    async def take_generation(_partitions) -> None:
        return None  # Redis takes it at once

    tracker = AssignmentTracker(on_assigned=take_generation)
    tracker.in_flight = Watched()  # another batch is in flight: the revocation waits
    batches = consumer(tracker, handled)
    await tracker.on_partitions_assigned({TP})
    revoking = asyncio.create_task(tracker.on_partitions_revoked({TP}))
    await tracker.in_flight.waited.wait()
    await batches(Polled("2", log))
    tracker.in_flight.set()
    await revoking
    await tracker.on_partitions_assigned(set())  # a member the group left out
    await batches(Polled("3", log))
    assert handled == [] and log == ["rewind 2", "rewind 3"]
