"""Writing accepted events to `kefu.inbound` with kefu's producer (acks=all; keys and
partitions as every kefu producer and the Java client place them), and knowing per
event whether the broker acknowledged it."""

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

log = get_logger("kefu.gateway")


class Writer(Protocol):
    async def write(self, records: Sequence[tuple[bytes, bytes]]) -> list[bool]:
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

    async def write(self, records: Sequence[tuple[bytes, bytes]]) -> list[bool]:
        acked = [False] * len(records)
        producer = self.producer()
        if producer is None:
            return acked
        placed: list[tuple[asyncio.Future, list[int]]] = []
        try:
            await send_records(
                producer,
                ((INBOUND, key, value) for key, value in records),
                headers=JSON_HEADERS,
                partitioner=self.partitioner,
                max_request_size=self.max_request_size,
                placed=placed,
            )
        except Exception as exc:  # records not placed were never handed to the producer
            log.warning("produce failed", error=repr(exc), handed=len(placed))
        for future, positions in placed:
            try:
                await future
            except Exception as exc:
                log.warning("produce batch failed", error=repr(exc), records=len(positions))
                continue
            for position in positions:
                acked[position] = True
            self.written.inc(len(positions))
        return acked
