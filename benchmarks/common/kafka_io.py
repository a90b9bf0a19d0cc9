"""Kafka reads and writes of the benchmarks. Tansu's ListOffsets is unreliable for keyed
batches: log ends are read from fetch responses' high watermarks instead."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

HEADERS = [("content-type", b"application/json")]


def partitions(topic_names: Iterable[str], count: int) -> list[TopicPartition]:
    return [TopicPartition(t, p) for t in topic_names for p in range(count)]


async def log_ends(bootstrap: str, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                                enable_auto_commit=False, max_partition_fetch_bytes=1024,
                                fetch_max_wait_ms=50)
    await consumer.start()
    try:
        consumer.assign(tps)
        for tp in tps:
            consumer.seek(tp, 0)
        ends: dict[TopicPartition, int] = {}
        deadline = time.monotonic() + 15
        while len(ends) < len(tps) and time.monotonic() < deadline:
            await consumer.getmany(timeout_ms=100, max_records=1)
            ends.update({tp: hw for tp in tps if (hw := consumer.highwater(tp)) is not None})
        if len(ends) < len(tps):
            raise RuntimeError("could not read the log end offsets")
        return ends
    finally:
        await consumer.stop()


async def record_at(consumer: AIOKafkaConsumer, tp: TopicPartition, offset: int):
    consumer.seek(tp, offset)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        batch = await consumer.getmany(tp, timeout_ms=200, max_records=1)
        if batch.get(tp):
            return batch[tp][0]
    raise RuntimeError(f"no record at {tp} offset {offset}")


async def output_span(bootstrap: str, before: dict, after: dict) -> tuple[float, float]:
    """CreateTime (seconds) of the first and last records written between two snapshots."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                                enable_auto_commit=False, fetch_max_wait_ms=50)
    await consumer.start()
    try:
        grown = [tp for tp in after if after[tp] > before.get(tp, 0)]
        consumer.assign(grown)
        firsts, lasts = [], []
        for tp in grown:
            firsts.append((await record_at(consumer, tp, before.get(tp, 0))).timestamp)
            lasts.append((await record_at(consumer, tp, after[tp] - 1)).timestamp)
        return min(firsts) / 1000, max(lasts) / 1000
    finally:
        await consumer.stop()


async def new_producer(bootstrap: str, *, linger_ms: int = 5) -> AIOKafkaProducer:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=linger_ms,
                                max_batch_size=256 * 1024)
    await producer.start()
    return producer


async def produce_all(bootstrap: str, topic: str, records: list[tuple[bytes, bytes]],
                      ends: dict[TopicPartition, int] | None = None) -> float:
    """Produce every record, wait for all acks; track the log ends in `ends`. Returns s."""
    producer = await new_producer(bootstrap)
    started = time.perf_counter()
    try:
        futures = []
        for key, value in records:
            futures.append(await producer.send(topic, value, key=key, headers=HEADERS))
            if len(futures) >= 5000:
                track_ends(ends, await asyncio.gather(*futures))
                futures = []
        track_ends(ends, await asyncio.gather(*futures))
    finally:
        await producer.stop()
    return time.perf_counter() - started


def track_ends(ends: dict[TopicPartition, int] | None, metadata) -> None:
    if ends is None:
        return
    for md in metadata:
        tp = TopicPartition(md.topic, md.partition)
        ends[tp] = max(ends.get(tp, 0), md.offset + 1)


async def commit_group_at(bootstrap: str, group: str, offsets: dict[TopicPartition, int]) -> None:
    """Start a fresh (empty) group at these offsets instead of at the log start."""
    if not offsets:
        return
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group,
                                enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(list(offsets))
        await consumer.commit(offsets)
    finally:
        await consumer.stop()


async def wait_committed(bootstrap: str, group: str, ends: dict[TopicPartition, int], *,
                         check: Callable[[], None], timeout: float,
                         every: float = 0.05) -> float:
    """Poll the group's committed offsets every `every` seconds until they reach `ends`
    (the end of the backlog); returns that moment (time.monotonic()). Measures a service
    the way the passthrough baseline is measured: up to its last commit. `check` raises
    if a service died."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            check()
            offsets = await admin.list_consumer_group_offsets(group, partitions=list(ends))
            if all(offsets.get(tp) is not None and offsets[tp].offset >= end
                   for tp, end in ends.items()):
                return time.monotonic()
            await asyncio.sleep(every)
    finally:
        await admin.close()
    raise RuntimeError(f"group {group} did not commit the backlog in {timeout:.0f}s")
