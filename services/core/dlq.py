"""Dead letters: a record that cannot be processed goes to kefu.dlq with a reason, the
human detail and its original bytes, keyed like its source."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Generic, TypeVar

import orjson
from aiokafka import ConsumerRecord

from contracts import InvalidEvent
from contracts.enums import DlqReason
from contracts.outputs import DeadLetter
from contracts.topics import DLQ
from services.core.logging import get_logger
from services.core.masking import mask_sensitive
from services.core.metrics import Metrics
from services.core.outputs import Outgoing
from services.core.settings import OUTPUT_OVERHEAD

T = TypeVar("T")
log = get_logger("kefu.dlq")

MAX_RAW_BYTES = 1024 * 1024 - OUTPUT_OVERHEAD
"""How much of the original a letter keeps, as written in its JSON: with the rest of the
letter it fits the smallest message size kefu allows (KEFU_KAFKA_MAX_MESSAGE_BYTES)."""


def dead_letter(
    record: ConsumerRecord,
    *,
    reason: str,
    detail: str,
    service: str,
    max_raw_bytes: int = MAX_RAW_BYTES,
) -> Outgoing:
    """The DLQ message for `record`, keyed like it. Its raw bytes are kept up to
    `max_raw_bytes` (as written in the letter's JSON) so the letter always fits the
    topic's message size limit, whatever the bytes; a longer original stays readable at
    its source topic, partition and offset. Phone numbers and addresses that `detail`
    quotes from the input are masked (the raw bytes are kept as they were, for replay)."""
    letter = DeadLetter.from_bytes(
        record.value or b"",
        reason=reason,
        detail=mask_sensitive(detail)[:2000],
        source_topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        service=service,
        failed_at=datetime.now(UTC),
        max_raw_bytes=max_raw_bytes,
    )
    key = record.key.decode("utf-8", "replace") if record.key else ""
    return Outgoing.of(DLQ, key, letter)


def count_dead_letters(published: Sequence[Outgoing], metrics: Metrics) -> None:
    """Count the dead letters among outputs the broker has acked, by reason: the one
    place `kefu_dlq_total` grows, so a letter counts once however many retries it took
    to publish, whichever service and path wrote it."""
    reasons = Counter(orjson.loads(out.value)["reason"] for out in published if out.topic == DLQ)
    for reason, n in reasons.items():
        metrics.dlq.labels(reason).inc(n)


def reject(record: ConsumerRecord, bad: InvalidEvent, *, service: str, metrics: Metrics,
           max_raw_bytes: int = MAX_RAW_BYTES) -> Outgoing:
    """The dead letter of a record that failed to parse, counted (invalid input, DLQ by
    reason) and logged with its reason and position."""
    reason = str(bad.reason)
    metrics.events_in.labels(record.topic, "invalid").inc()
    log.info("invalid record dead-lettered", reason=reason, detail=bad.detail[:300],
             topic=record.topic, partition=record.partition, offset=record.offset)
    return dead_letter(record, reason=reason, detail=bad.detail, service=service,
                       max_raw_bytes=max_raw_bytes)


@dataclass(slots=True)
class ReadBatch(Generic[T]):
    """A batch as its handler sees it: each record that parsed, with what it parsed to,
    in order, and the dead letters of the others (published first, in order)."""

    parsed: list[tuple[ConsumerRecord, T]] = field(default_factory=list)
    letters: list[Outgoing] = field(default_factory=list)

    def count(self, metrics: Metrics, kind: Callable[[T], str]) -> None:
        """Count the valid input by topic and `kind`: once the handler has done with the
        batch, so that a batch handled again after an error is not counted twice."""
        for (topic, of_kind), n in Counter(
                (record.topic, kind(item)) for record, item in self.parsed).items():
            metrics.events_in.labels(topic, of_kind).inc(n)


class InputStage:
    """What every consuming service does first with each record: the size limit, then
    its own parse (contract models), and for anything invalid one dead letter with the
    reason and the original bytes, counted and logged the same way everywhere.
    `max_event_bytes` None: no limit (a reader of kefu's own outputs, which may be larger
    than the inbound limit)."""

    def __init__(self, *, service: str, metrics: Metrics, max_event_bytes: int | None) -> None:
        self.service, self.metrics, self.max_event_bytes = service, metrics, max_event_bytes

    def read(self, record: ConsumerRecord, parse: Callable[[bytes], T],
             letters: list[Outgoing]) -> T | None:
        """`parse(bytes)` of the record, or None with its dead letter added to `letters`
        (`parse` raises InvalidEvent for what the contract refuses)."""
        raw = record.value or b""
        try:
            if self.max_event_bytes is not None and len(raw) > self.max_event_bytes:
                raise InvalidEvent("oversize",
                                   f"{len(raw)} bytes is over the limit of {self.max_event_bytes}")
            return parse(raw)
        except InvalidEvent as bad:
            letters.append(reject(record, bad, service=self.service, metrics=self.metrics))
            return None

    def read_batch(self, records: Sequence[ConsumerRecord],
                   parse: Callable[[bytes], T] | Mapping[str, Callable[[bytes], T]],
                   ) -> ReadBatch[T]:
        """Every record read (`read`) with `parse`, or with the parser of its topic."""
        batch: ReadBatch[T] = ReadBatch()
        parser_of = parse.get if isinstance(parse, Mapping) else lambda _topic: parse
        for record in records:
            parser = parser_of(record.topic) or _not_read_here(self.service, record.topic)
            item = self.read(record, parser, batch.letters)
            if item is not None:
                batch.parsed.append((record, item))
        return batch


def _not_read_here(service: str, topic: str) -> Callable[[bytes], object]:
    def refuse(_raw: bytes):
        raise InvalidEvent(DlqReason.PROCESSING_ERROR, f"{service} does not read {topic}")
    return refuse
