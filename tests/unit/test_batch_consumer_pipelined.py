"""A pipelined BatchConsumer (the router's): the next batch is handled while the
previous one completes in the background, and the delivery rules still hold: outputs
in batch order, each batch committed only after its acks and after-ack effects, in
order; work abandoned at shutdown is never overtaken by later work."""

from __future__ import annotations

import asyncio

from aiokafka import TopicPartition
from redis.exceptions import ConnectionError as RedisConnectionError

from services.core.consumer import BatchConsumer
from services.core.health import AssignmentTracker
from services.core.metrics import Metrics
from services.core.outputs import BatchOutcome, Outgoing
from tests.support.kafka_io import wait_until
from tests.support.loop_turns import settle, until
from tests.unit.test_batch_consumer import record


class Batch:
    def __init__(self, name: str, log: list[str]) -> None:
        self.raw_message = (record(int(name)),)
        self.name, self.log = name, log

    async def ack(self) -> None:
        self.log.append(f"commit {self.name}")

    async def nack(self) -> None:
        self.log.append(f"rewind {self.name}")


class GatedPublisher:
    """Acks a batch's outputs once its gate opens (all gates open unless closed)."""

    def __init__(self, log: list[str]) -> None:
        self.log = log
        self.gates: dict[str, asyncio.Event] = {}
        self.down = False
        self.attempts = 0

    def close(self, name: str) -> None:
        self.gates[name] = asyncio.Event()

    async def __call__(self, outputs) -> None:
        name = outputs[0].value.decode()
        self.attempts += 1
        if self.down:
            raise RedisConnectionError("broker down")
        if name in self.gates:
            await self.gates[name].wait()
        self.log.append(f"acked {name}")


def handler(log: list[str]):
    async def handle(records):
        name = str(records[0].offset)
        log.append(f"handled {name}")

        async def effect():
            log.append(f"effects {name}")

        return BatchOutcome([Outgoing("out", "k", name.encode())], [effect])

    return handle


def pipelined(handle, publish, stopping=None) -> BatchConsumer:
    return BatchConsumer(service="test", handler=handle, publish=publish, metrics=Metrics("test"),
                         stopping=stopping or asyncio.Event(), max_backoff=0.01, pipelined=True)


async def test_the_next_batch_is_handled_while_the_previous_completes() -> None:
    log: list[str] = []
    publish = GatedPublisher(log)
    publish.close("1")
    consumer = pipelined(handler(log), publish)
    await consumer(Batch("1", log))
    assert log == ["handled 1"], "batch 1 is still waiting for its acks"
    second = asyncio.create_task(consumer(Batch("2", log)))
    await until(lambda: "handled 2" in log)
    await settle()
    assert log == ["handled 1", "handled 2"], "batch 2 is routed, not published"
    publish.gates["1"].set()
    await second
    await consumer.drain()
    assert log == ["handled 1", "handled 2", "acked 1", "effects 1", "commit 1",
                   "acked 2", "effects 2", "commit 2"]


async def test_work_abandoned_at_shutdown_is_not_overtaken() -> None:
    log: list[str] = []
    stopping = asyncio.Event()
    publish = GatedPublisher(log)
    publish.down = True
    consumer = pipelined(handler(log), publish, stopping)
    await consumer(Batch("1", log))  # its completion retries in the background
    second = asyncio.create_task(consumer(Batch("2", log)))
    await until(lambda: "handled 2" in log and publish.attempts >= 2)  # batch 1 retried
    stopping.set()
    await second
    await consumer.drain()
    assert log == ["handled 1", "handled 2", "rewind 2"], "neither published nor committed"


async def test_revocation_and_stop_wait_for_the_background_completion() -> None:
    log: list[str] = []
    publish = GatedPublisher(log)
    publish.close("1")
    consumer = pipelined(handler(log), publish)
    tracker = AssignmentTracker()
    tracker.in_flight = consumer.idle
    await consumer(Batch("1", log))
    revoking = asyncio.create_task(tracker.on_partitions_revoked({TopicPartition("t", 0)}))
    draining = asyncio.create_task(consumer.drain())
    await settle()
    assert not revoking.done() and not draining.done()
    publish.gates["1"].set()
    await asyncio.wait_for(asyncio.gather(revoking, draining), 5)
    assert log[-1] == "commit 1" and consumer.idle.is_set()


