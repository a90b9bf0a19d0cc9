"""A role service's batch handler: read the records (`intake.py`: invalid ones to the
DLQ) part by part, each part's reads sent to Redis before the next part is parsed
(`reads.py`), run the batch (`batches.py`), hand back its outputs, its write and its
watermarks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Sequence

from aiokafka import ConsumerRecord, TopicPartition

from services.core.dlq import InputStage
from services.core.metrics import Metrics
from services.core.outputs import BatchOutcome
from services.roles.batches import RoleBatches
from services.roles.intake import Intake, read_records
from services.roles.reads import part_size


class RoleHandler:
    def __init__(self, *, role: str, batches: RoleBatches, metrics: Metrics,
                 max_event_bytes: int, grace_ms: int,
                 fed_by_upstream: Callable[[Iterable[TopicPartition]], None]) -> None:
        self.batches, self.metrics, self.grace_ms = batches, metrics, grace_ms
        self.fed_by_upstream = fed_by_upstream
        self.input = InputStage(service=role, metrics=metrics, max_event_bytes=max_event_bytes)

    async def __call__(self, records: Sequence[ConsumerRecord]) -> BatchOutcome:
        read_ms, size = round(time.time() * 1000), part_size(len(records))
        intake, reads = Intake(), self.batches.reads()
        try:
            for start in range(0, len(records), size):
                if start:  # the parts before: their reads go now, while this one is parsed
                    reads.send()
                    await asyncio.sleep(0)  # let them out
                part = read_records(records[start:start + size], self.input, read_ms=read_ms,
                                    grace_ms=self.grace_ms)
                intake.extend(part)
                reads.need(e for e, _ in part.events)
        except BaseException:
            reads.close()
            raise
        if intake.stamped:
            self.fed_by_upstream(intake.stamped)
        for (topic, kind), count in intake.counts.items():
            self.metrics.events_in.labels(topic, kind).inc(count)
        outputs, write = await self.batches.run(events=intake.events, reads=reads)
        return BatchOutcome(outputs=intake.letters + outputs, after_ack=[write],
                            on_abandon=[self.batches.forget], watermarks=intake.watermarks)
