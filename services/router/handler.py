"""The router's batch handler: read the batch (invalid records to the DLQ), load its
context and claim its dedup marks, route it (`batch.route_batch`), store the routing
decisions before any output is published, and write the context once the outputs were
acked (`PendingWrites`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from aiokafka import ConsumerRecord
from redis.asyncio import Redis

from contracts import parse_inbound_document
from services.core.dlq import InputStage
from services.core.metrics import Metrics
from services.core.outputs import BatchOutcome
from services.router.batch import Parsed, claim_of, route_batch
from services.router.context import RouterContext
from services.router.pending import PendingWrites
from services.router.route import ClassifierFor


def parse_with_bytes(raw: bytes) -> Parsed:
    event, data = parse_inbound_document(raw)
    return event, raw, data


class RouterHandler:
    def __init__(self, *, redis: Redis, classifier_for: ClassifierFor, metrics: Metrics,
                 max_event_bytes: int, context_ttl: int, dedup_ttl: int, grace_ms: int = 0,
                 service: str = "router") -> None:
        self.redis, self.classifier_for, self.metrics = redis, classifier_for, metrics
        self.input = InputStage(service=service, metrics=metrics, max_event_bytes=max_event_bytes)
        self.context_ttl, self.dedup_ttl, self.grace_ms = context_ttl, dedup_ttl, grace_ms
        self.pending = PendingWrites()

    async def __call__(self, records: Sequence[ConsumerRecord]) -> BatchOutcome:
        batch = self.input.read_batch(records, parse_with_bytes)
        ctx = RouterContext(self.redis, ttl=self.context_ttl, dedup_ttl=self.dedup_ttl,
                            pending=self.pending.writes)
        await ctx.load((event, claim_of(record)) for record, (event, _, _) in batch.parsed)
        routed = route_batch(batch.parsed, ctx, self.classifier_for, datetime.now(UTC),
                             self.grace_ms)
        await ctx.store_decisions()  # before any output is out: a redelivery repeats them
        batch.count(self.metrics, lambda parsed: parsed[0].event_type)
        return BatchOutcome(outputs=batch.letters + routed.outputs,
                            after_ack=[self.pending.after_ack(ctx)],
                            watermarks=routed.watermarks)
