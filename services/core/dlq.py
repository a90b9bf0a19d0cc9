"""Dead letters: a record that cannot be processed goes to kefu.dlq with a reason, the
human detail and its original bytes, keyed like its source."""

from __future__ import annotations

from datetime import UTC, datetime

from aiokafka import ConsumerRecord

from contracts.outputs import DeadLetter
from contracts.topics import DLQ
from services.core.outputs import Outgoing


def dead_letter(record: ConsumerRecord, *, reason: str, detail: str, service: str) -> Outgoing:
    """The DLQ message for `record`; the key is the source key (or empty)."""
    letter = DeadLetter.from_bytes(
        record.value or b"",
        reason=reason,
        detail=detail[:2000],
        source_topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        service=service,
        failed_at=datetime.now(UTC),
    )
    key = record.key.decode("utf-8", "replace") if record.key else ""
    return Outgoing.of(DLQ, key, letter)
