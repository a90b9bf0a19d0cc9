"""The analytics batch handler (thin): parse (invalid records to the DLQ), decide rows
and memos (`batch.build_rows`); once the dead letters are acked, insert the rows, then
save the memos; the consumer commits after that. A batch redelivered after a crash
writes the same rows (one row per key in the store) and finds its memos already applied.

It runs pipelined: while a batch's rows are inserted (chDB and the HTTP client release
the GIL), the next batch is parsed and decided. That batch reads the memos its
predecessor has not saved yet from `pending`. A store that refuses a batch is retried
like one that is down: ingestion stalls (lag grows, the log says why) rather than
committing rows it does not have."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import Callable, Sequence

import orjson
from aiokafka import ConsumerRecord

from contracts import InvalidEvent
from services.analytics.ingest.batch import MemoKey, build_rows, memo_keys
from services.analytics.ingest.memos import MemoStore
from services.analytics.ingest.parse import Parsed, parse_record
from services.analytics.store import Store, StoreError, StoreUnavailable
from services.analytics.store.migrate import store_generation
from services.core.dlq import reject
from services.core.metrics import Metrics
from services.core.outputs import BatchOutcome
from services.core.policy import ShopPolicy


class IngestHandler:
    def __init__(self, *, store: Store, memos: MemoStore,
                 policy_for: Callable[[str], ShopPolicy], metrics: Metrics) -> None:
        self.store, self.memos, self.policy_for, self.metrics = store, memos, policy_for, metrics
        self.pending: dict[MemoKey, tuple[int, bytes]] = {}
        """Memos decided but not saved yet, with the batch that decided them."""
        self._batches = itertools.count()

    async def __call__(self, records: Sequence[ConsumerRecord]) -> BatchOutcome:
        outcome, batch = BatchOutcome(), next(self._batches)
        parsed = [p for p in (self._parse(r, outcome) for r in records) if p is not None]
        self._count(parsed)
        if not self.memos.generation:  # a server store is connected on first use
            self.memos.generation = await asyncio.to_thread(store_generation, self.store)
        keys = memo_keys(parsed)
        # The memos unsaved as the read is sent: a save that ends meanwhile may be
        # missing from the read's answer (it went over another connection).
        unsaved = {k: self.pending[k][1] for k in keys if k in self.pending}
        stored = await self.memos.load(k for k in keys if k not in unsaved)
        stored.update((k, orjson.loads(value)) for k, value in unsaved.items())
        rows = build_rows(parsed, stored, self.policy_for)
        changed = {key: orjson.dumps(memo.to_json()) for key, memo in rows.changed.items()}
        self.pending.update((key, (batch, value)) for key, value in changed.items())
        tables = rows.rows()

        async def insert() -> None:
            await asyncio.gather(*(self._insert(table, table_rows)
                                   for table, table_rows in tables.items()))

        async def save() -> None:
            await self.memos.save(changed)
            for key in changed:
                if self.pending.get(key, (None,))[0] == batch:
                    del self.pending[key]

        outcome.after_ack += [insert, save]
        return outcome

    async def _insert(self, table: str, rows: list[dict]) -> None:
        try:
            await asyncio.to_thread(self.store.insert, table, rows)
        except StoreError as refused:  # retried, never committed without its rows
            raise StoreUnavailable(f"the store refused rows of {table}: {refused}") from None

    def _count(self, parsed: list[Parsed]) -> None:
        kinds = Counter((p.topic, getattr(p.model, "event_type", "-")) for p in parsed)
        for (topic, kind), n in kinds.items():
            self.metrics.events_in.labels(topic, str(kind)).inc(n)

    def _parse(self, record: ConsumerRecord, outcome: BatchOutcome) -> Parsed | None:
        try:
            return parse_record(record.topic, record.value or b"")
        except InvalidEvent as bad:
            outcome.outputs.append(reject(record, bad, service="analytics", metrics=self.metrics))
            return None
