"""The analytics batch handler (thin): parse (invalid records to the DLQ), decide rows
and memos (`batch.build_rows`); once the dead letters are acked, insert the rows, then
save the memos; the consumer commits after that. A batch redelivered after a crash
writes the same rows (one row per key in the store) and finds its memos already applied.

It runs pipelined: while a batch's rows are inserted, the next batch is parsed and
decided, reading the memos its predecessor has not saved yet (`PendingMemos`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from aiokafka import ConsumerRecord

from services.analytics.ingest.batch import build_rows, memo_keys
from services.analytics.ingest.insert import insert_tables
from services.analytics.ingest.memos import MemoStore
from services.analytics.ingest.parse import PARSERS, Parsed
from services.analytics.ingest.pending import PendingMemos
from services.analytics.store import Store
from services.analytics.store.migrate import store_generation
from services.core.dlq import InputStage
from services.core.metrics import Metrics
from services.core.outputs import BatchOutcome
from services.core.policy import ShopPolicy


def kind_of(parsed: Parsed) -> str:
    return str(getattr(parsed.model, "event_type", "-"))


class IngestHandler:
    def __init__(self, *, store: Store, memos: MemoStore,
                 policy_for: Callable[[str], ShopPolicy], metrics: Metrics) -> None:
        self.store, self.memos, self.policy_for, self.metrics = store, memos, policy_for, metrics
        self.input = InputStage(service="analytics", metrics=metrics, max_event_bytes=None)
        self.pending = PendingMemos()

    async def __call__(self, records: Sequence[ConsumerRecord]) -> BatchOutcome:
        batch = self.input.read_batch(records, PARSERS)
        parsed = [item for _, item in batch.parsed]
        if not self.memos.generation:  # a server store is connected on first use
            self.memos.generation = await asyncio.to_thread(store_generation, self.store)
        to_load, pending = self.pending.split(memo_keys(parsed))
        rows = build_rows(parsed, {**await self.memos.load(to_load), **pending}, self.policy_for)
        decided, tables = self.pending.keep(rows.changed), rows.rows()
        batch.count(self.metrics, kind_of)

        async def save() -> None:
            await self.memos.save(decided.memos)
            self.pending.saved(decided)

        return BatchOutcome(outputs=batch.letters,
                            after_ack=[lambda: insert_tables(self.store, tables), save])
