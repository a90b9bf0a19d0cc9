"""The baseline of every throughput benchmark: a raw aiokafka consume->produce
passthrough on the same broker, in the same run."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer

from benchmarks.common.kafka_io import HEADERS
from services.core.kafka import CachedKeyPartitioner, create_producer, send_records
from services.core.runtime import all_acked
from services.core.settings import Settings

RAW_IN, RAW_OUT = "bench.raw.in", "bench.raw.out"


@dataclass
class Baseline:
    events_per_s: float
    cpu_us_per_event: float
    cores: float
    server_cores: float
    runs: tuple[float, ...] = ()  # events/s of each run averaged, if more than one

    def averaged_with(self, other: Baseline) -> Baseline:
        """The mean of two runs: one before and one after the router's run, so that a
        shared machine speeding up or slowing down in between does not decide the ratio."""
        return Baseline(
            (self.events_per_s + other.events_per_s) / 2,
            (self.cpu_us_per_event + other.cpu_us_per_event) / 2,
            (self.cores + other.cores) / 2,
            (self.server_cores + other.server_cores) / 2,
            runs=(self.events_per_s, other.events_per_s),
        )


async def baseline(settings: Settings, n: int, max_records: int,
                   servers_cpu: Callable[[], float], *, batched: bool = False) -> Baseline:
    """Consume RAW_IN, produce each record unchanged to RAW_OUT: batch getmany, queue
    the batch's records, await their acks, commit the batch. The producer and the wait
    for acks are those every kefu service publishes through (same acks, linger, batch
    size and partitioner). Records are queued with `producer.send()` each, the plain
    aiokafka way and the reference of the router's target; `batched` queues them with
    `send_records` (a record batch per partition), as kefu's services do. Events/s from
    the first batch received to the last commit (group join excluded)."""
    bootstrap = settings.kafka_bootstrap
    consumer = AIOKafkaConsumer(RAW_IN, bootstrap_servers=bootstrap,
                                group_id=f"bench-raw-{uuid.uuid4().hex[:8]}",
                                enable_auto_commit=False, auto_offset_reset="earliest")
    producer = create_producer(settings, service="bench-baseline")
    await producer.start()
    await consumer.start()
    partitioner = CachedKeyPartitioner()
    done, started, cpu, servers = 0, None, 0.0, 0.0
    try:
        deadline = time.monotonic() + 300
        while done < n and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=100, max_records=max_records)
            if not batch:
                continue
            if started is None:
                started, cpu, servers = time.perf_counter(), time.process_time(), servers_cpu()
            records = [r for rs in batch.values() for r in rs]
            if batched:
                futures = await send_records(
                    producer, [(RAW_OUT, r.key, r.value) for r in records], headers=HEADERS,
                    partitioner=partitioner, max_request_size=settings.kafka_max_message_bytes)
            else:
                futures = [await producer.send(RAW_OUT, r.value, key=r.key, headers=HEADERS)
                           for r in records]
            await all_acked(futures)
            await consumer.commit()
            done += len(records)
        elapsed = time.perf_counter() - (started or time.perf_counter())
        cpu, servers = time.process_time() - cpu, servers_cpu() - servers
    finally:
        await consumer.stop()
        await producer.stop()
    if done < n:
        raise RuntimeError(f"baseline moved only {done} of {n} events")
    return Baseline(n / elapsed, cpu / n * 1e6, cpu / elapsed, servers / elapsed)
