"""The router's batch handler: validate, drop duplicates, route, dead-letter the rest."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime

from aiokafka import ConsumerRecord, TopicPartition
from redis.asyncio import Redis

from contracts import INBOUND, parse_inbound_document
from services.core.dlq import InputStage
from services.core.logging import get_logger
from services.core.metrics import Metrics
from services.core.outputs import BatchOutcome
from services.core.watermark import UNKNOWN
from services.router.context import RouterContext
from services.router.route import ClassifierFor, route_event

log = get_logger("kefu.router")


def parse_with_bytes(raw: bytes):
    """(event, its bytes, its JSON document): the router splices `routing` into the
    original JSON rather than re-serialising the event."""
    event, data = parse_inbound_document(raw)
    return event, raw, data


class RouterHandler:
    def __init__(
        self,
        *,
        redis: Redis,
        classifier_for: ClassifierFor,
        metrics: Metrics,
        max_event_bytes: int,
        context_ttl: int,
        dedup_ttl: int,
        grace_ms: int = 0,
        service: str = "router",
    ) -> None:
        self.redis, self.classifier_for, self.metrics = redis, classifier_for, metrics
        self.input = InputStage(service=service, metrics=metrics, max_event_bytes=max_event_bytes)
        self.context_ttl, self.dedup_ttl = context_ttl, dedup_ttl
        self.service, self.grace_ms = service, grace_ms
        self._last_writes: dict = {}
        """The context writes of the batch routed last, until they are in Redis (the
        next batch may be routed before: services.core.consumer, "pipelined")."""

    async def __call__(self, records: Sequence[ConsumerRecord]) -> BatchOutcome:
        outcome = BatchOutcome()
        parsed, records_of = [], []
        for record in records:
            item = self.input.read(record, parse_with_bytes, outcome.outputs)
            if item is not None:
                parsed.append(item)
                records_of.append(record)
        ctx = RouterContext(
            self.redis, ttl=self.context_ttl, dedup_ttl=self.dedup_ttl, pending=self._last_writes
        )
        await ctx.load((event, f"{record.partition}:{record.offset}")
                       for (event, _, _), record in zip(parsed, records_of, strict=True))
        now = datetime.now(UTC)
        routed_at, read_ms = now.isoformat(), round(now.timestamp() * 1000)
        seen = Counter()
        marks = outcome.watermarks
        for (event, raw, data), record in zip(parsed, records_of, strict=True):
            seen[event.event_type] += 1
            mark = min(round(event.occurred_at.timestamp() * 1000), read_ms) - self.grace_ms
            tp = TopicPartition(record.topic, record.partition)
            if mark > marks.get(tp, UNKNOWN):
                marks[tp] = mark
            if ctx.is_duplicate(event.shop_id, event.event_id):
                log.debug("duplicate dropped", event_id=event.event_id, shop_id=event.shop_id)
                continue
            outcome.outputs.extend(
                route_event(event, raw, data, ctx, self.classifier_for, routed_at)
            )
        await ctx.store_decisions()  # before any output is out: a redelivery repeats them
        for event_type, count in seen.items():
            self.metrics.events_in.labels(INBOUND, event_type).inc(count)
        writes = self._last_writes = ctx.writes()

        async def flush() -> None:
            await ctx.flush()
            if self._last_writes is writes:  # in Redis now, and Redis may change later
                self._last_writes = {}

        outcome.after_ack.append(flush)
        return outcome
