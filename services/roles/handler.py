"""A role service's batch handler: parse (invalid input to the DLQ), run the batch
(`batches.py`), and say what its records prove of each partition's watermark."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence

from aiokafka import ConsumerRecord, TopicPartition

from contracts import InvalidEvent, parse_inbound, parse_routed
from contracts.topics import ORDER_EVENT_TYPES, ORDERS
from services.core.dlq import InputStage
from services.core.logging import get_logger
from services.core.metrics import Metrics
from services.core.outputs import BatchOutcome
from services.core.progress import candidates_of
from services.core.watermark import parse_stamp, record_watermark
from services.roles.batches import RoleBatches
from services.roles.clock_state import to_us

log = get_logger("kefu.roles")


def shard_of(record: ConsumerRecord) -> str:
    """The timer shard of a record's partition: `kefu.orders:3`."""
    return f"{record.topic}:{record.partition}"


def parse_order_event(raw: bytes):
    """An inbound event of one of the types `kefu.orders` carries."""
    event = parse_inbound(raw)
    if event.event_type not in ORDER_EVENT_TYPES:
        raise InvalidEvent("unknown_event_type",
                           f"event_type: {event.event_type} does not belong on {ORDERS}")
    return event


class RoleHandler:
    def __init__(self, *, role: str, batches: RoleBatches, metrics: Metrics,
                 max_event_bytes: int, grace_ms: int) -> None:
        self.role, self.batches, self.metrics = role, batches, metrics
        self.grace_ms = grace_ms
        self.input = InputStage(service=role, metrics=metrics, max_event_bytes=max_event_bytes)

    async def __call__(self, records: Sequence[ConsumerRecord]) -> BatchOutcome:
        outcome, events, marks, seen = BatchOutcome(), [], [], Counter()
        read_ms = round(time.time() * 1000)
        for record in records:
            parse = parse_routed if record.topic != ORDERS else parse_order_event
            event = self.input.read(record, parse, outcome.outputs)
            stamp = parse_stamp(record.headers)
            occurred = to_us(event.occurred_at) // 1000 if event is not None else None
            if stamp is not None or occurred is not None:
                tp = TopicPartition(record.topic, record.partition)
                marks.append((tp, record_watermark(stamp, occurred or 0, read_ms,
                                                   self.grace_ms)))
            if event is not None:
                seen[(record.topic, event.event_type)] += 1
                events.append((event, shard_of(record)))
        for (topic, kind), count in seen.items():
            self.metrics.events_in.labels(topic, kind).inc(count)
        outputs, write = await self.batches.run(events=events)
        outcome.outputs += outputs
        outcome.after_ack.append(write)
        outcome.on_abandon.append(self.batches.forget)
        outcome.watermarks = candidates_of(marks)
        return outcome
