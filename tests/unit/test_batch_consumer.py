"""BatchConsumer's delivery rules with small fakes: commit only after every output was
acked and after-ack effects ran; poison isolated to the DLQ; transient failures retried,
never committed; shutdown abandons uncommitted work for redelivery."""

from __future__ import annotations

import asyncio
from unittest.mock import create_autospec

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from redis.exceptions import ConnectionError as RedisConnectionError

from services.core.consumer import BatchConsumer
from services.core.metrics import Metrics
from services.core.outputs import BatchOutcome, Outgoing
from tests.support.loop_turns import settle


def record(offset: int, value: bytes = b"{}") -> ConsumerRecord:
    return ConsumerRecord("kefu.inbound", 0, offset, 0, 0, b"k", value, None, 0, len(value), [])


class FakeMessage:
    """Records whether the batch was committed (ack) or rewound (nack)."""

    def __init__(self, records, log):
        self.raw_message = tuple(records)
        self.log = log

    async def ack(self):
        self.log.append("commit")

    async def nack(self):
        self.log.append("rewind")


class FakePublisher:
    def __init__(self, log, fail_times=0):
        self.log, self.fail_times, self.sent = log, fail_times, []

    async def __call__(self, outputs):
        if self.fail_times:
            self.fail_times -= 1
            raise RedisConnectionError("broker or redis down")
        self.sent.extend(outputs)
        self.log.append(f"acked {len(outputs)}")


def consumer(handler, publish, stopping=None):
    return BatchConsumer(
        service="test",
        handler=handler,
        publish=publish,
        metrics=Metrics("test"),
        stopping=stopping or asyncio.Event(),
        max_backoff=0.01,
    )


def echo_handler(log):
    async def handle(records):
        outputs = [Outgoing("out", "k", r.value) for r in records]

        async def mark():
            log.append("after_ack")

        return BatchOutcome(outputs, [mark])

    return handle


async def test_commit_comes_after_acks_and_after_ack_effects():
    log = []
    publish = FakePublisher(log)
    await consumer(echo_handler(log), publish)(FakeMessage([record(0), record(1)], log))
    assert log == ["acked 2", "after_ack", "commit"]


async def test_transient_publish_failure_is_retried_then_committed_once():
    log = []
    publish = FakePublisher(log, fail_times=3)
    await consumer(echo_handler(log), publish)(FakeMessage([record(0)], log))
    assert log == ["acked 1", "after_ack", "commit"]
    assert len(publish.sent) == 1


async def test_poison_record_is_dead_lettered_alone():
    log = []

    async def handle(records):
        if any(r.value == b"boom" for r in records):
            raise ValueError("cannot handle this")
        return BatchOutcome([Outgoing("out", "k", r.value) for r in records])

    publish = FakePublisher(log)
    await consumer(handle, publish)(FakeMessage([record(0), record(1, b"boom"), record(2)], log))
    topics = [out.topic for out in publish.sent]
    assert topics == ["out", "kefu.dlq", "out"], "order kept, only the culprit dead-lettered"
    letter = orjson.loads(publish.sent[1].value)
    assert letter["reason"] == "processing_error" and "cannot handle this" in letter["detail"]
    assert letter["raw"] == "boom" and letter["offset"] == 1
    assert log[-1] == "commit"


async def test_shutdown_during_retries_rewinds_instead_of_committing():
    log = []
    stopping = asyncio.Event()

    async def handle(records):
        stopping.set()
        raise RedisConnectionError("redis down")

    await consumer(handle, FakePublisher(log), stopping)(FakeMessage([record(0)], log))
    assert log == ["rewind"]


@pytest.mark.parametrize("fail_step", ["handle", "after_ack"])
async def test_nothing_is_committed_while_a_dependency_is_down(fail_step):
    log = []
    stopping = asyncio.Event()
    attempts = 0
    retried_enough = asyncio.Event()

    def count_attempt():
        nonlocal attempts
        attempts += 1
        if attempts >= 5:
            retried_enough.set()

    async def handle(records):

        async def mark():
            count_attempt()
            raise RedisConnectionError("redis down")

        if fail_step == "handle":
            count_attempt()
            raise RedisConnectionError("redis down")
        return BatchOutcome([], [mark])

    task = asyncio.create_task(
        consumer(handle, FakePublisher(log), stopping)(FakeMessage([record(0)], log))
    )
    await asyncio.wait_for(retried_enough.wait(), timeout=10)
    assert "commit" not in log
    stopping.set()
    await task
    assert log[-1] == "rewind"


async def test_revocation_waits_for_the_in_flight_batch_to_commit():
    from services.core.health import AssignmentTracker

    log = []
    release = asyncio.Event()

    async def slow(records):
        await release.wait()
        return BatchOutcome([Outgoing("out", "k", r.value) for r in records])

    batch = consumer(slow, FakePublisher(log))
    tracker = AssignmentTracker()
    tracker.in_flight = batch.idle
    task = asyncio.create_task(batch(FakeMessage([record(0)], log)))
    await asyncio.sleep(0)
    revoking = asyncio.create_task(tracker.on_partitions_revoked({TopicPartition("t", 0)}))
    await settle()
    assert not revoking.done(), "revocation must wait for the batch in flight"
    release.set()
    await revoking
    assert log == ["acked 1", "commit"], "the batch committed before the partition left"
    await task


async def test_a_batch_commits_the_offset_after_its_last_record_of_each_partition():
    """What the group commits is where a restarted consumer resumes: one past the last
    record handled, per partition (one less would hand the last record out again, one
    more would skip one). The lag it reports is what is left after that."""
    log = []
    kafka = create_autospec(AIOKafkaConsumer, instance=True)
    kafka.highwater.side_effect = lambda tp: {0: 10, 1: 7}[tp.partition]
    read = [ConsumerRecord("kefu.inbound", partition, offset, 0, 0, b"k", b"{}", None, 0, 2, [])
            for partition, offset in ((0, 3), (1, 5), (0, 4), (1, 6))]
    message = FakeMessage(read, log)
    message.consumer = kafka
    batch = consumer(echo_handler(log), FakePublisher(log))
    await batch(message)
    kafka.commit.assert_awaited_once_with({TopicPartition("kefu.inbound", 0): 5,
                                           TopicPartition("kefu.inbound", 1): 7})
    lag = {s.labels["partition"]: s.value for m in batch.metrics.lag.collect()
           for s in m.samples}
    assert lag == {"0": 5, "1": 0}