async def test_a_failed_completion_is_retried_until_done_and_never_overtaken() -> None:
    """A commit is cumulative: committing batch 2 after batch 1 failed would skip 1."""
    log: list[str] = []
    failures = iter([ValueError("refused by the broker"), ValueError("refused again")])

    async def publish(outputs) -> None:
        if outputs[0].value == b"1" and (error := next(failures, None)) is not None:
            raise error
        log.append(f"acked {outputs[0].value.decode()}")

    consumer = pipelined(handler(log), publish)
    await consumer(Batch("1", log))
    await consumer(Batch("2", log))
    await consumer.drain()
    assert log == ["handled 1", "handled 2", "acked 1", "effects 1", "commit 1", "acked 2",
                   "effects 2", "commit 2"]
    assert consumer.stuck.longest() == 0.0, "retried, then done"


async def test_a_partition_retrying_shows_in_its_metric_until_the_batch_is_done() -> None:
    log: list[str] = []
    broken = asyncio.Event()

    async def publish(outputs) -> None:
        if not broken.is_set():
            raise ValueError("a bug in the effects, say")
        log.append("acked")

    consumer = pipelined(handler(log), publish)
    await consumer(Batch("1", log))
    samples = lambda: consumer.metrics.registry.get_sample_value(  # noqa: E731
        "kefu_partition_retrying_seconds", {"topic": "kefu.inbound", "partition": "0"})
    assert await wait_until(lambda: samples() is not None and consumer.stuck.longest() > 0)
    broken.set()
    await consumer.drain()
    assert samples() is None and consumer.stuck.longest() == 0.0 and log == [
        "handled 1", "acked", "effects 1", "commit 1"]


async def test_a_completion_that_cannot_finish_is_given_up_at_shutdown() -> None:
    log: list[str] = []
    publish = GatedPublisher(log)
    publish.close("1")  # the broker never acks (it is away, and a commit would wait too)
    consumer = pipelined(handler(log), publish)
    await consumer(Batch("1", log))
    await asyncio.wait_for(consumer.drain(timeout=0.05), 5)
    assert log == ["handled 1"], "not committed: batch 1 will be redelivered"
    assert consumer.idle.is_set()


async def test_the_batch_waiting_for_a_completion_given_up_at_shutdown_is_rewound() -> None:
    log: list[str] = []
    stopping = asyncio.Event()
    publish = GatedPublisher(log)
    publish.close("1")
    consumer = pipelined(handler(log), publish, stopping)
    await consumer(Batch("1", log))
    second = asyncio.create_task(consumer(Batch("2", log)))
    await until(lambda: "handled 2" in log)  # routed, it waits for batch 1's acks
    await settle()
    stopping.set()
    await asyncio.wait_for(consumer.drain(timeout=0.05), 5)
    await asyncio.wait_for(second, 5)
    assert log == ["handled 1", "handled 2", "rewind 2"]


async def test_a_batch_fenced_out_holds_back_nothing_once_the_partitions_come_back() -> None:
    """A paused process wakes up: its batch's writes are refused (a newer owner took the
    partitions meanwhile), and so is every batch it had in hand. Once the group gives
    it partitions again, reading restarts at the committed offsets and goes on."""
    from services.core.retry import Fenced

    log: list[str] = []
    handle, fenced = handler(log), []

    async def fenced_once(records):
        outcome = await handle(records)
        if not fenced:
            fenced.append(records[0].offset)
            async def refused():
                raise Fenced("FENCED a newer owner of this timer shard took over")
            outcome.after_ack.append(refused)
        return outcome

    consumer = pipelined(fenced_once, GatedPublisher(log))
    tracker = AssignmentTracker()
    tracker.in_flight, tracker.reassigned = consumer.idle, consumer.rebalanced
    await consumer(Batch("1", log))
    await consumer(Batch("2", log))  # handled before the refusal was known: abandoned too
    assert "commit 1" not in log and "commit 2" not in log and "rewind 2" in log
    await tracker.on_partitions_revoked({TopicPartition("t", 0)})
    await tracker.on_partitions_assigned({TopicPartition("t", 0)})
    await consumer(Batch("1", log))  # read again from the committed offset
    await consumer.drain()
    assert log[-4:] == ["handled 1", "acked 1", "effects 1", "commit 1"]
