"""Create the tables (idempotent) and keep their retention in line with the setting."""

from __future__ import annotations

import re

from services.analytics.store.port import Store
from services.analytics.store.sql_files import schema_statements

_TABLE = re.compile(r"CREATE TABLE IF NOT EXISTS (\w+)")
_TTL = re.compile(r"^TTL (.+)$", re.MULTILINE)
_DAYS = re.compile(r"toIntervalDay\((\d+)\)")


def migrate(store: Store, *, retention_days: int) -> list[str]:
    """Apply the schema; returns the tables whose TTL was changed to `retention_days`."""
    changed = []
    for statement in schema_statements(retention_days=retention_days):
        store.command(statement)
        table, ttl = _TABLE.search(statement)[1], _TTL.search(statement)[1]
        current = store.select("SELECT engine_full FROM system.tables WHERE database = "
                               "currentDatabase() AND name = {table:String}", {"table": table})
        days = _DAYS.search(current.rows[0][0]) if current.rows else None
        if days is not None and int(days[1]) != retention_days:
            store.command(f"ALTER TABLE {table} MODIFY TTL {ttl}")
            changed.append(table)
    return changed


def store_generation(store: Store) -> str:
    """An id of this store's tables (the `rounds` table's UUID): memos in Redis are kept
    per generation, so a store that was wiped or replaced never trusts the memos of the
    rows it no longer has."""
    result = store.select("SELECT toString(uuid) FROM system.tables WHERE database = "
                          "currentDatabase() AND name = 'rounds'")
    return result.rows[0][0].replace("-", "")[:12] if result.rows else "none"
