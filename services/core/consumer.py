"""The delivery rules as one reusable piece: a batch handler runs, every output is
published and acked by the broker, after-ack effects run, and only then is the input
committed. Transient failures are retried, poison records are dead-lettered, shutdown
abandons uncommitted work for redelivery."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiokafka import ConsumerRecord, TopicPartition
from faststream.kafka import KafkaMessage

from services.core.dlq import dead_letter
from services.core.logging import get_logger
from services.core.metrics import Metrics
from services.core.outputs import BatchOutcome, Outgoing
from services.core.retry import ShuttingDown, is_transient, retry_transient

BatchHandler = Callable[[Sequence[ConsumerRecord]], Awaitable[BatchOutcome]]

log = get_logger("kefu.consumer")


class BatchConsumer:
    """Wraps a domain batch handler into a FastStream batch subscriber callback."""

    def __init__(
        self,
        *,
        service: str,
        handler: BatchHandler,
        publish: Callable[[Sequence[Outgoing]], Awaitable[None]],
        metrics: Metrics,
        stopping: asyncio.Event,
        max_backoff: float = 30.0,
    ) -> None:
        self.service = service
        self.handler = handler
        self.publish = publish
        self.metrics = metrics
        self.stopping = stopping
        self.max_backoff = max_backoff
        self.idle = asyncio.Event()
        self.idle.set()

    async def __call__(self, msg: KafkaMessage) -> None:
        self.idle.clear()
        try:
            await self._process(msg)
        finally:
            self.idle.set()

    async def _process(self, msg: KafkaMessage) -> None:
        records = msg.raw_message if isinstance(msg.raw_message, tuple) else (msg.raw_message,)
        started = time.perf_counter()
        try:
            outcome = await self._retry("handle", lambda: self._handle(records))
            if outcome is not None:
                await self._complete(outcome)
            else:
                # A record broke the handler: redo the batch one record at a time, each
                # published and its effects applied before the next, so every record sees
                # exactly the state it would have seen in the batch; only the culprit is
                # dead-lettered.
                for record in records:
                    single = await self._retry("handle", lambda r=record: self._handle_one(r))
                    await self._complete(single)
        except ShuttingDown:
            log.info("batch abandoned for redelivery at shutdown", records=len(records))
            await msg.nack()
            return
        await self._commit(msg)
        topic = records[0].topic if records else ""
        self.metrics.batch_seconds.labels(topic).observe(time.perf_counter() - started)
        self._record_lag(msg, records)

    async def _complete(self, outcome: BatchOutcome) -> None:
        """Publish and wait for the acks, then run the after-ack effects."""
        await self._retry("publish", lambda: self.publish(outcome.outputs))
        for effect in outcome.after_ack:
            await self._retry("after_ack", effect)

    async def _handle(self, records: Sequence[ConsumerRecord]) -> BatchOutcome | None:
        """The batch's outcome, or None when a record broke the handler (not transient)."""
        try:
            return await self.handler(records)
        except Exception as exc:
            if is_transient(exc):
                raise
            if len(records) == 1:
                return self._poison(records[0], exc)
            log.warning(
                "a record broke the batch; isolating it",
                records=len(records),
                error=f"{type(exc).__name__}: {exc}",
            )
            return None

    async def _handle_one(self, record: ConsumerRecord) -> BatchOutcome:
        try:
            return await self.handler((record,))
        except Exception as exc:
            if is_transient(exc):
                raise
            return self._poison(record, exc)

    def _poison(self, record: ConsumerRecord, exc: Exception) -> BatchOutcome:
        log.error(
            "processing error; record dead-lettered",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            error=f"{type(exc).__name__}: {exc}",
            exc_info=exc,
        )
        self.metrics.dlq.labels("processing_error").inc()
        detail = f"{type(exc).__name__}: {exc}"
        letter = dead_letter(record, reason="processing_error", detail=detail, service=self.service)
        return BatchOutcome(outputs=[letter])

    async def _retry(self, step: str, func: Callable[[], Awaitable[Any]]) -> Any:
        def on_retry(exc: BaseException, attempt: int, delay: float) -> None:
            self.metrics.retries.labels(step).inc()
            log.warning(
                "transient failure; retrying",
                step=step,
                attempt=attempt,
                delay=round(delay, 2),
                error=f"{type(exc).__name__}: {exc}",
            )

        return await retry_transient(
            func, stopping=self.stopping, on_retry=on_retry, cap=self.max_backoff
        )

    async def _commit(self, msg: KafkaMessage) -> None:
        try:
            await msg.ack()
        except Exception as exc:  # a rebalance took the partitions: the new owner redoes it
            log.warning("commit failed; records will be redelivered", error=repr(exc))

    def _record_lag(self, msg: KafkaMessage, records: Sequence[ConsumerRecord]) -> None:
        consumer = getattr(msg, "consumer", None)
        if consumer is None or not hasattr(consumer, "highwater"):
            return
        next_offsets: dict[tuple[str, int], int] = {}
        for r in records:  # offsets grow within a partition: the last record is the highest
            next_offsets[r.topic, r.partition] = r.offset + 1
        for (topic, partition), position in next_offsets.items():
            tp = TopicPartition(topic, partition)
            try:
                high = consumer.highwater(tp)
            except Exception:  # partition revoked meanwhile
                continue
            if high is not None:
                self.metrics.lag.labels(tp.topic, str(tp.partition)).set(max(0, high - position))
