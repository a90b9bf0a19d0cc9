"""A batch's rows into the store: every table at once (chDB and the HTTP client release
the GIL). A store that refuses rows is retried like one that is down: ingestion stalls
(lag grows, the log says why) rather than committing rows the store does not have."""

from __future__ import annotations

import asyncio

from services.analytics.facts import Row
from services.analytics.store import Store, StoreError, StoreUnavailable


async def insert_tables(store: Store, tables: dict[str, list[Row]]) -> None:
    await asyncio.gather(*(_insert(store, table, rows) for table, rows in tables.items()))


async def _insert(store: Store, table: str, rows: list[Row]) -> None:
    try:
        await asyncio.to_thread(store.insert, table, rows)
    except StoreError as refused:  # retried, never committed without its rows
        raise StoreUnavailable(f"the store refused rows of {table}: {refused}") from None
