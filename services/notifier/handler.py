"""The notifier's batch handler: read the batch (invalid records to the DLQ), load what
it needs of the notifier's memory, decide the notifications (`batch.plan`), and queue
them once the dead letters were acked.

Effects run after the (DLQ) outputs were acked and before the offsets are committed:
queue in the outbox first, then the dedup marks and memory. A crash in between only
re-queues the same notification ids, which the marks and the worker drop."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from aiokafka import ConsumerRecord
from redis.asyncio import Redis

from services.core.dlq import InputStage
from services.core.metrics import Metrics
from services.core.outputs import BatchOutcome
from services.core.policy import Policy
from services.notifier.batch import PARSERS, Entry, drafts_for, keys_to_load, kind_of, plan
from services.notifier.context import NotifierContext
from services.notifier.metrics import NotifierMetrics
from services.notifier.outbox import Outbox


class NotifierHandler:
    def __init__(self, *, redis: Redis, outbox: Outbox, policy: Policy,
                 clock: Callable[[], datetime], metrics: Metrics,
                 notifier_metrics: NotifierMetrics, wake, context_ttl: int, dedup_ttl: int,
                 max_event_bytes: int) -> None:
        self.redis, self.outbox, self.policy, self.clock = redis, outbox, policy, clock
        self.metrics, self.notifier_metrics, self.wake = metrics, notifier_metrics, wake
        self.context_ttl, self.dedup_ttl = context_ttl, dedup_ttl
        self.input = InputStage(service="notifier", metrics=metrics,
                                max_event_bytes=max_event_bytes)

    async def __call__(self, records: Sequence[ConsumerRecord]) -> BatchOutcome:
        batch = self.input.read_batch(records, PARSERS)
        items = [(item, drafts_for(item, self.policy)) for _, item in batch.parsed]
        ctx = NotifierContext(self.redis, ttl=self.context_ttl, dedup_ttl=self.dedup_ttl)
        await ctx.load(**keys_to_load(items))
        planned = plan(items, ctx, self.policy, self.clock())
        self.notifier_metrics.count_plan(planned)
        batch.count(self.metrics, kind_of)
        return BatchOutcome(outputs=batch.letters,
                            after_ack=[lambda: self._queue(planned.entries, ctx)])

    async def _queue(self, entries: list[Entry], ctx: NotifierContext) -> None:
        if entries:
            await self.outbox.put_many(entries)
        await ctx.flush()
        if entries:
            self.wake.set()
