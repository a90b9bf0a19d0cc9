"""The analytics batch handler (thin): parse (invalid records to the DLQ), decide rows
and memos (`batch.build_rows`), insert the rows, and save the memos once the dead
letters are acked; the consumer commits after that. A batch redelivered after a crash
writes the same rows (one row per key in the store) and finds its memos already applied."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from aiokafka import ConsumerRecord

from contracts import InvalidEvent
from services.analytics.ingest.batch import build_rows, memo_keys
from services.analytics.ingest.memos import MemoStore
from services.analytics.ingest.parse import Parsed, parse_record
from services.analytics.store import Store
from services.analytics.store.migrate import store_generation
from services.core.dlq import reject
from services.core.metrics import Metrics
from services.core.outputs import BatchOutcome
from services.core.policy import ShopPolicy


class IngestHandler:
    def __init__(self, *, store: Store, memos: MemoStore,
                 policy_for: Callable[[str], ShopPolicy], metrics: Metrics) -> None:
        self.store, self.memos, self.policy_for, self.metrics = store, memos, policy_for, metrics

    async def __call__(self, records: Sequence[ConsumerRecord]) -> BatchOutcome:
        outcome = BatchOutcome()
        parsed = [p for p in (self._parse(r, outcome) for r in records) if p is not None]
        if not self.memos.generation:  # a server store is connected on first use
            self.memos.generation = await asyncio.to_thread(store_generation, self.store)
        stored = await self.memos.load(memo_keys(parsed))
        rows = build_rows(parsed, stored, self.policy_for)
        await asyncio.to_thread(self._insert, rows.rows())
        outcome.after_ack.append(lambda: self.memos.save(rows.changed))
        return outcome

    def _insert(self, tables: dict[str, list[dict]]) -> None:
        for table, rows in tables.items():
            self.store.insert(table, rows)

    def _parse(self, record: ConsumerRecord, outcome: BatchOutcome) -> Parsed | None:
        try:
            parsed = parse_record(record.topic, record.value or b"")
        except InvalidEvent as bad:
            outcome.outputs.append(reject(record, bad, service="analytics", metrics=self.metrics))
            return None
        kind = getattr(parsed.model, "event_type", None)
        self.metrics.events_in.labels(record.topic, getattr(kind, "value", "-")).inc()
        return parsed
