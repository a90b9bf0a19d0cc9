"""Writing accepted events to `kefu.inbound` with kefu's producer (acks=all; keys and
partitions as every kefu producer and the Java client place them), and knowing per
event whether the broker acknowledged it.

Concurrent requests do not call the producer each on their own: their records queue up
and everything queued so far goes to the producer in one `send_records` call (group
commit, services.gateway.grouping), then what queued meanwhile, while the acks of the
earlier ones come back. One
caller means one record batch per partition per round instead of one per request, and
no crowd of requests waiting on the same partition's queue slot: aiokafka's
`send_batch` counts the time waited there cumulatively across wake-ups, and under 64
concurrent requests gave up with KafkaTimeoutError within seconds."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Protocol

from aiokafka import AIOKafkaProducer
from prometheus_client import Counter

from contracts.topics import INBOUND
from services.core.kafka import CachedKeyPartitioner, send_records
from services.core.logging import get_logger
from services.core.runtime import JSON_HEADERS
from services.gateway.grouping import Grouped

log = get_logger("kefu.gateway")
Records = Sequence[tuple[bytes, bytes]]


class Writer(Protocol):
    async def write(self, records: Records) -> list[bool]:
        """Send (key, value) records; once every one is settled, whether each was acked."""
        ...


class InboundWriter:
    def __init__(
        self,
        producer: Callable[[], AIOKafkaProducer | None],
        *,
        partitioner: CachedKeyPartitioner,
        max_request_size: int,
        written: Counter,
    ) -> None:
        self.producer, self.partitioner = producer, partitioner
        self.max_request_size = max_request_size
        self.written = written
        """kefu_events_out_total{topic="kefu.inbound"}"""
        self._grouped: Grouped[Records, asyncio.Future[list[bool]]] = Grouped(self._hand_over)
        self._settling: set[asyncio.Task] = set()

    async def write(self, records: Records) -> list[bool]:
        acks = await self._grouped.submit(records)
        return await acks

    async def _hand_over(self, jobs: list[Records]) -> list[asyncio.Future[list[bool]]]:
        """Hand every job's records to the producer in one go; one future per job, with
        its records' acks once the broker settled them."""
        placed = await self._send([record for records in jobs for record in records])
        loop = asyncio.get_running_loop()
        acks = [loop.create_future() for _ in jobs]
        settle = asyncio.create_task(self._settle(jobs, placed, acks))
        self._settling.add(settle)
        settle.add_done_callback(self._settling.discard)
        return acks

    async def _send(self, records: Records) -> list[tuple[asyncio.Future, list[int]]]:
        """Which produce batch holds which of `records`; records missing from the answer
        were never handed to the producer (not written)."""
        placed: list[tuple[asyncio.Future, list[int]]] = []
        producer = self.producer()
        if producer is None:
            return placed
        try:
            await send_records(
                producer,
                ((INBOUND, key, value) for key, value in records),
                headers=JSON_HEADERS,
                partitioner=self.partitioner,
                max_request_size=self.max_request_size,
                placed=placed,
            )
        except Exception as exc:
            log.warning("produce failed", error=repr(exc), handed=len(placed))
        return placed

    async def _settle(
        self,
        jobs: list[Records],
        placed: list[tuple[asyncio.Future, list[int]]],
        acks: list[asyncio.Future[list[bool]]],
    ) -> None:
        acked = [False] * sum(map(len, jobs))
        for future, positions in placed:
            try:
                await future
            except Exception as exc:
                log.warning("produce batch failed", error=repr(exc), records=len(positions))
                continue
            for position in positions:
                acked[position] = True
            self.written.inc(len(positions))
        start = 0
        for records, done in zip(jobs, acks, strict=True):
            done.set_result(acked[start:start + len(records)])
            start += len(records)
