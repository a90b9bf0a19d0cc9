"""How every service publishes (services.core.kafka.send_records), on the real broker:
each key lands where `producer.send()` (and the Java client) would put it, a key's
records stay in order also across several produce batches of one partition, and a
record over the size limit is refused as `producer.send()` refuses it."""

from __future__ import annotations

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import MessageSizeTooLargeError

from services.core.kafka import CachedKeyPartitioner, create_producer, create_topics, send_records
from services.core.runtime import all_acked
from services.core.settings import OUTPUT_OVERHEAD
from tests.conftest import unique

HEADERS = [("content-type", b"application/json")]
PARTITIONS = 5


@pytest.fixture
async def producer(stack):
    producer = create_producer(stack.settings(), service="test")
    await producer.start()
    yield producer
    await producer.stop()


async def new_topic(stack) -> str:
    topic = unique("test.send")
    await create_topics(stack.settings(), [topic], partitions=PARTITIONS)
    return topic


async def read_all(stack, topic: str, count: int) -> dict[int, list[tuple[bytes, bytes]]]:
    """partition -> [(key, value)] in log order."""
    consumer = AIOKafkaConsumer(bootstrap_servers=stack.broker.bootstrap,
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, p) for p in range(PARTITIONS)])
        found: dict[int, list[tuple[bytes, bytes]]] = {}
        seen = 0
        for _ in range(100):
            batch = await consumer.getmany(timeout_ms=200)
            for tp, records in batch.items():
                found.setdefault(tp.partition, []).extend((r.key, r.value) for r in records)
                seen += len(records)
            if seen >= count:
                break
        return found
    finally:
        await consumer.stop()


async def test_keys_land_where_send_puts_them_and_stay_in_order(stack, producer) -> None:
    ours, theirs = await new_topic(stack), await new_topic(stack)
    pairs = [(f"conv-{i % 37}-亲".encode(), f'{{"n": {i}, "t": "{"发货" * (i % 50)}"}}'.encode())
             for i in range(600)]
    futures = await send_records(producer, [(ours, k, v) for k, v in pairs],
                                 headers=HEADERS, partitioner=CachedKeyPartitioner(),
                                 max_request_size=2 * 1024 * 1024)
    await all_acked(futures)
    await all_acked([await producer.send(theirs, v, key=k, headers=HEADERS) for k, v in pairs])

    assert await read_all(stack, ours, 600) == await read_all(stack, theirs, 600)


async def test_a_partition_over_one_batch_keeps_its_order(stack) -> None:
    topic = await new_topic(stack)
    settings = stack.settings(kafka_max_message_bytes=1024 * 1024,
                              max_event_bytes=1024 * 1024 - OUTPUT_OVERHEAD)
    producer = create_producer(settings, service="test")
    await producer.start()
    try:
        value = b"x" * 20_000  # 2,000 records, 40 MB: many 512 KiB batches per partition
        records = [(topic, b"one-key", value + str(i).encode()) for i in range(2000)]
        futures = await send_records(producer, records, headers=HEADERS,
                                     partitioner=CachedKeyPartitioner(),
                                     max_request_size=settings.kafka_max_message_bytes)
        await all_acked(futures)
    finally:
        await producer.stop()
    assert len(futures) > 1
    (partition,) = (found := await read_all(stack, topic, 2000)).keys()
    assert [v for _, v in found[partition]] == [v for _, _, v in records]


async def test_a_record_over_the_limit_is_refused(stack) -> None:
    topic = await new_topic(stack)
    limit = 1024 * 1024
    settings = stack.settings(kafka_max_message_bytes=limit,
                              max_event_bytes=limit - OUTPUT_OVERHEAD)
    producer = create_producer(settings, service="test")
    await producer.start()
    try:
        fits = (topic, b"k", b"y" * (limit - 1000))
        too_large = (topic, b"k", b"y" * (limit + 1))
        futures = await send_records(producer, [fits], headers=HEADERS,
                                     partitioner=CachedKeyPartitioner(), max_request_size=limit)
        await all_acked(futures)
        with pytest.raises(MessageSizeTooLargeError, match="maximum request size"):
            await send_records(producer, [too_large], headers=HEADERS,
                               partitioner=CachedKeyPartitioner(), max_request_size=limit)
        with pytest.raises(MessageSizeTooLargeError):  # the verdict of producer.send()
            await producer.send(topic, too_large[2], key=b"k", headers=HEADERS)
    finally:
        await producer.stop()
    assert sum(map(len, (await read_all(stack, topic, 1)).values())) == 1


async def test_placed_tells_which_batch_holds_each_record(stack) -> None:
    """The gateway's view: every record is in exactly one placed batch, and a batch's
    records are the ones the broker stored at that batch's partition and offsets."""
    topic = await new_topic(stack)
    settings = stack.settings(kafka_max_message_bytes=1024 * 1024,
                              max_event_bytes=1024 * 1024 - OUTPUT_OVERHEAD)
    producer = create_producer(settings, service="test")
    await producer.start()
    try:
        records = [(topic, f"order-{i % 7}".encode(), b"v" * 3000 + str(i).encode())
                   for i in range(600)]  # 1.8 MB: several batches on some partitions
        placed: list = []
        futures = await send_records(producer, records, headers=HEADERS,
                                     partitioner=CachedKeyPartitioner(),
                                     max_request_size=settings.kafka_max_message_bytes,
                                     placed=placed)
        await all_acked(futures)
    finally:
        await producer.stop()
    assert [future for future, _ in placed] == futures
    assert sorted(p for _, positions in placed for p in positions) == list(range(600))
    stored = await read_all(stack, topic, 600)
    assert len(placed) > len(stored)  # some partition's records were cut into batches
    for future, positions in placed:
        ack = future.result()
        log = stored[ack.partition]
        start = next(i for i, (_, v) in enumerate(log) if v == records[positions[0]][2])
        assert [v for _, v in log[start:start + len(positions)]] == [
            records[p][2] for p in positions
        ]
