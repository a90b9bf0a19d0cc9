"""The delivery rules as one reusable piece: a batch handler runs, every output is
published and acked by the broker, after-ack effects run, and only then is the input
committed. Transient failures are retried, poison records are dead-lettered, shutdown
abandons uncommitted work for redelivery.

Pipelined (`pipelined=True`), a batch's completion (acks, after-ack effects, commit)
runs in the background while the next batch is handled; the next batch's outputs are
published only once that completion is done, so outputs keep their order and the
delivery rules stay as above. Its handler must read its own writes: the next batch is
handled before the previous batch's after-ack effects are applied (the router's
context carries them over).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from faststream.kafka import KafkaMessage

from services.core.dlq import dead_letter
from services.core.logging import get_logger
from services.core.metrics import Metrics
from services.core.outputs import BatchOutcome, Outgoing
from services.core.progress import PartitionProgress
from services.core.retry import Fenced, ShuttingDown, is_transient, retry_transient
from services.core.stuck import Stuck
from services.core.waiting import wait_event

BatchHandler = Callable[[Sequence[ConsumerRecord]], Awaitable[BatchOutcome]]
SETTLE_WAIT = 0.5
"""Seconds to wait for an assignment to settle after rewinding a batch not yet owned."""


class Ownership(Protocol):
    settled: asyncio.Event

    def owns(self, records: Sequence[ConsumerRecord]) -> bool: ...

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
        pipelined: bool = False,
        progress: PartitionProgress | None = None,
        lock: asyncio.Lock | None = None,
        ownership: Ownership | None = None,
    ) -> None:
        self.service = service
        self.handler = handler
        self.publish = publish
        self.metrics = metrics
        self.stopping = stopping
        self.max_backoff = max_backoff
        self.pipelined = pipelined
        self.progress = progress
        """Told what each committed batch read and proved (event-time watermarks)."""
        self.stuck = Stuck(metrics.registry)
        self.lock = lock
        """Held while a batch is handled (and, unless pipelined, until it is committed):
        other work on the same partitions (the role services' timer firing) takes it,
        then waits for `quiesce`."""
        self.ownership = ownership
        """When set (services that fence a partition's previous owner), a batch is handled
        only if every record's partition is this process's now; else it is rewound."""
        self.idle = asyncio.Event()
        """Set while no batch is being handled or completed (rebalances wait for it)."""
        self.idle.set()
        self._handling = False
        self._completing: asyncio.Task | None = None
        self._effects: asyncio.Future | None = None

    async def __call__(self, msg: KafkaMessage) -> None:
        if (self.ownership is not None and _from_broker(msg)
                and not self.ownership.owns(_records_of(msg))):
            await self._not_ours(msg)
            return
        self._handling = True
        self.idle.clear()
        try:
            if self.lock is None:
                await self._process(msg)
            else:
                async with self.lock:
                    await self._process(msg)
        finally:
            self._handling = False
            self._update_idle()

    async def _not_ours(self, msg: KafkaMessage) -> None:
        """Rewind a batch of partitions this process does not own (yet, or any more), and
        wait a moment for the assignment to settle."""
        log.info("batch of partitions not owned yet or any more; left for redelivery",
                 records=len(_records_of(msg)))
        try:
            await msg.nack()
        except Exception as exc:  # noqa: BLE001 - revoked meanwhile: nothing to rewind
            log.info("rewind failed", error=f"{type(exc).__name__}: {exc}")
        await wait_event(self.ownership.settled, SETTLE_WAIT)

    def rebalanced(self) -> None:
        """The group gave this consumer its partitions anew, and reading restarts at
        their committed offsets: a batch abandoned before (its writes were fenced out:
        another process owned its partitions meanwhile) no longer holds back the next."""
        effects = self._effects
        if self.stopping.is_set() or effects is None or not effects.done():
            return
        if effects.cancelled() or not effects.result():
            self._completing = self._effects = None

    async def drain(self, timeout: float | None = None) -> None:
        """Wait until the previous batch's background completion is over; past `timeout`
        seconds cancel it (its batch stays uncommitted and is redelivered: a commit
        retries for as long as the broker is away)."""
        task = self._completing
        if task is None:
            return
        done, _ = await asyncio.wait([task], timeout=timeout)
        if not done:
            log.warning("batch completion cancelled at shutdown; it will be redelivered")
            task.cancel()
            await asyncio.wait([task])
        if self._completing is task:
            self._completing = None

    async def quiesce(self) -> None:
        """Wait until the last batch handled is completed (outputs acked, effects
        written, committed or abandoned). Called under `lock`, so that no next batch is
        being handled, it leaves the partitions' state all written (the role services'
        timer firing needs that)."""
        task = self._completing
        if task is not None:
            await asyncio.wait([task])

    def _update_idle(self, *_: Any) -> None:
        completing = self._completing is not None and not self._completing.done()
        if not self._handling and not completing:
            self.idle.set()

    async def _process(self, msg: KafkaMessage) -> None:
        records = _records_of(msg)
        started = time.perf_counter()
        outcome = None
        try:
            outcome = await self._retry("handle", lambda: self._handle(records), records)
            await self._previous_completed()
            if outcome is None:
                # A record broke the handler: redo the batch one record at a time, each
                # published and its effects applied before the next, so every record sees
                # exactly the state it would have seen in the batch; only the culprit is
                # dead-lettered.
                outcome = BatchOutcome()
                for record in records:
                    single = await self._retry("handle", lambda r=record: self._handle_one(r),
                                               (record,))
                    await self._complete(single, (record,))
                    for tp, mark in single.watermarks.items():
                        outcome.watermarks[tp] = max(mark, outcome.watermarks.get(tp, mark))
            elif self.pipelined and not self.stopping.is_set():
                effects = asyncio.get_running_loop().create_future()
                self._completing = asyncio.create_task(self._complete_and_commit(
                    outcome, msg, records, started, effects, self._completing))
                self._effects = effects
                self._completing.add_done_callback(self._update_idle)
                return
            else:
                await self._complete(outcome, records)
        except ShuttingDown as stop:
            _abandoned(outcome, records, stop)
            await msg.nack()
            return
        await self._commit_batch(msg, records, started, outcome)

    async def _previous_completed(self) -> None:
        """Wait until the previous batch's outputs were acked and its effects applied
        (its commit may still be on its way). If it was abandoned at shutdown, so is this
        batch (its outputs must not overtake the previous ones)."""
        task, effects = self._completing, self._effects
        if task is None or effects is None:
            return
        await asyncio.wait([task, effects], return_when=asyncio.FIRST_COMPLETED)
        done = effects.done() and not effects.cancelled() and effects.result()
        if not done:  # abandoned, or cancelled by drain() at shutdown
            raise ShuttingDown()

    async def _complete_and_commit(
        self, outcome: BatchOutcome, msg: KafkaMessage, records: Sequence[ConsumerRecord],
        started: float, effects: asyncio.Future, previous: asyncio.Task | None,
    ) -> bool:
        """The background completion of a pipelined batch; False if it was abandoned.
        `effects` is told when its outputs were acked and its effects applied: the next
        batch may publish then. Its commit waits for the previous batch's, so that
        commits never go back."""
        try:
            await self._complete(outcome, records)
        except ShuttingDown as stop:
            _abandoned(outcome, records, stop)
            effects.set_result(False)
            return False
        effects.set_result(True)
        if previous is not None:
            await asyncio.wait([previous])
        await self._commit_batch(msg, records, started, outcome)
        return True

    async def _commit_batch(
        self, msg: KafkaMessage, records: Sequence[ConsumerRecord], started: float,
        outcome: BatchOutcome,
    ) -> None:
        offsets = _next_offsets(records)
        self.stuck.cleared(offsets)
        committed = await self._commit(msg, offsets)
        if committed and self.progress is not None:
            self.progress.completed(offsets, outcome.watermarks)
        topic = records[0].topic if records else ""
        self.metrics.batch_seconds.labels(topic).observe(time.perf_counter() - started)
        self._record_lag(msg, offsets)

    async def _complete(self, outcome: BatchOutcome,
                        records: Sequence[ConsumerRecord] = ()) -> None:
        """Publish and wait for the acks, then run the after-ack effects."""
        await self._retry("publish", lambda: self.publish(outcome.outputs), records)
        for effect in outcome.after_ack:
            await self._retry("after_ack", effect, records)

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
        detail = f"{type(exc).__name__}: {exc}"
        letter = dead_letter(record, reason="processing_error", detail=detail, service=self.service)
        return BatchOutcome(outputs=[letter])

    async def _retry(self, step: str, func: Callable[[], Awaitable[Any]],
                     records: Sequence[ConsumerRecord] = ()) -> Any:
        """Retry `func` with backoff: only transient failures when handling (a record
        that breaks the handler is isolated instead), every failure when publishing and
        writing effects (a batch that was handled must not be skipped)."""
        def on_retry(exc: BaseException, attempt: int, delay: float) -> None:
            self.metrics.retries.labels(step).inc()
            self.stuck.failing(_next_offsets(records))
            log.warning(
                "failure; retrying" if is_transient(exc) else "failure, not transient; "
                "retrying until it succeeds (nothing is committed meanwhile)",
                step=step,
                attempt=attempt,
                delay=round(delay, 2),
                error=f"{type(exc).__name__}: {exc}",
                exc_info=exc if attempt == 1 and not is_transient(exc) else None,
            )

        return await retry_transient(
            func, stopping=self.stopping, on_retry=on_retry, cap=self.max_backoff,
            every_failure=step != "handle",
        )

    async def _commit(self, msg: KafkaMessage, offsets: dict[TopicPartition, int]) -> bool:
        """Commit the offsets after this batch's records. Not the consumer's position:
        when pipelined, the consumer has already fetched the next batch."""
        try:
            if _from_broker(msg):
                await msg.consumer.commit(offsets)
            else:  # FastStream's in-memory test broker and test doubles
                await msg.ack()
            return True
        except Exception as exc:  # a rebalance took the partitions: the new owner redoes it
            log.warning("commit failed; records will be redelivered", error=repr(exc))
            return False

    def _record_lag(self, msg: KafkaMessage, offsets: dict[TopicPartition, int]) -> None:
        consumer = getattr(msg, "consumer", None)
        if consumer is None or not hasattr(consumer, "highwater"):
            return
        for tp, position in offsets.items():
            try:
                high = consumer.highwater(tp)
            except Exception:  # partition revoked meanwhile
                continue
            if high is not None:
                self.metrics.lag.labels(tp.topic, str(tp.partition)).set(max(0, high - position))


def _abandoned(outcome: BatchOutcome | None, records: Sequence[ConsumerRecord],
               why: ShuttingDown) -> None:
    if isinstance(why, Fenced):
        log.warning("batch abandoned: a newer owner of its partitions took over",
                    records=len(records), detail=str(why))
    else:
        log.info("batch abandoned for redelivery at shutdown", records=len(records))
    for forget in outcome.on_abandon if outcome is not None else ():
        forget()


def _from_broker(msg: KafkaMessage) -> bool:
    """Read by a Kafka consumer (not FastStream's in-memory test broker, which has no
    group and no rebalances)."""
    return isinstance(getattr(msg, "consumer", None), AIOKafkaConsumer)


def _records_of(msg: KafkaMessage) -> tuple[ConsumerRecord, ...]:
    return msg.raw_message if isinstance(msg.raw_message, tuple) else (msg.raw_message,)


def _next_offsets(records: Sequence[ConsumerRecord]) -> dict[TopicPartition, int]:
    """Per partition, the offset after the batch's last record."""
    # Offsets grow within a partition: the last record of each partition wins. Keyed
    # by plain tuples first: a TopicPartition per record costs more than the rest.
    last = {(r.topic, r.partition): r.offset for r in records}
    return {TopicPartition(topic, partition): offset + 1
            for (topic, partition), offset in last.items()}
