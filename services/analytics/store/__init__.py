"""The analytics store: ClickHouse, embedded through chDB or a server through
clickhouse-connect, behind one port (`Store`) and one set of SQL files."""

from services.analytics.store.port import QueryResult, Store, StoreError, StoreUnavailable

__all__ = ["QueryResult", "Store", "StoreError", "StoreUnavailable"]
