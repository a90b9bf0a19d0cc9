"""One batch of valid inbound events -> what the router publishes and what the batch
proves of each partition's event-time watermark (pure: works on the batch's
`RouterState`, loaded before and written after by the handler)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from aiokafka import ConsumerRecord, TopicPartition

from services.core.logging import get_logger
from services.core.outputs import Outgoing
from services.core.watermark import UNKNOWN
from services.router.route import ClassifierFor, route_event
from services.router.state import RouterState

log = get_logger("kefu.router")

Parsed = tuple[Any, bytes, dict[str, Any]]
"""(event, its bytes, its JSON document): the router splices `routing` into the
original JSON rather than re-serialising the event."""


class RoutedBatch(NamedTuple):
    outputs: list[Outgoing]
    watermarks: dict[TopicPartition, int]


def claim_of(record: ConsumerRecord) -> str:
    """What a record writes into the dedup mark it takes: where it is, `partition:offset`."""
    return f"{record.partition}:{record.offset}"


def route_batch(parsed: Sequence[tuple[ConsumerRecord, Parsed]], state: RouterState,
                classifier_for: ClassifierFor, now: datetime, grace_ms: int) -> RoutedBatch:
    """Each event in order: its partition's watermark (its event time, never later than
    `now`, less the grace), then dropped as a duplicate or routed (`route_event`)."""
    routed_at, read_ms = now.isoformat(), round(now.timestamp() * 1000)
    outputs: list[Outgoing] = []
    marks: dict[tuple[str, int], int] = {}
    for record, (event, raw, data) in parsed:
        mark = min(round(event.occurred_at.timestamp() * 1000), read_ms) - grace_ms
        key = (record.topic, record.partition)
        if mark > marks.get(key, UNKNOWN):
            marks[key] = mark
        if state.is_duplicate(event.shop_id, event.event_id):
            log.debug("duplicate dropped", event_id=event.event_id, shop_id=event.shop_id)
            continue
        outputs.extend(route_event(event, raw, data, state, classifier_for, routed_at))
    return RoutedBatch(outputs, {TopicPartition(*key): mark for key, mark in marks.items()})
