"""What a role batch reads of its records (pure, but for the input stage's dead-letter
count and log): the valid events with the timer shard of their partition, one dead
letter per invalid record, the count of each event type, and what the records prove of
each partition's event-time watermark (`services/core/watermark.py`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from aiokafka import ConsumerRecord, TopicPartition

from contracts import InvalidEvent, parse_inbound, parse_routed
from contracts.topics import ORDER_EVENT_TYPES, ORDERS
from services.core.dlq import InputStage
from services.core.outputs import Outgoing
from services.core.progress import candidates_of
from services.core.timers.partitioned import partition_shard
from services.core.watermark import parse_stamp, record_watermark
from services.roles.clock_state import to_us


@dataclass(slots=True)
class Intake:
    events: list[tuple[object, str]] = field(default_factory=list)
    """(event, timer shard of its partition), in the order read."""
    letters: list[Outgoing] = field(default_factory=list)
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    """Valid events per (topic, event type)."""
    watermarks: dict[TopicPartition, int] = field(default_factory=dict)
    stamped: set[TopicPartition] = field(default_factory=set)
    """Partitions on which a record stamped by an upstream stage (the router) was read."""

    def extend(self, later: Intake) -> None:
        """Add what the records read after these gave."""
        self.events += later.events
        self.letters += later.letters
        self.counts.update(later.counts)
        self.watermarks = candidates_of([*self.watermarks.items(), *later.watermarks.items()])
        self.stamped |= later.stamped


def read_records(records: Sequence[ConsumerRecord], stage: InputStage, *,
                 read_ms: int, grace_ms: int) -> Intake:
    """`read_ms`: the reader's clock now (an event time ahead of it counts as it)."""
    intake, marks, partitions = Intake(), [], {}
    for record in records:
        parse = parse_order_event if record.topic == ORDERS else parse_routed
        event = stage.read(record, parse, intake.letters)
        stamp = parse_stamp(record.headers)
        occurred = to_us(event.occurred_at) // 1000 if event is not None else None
        if stamp is not None or occurred is not None:
            key = (record.topic, record.partition)
            tp = partitions.get(key) or partitions.setdefault(key, TopicPartition(*key))
            marks.append((tp, record_watermark(stamp, occurred or 0, read_ms, grace_ms)))
            if stamp is not None:
                intake.stamped.add(tp)
        if event is not None:
            intake.counts[(record.topic, event.event_type)] += 1
            intake.events.append((event, partition_shard(record)))
    intake.watermarks = candidates_of(marks)
    return intake


def parse_order_event(raw: bytes):
    """An inbound event of one of the types `kefu.orders` carries."""
    event = parse_inbound(raw)
    if event.event_type not in ORDER_EVENT_TYPES:
        raise InvalidEvent("unknown_event_type",
                           f"event_type: {event.event_type} does not belong on {ORDERS}")
    return event
