"""A ClickHouse server or cluster through clickhouse-connect (`KEFU_ANALYTICS_URL`), with
the same SQL as the embedded store. Connection failures are `StoreUnavailable`
(transient: ingestion retries and commits nothing meanwhile)."""

from __future__ import annotations

from typing import Any

from services.analytics.store.port import (
    QueryResult,
    StoreUnavailable,
    json_each_row,
    parse_json_compact,
    refused,
)


class ServerStore:
    def __init__(self, dsn: str, database: str, **client_options: Any) -> None:
        import clickhouse_connect
        from clickhouse_connect.driver.exceptions import DatabaseError, OperationalError

        self._errors = (DatabaseError, OperationalError)
        self._unavailable = OperationalError
        self.database = database
        try:
            bootstrap = clickhouse_connect.get_client(
                dsn=dsn, autogenerate_session_id=False, **client_options)
            bootstrap.command(f"CREATE DATABASE IF NOT EXISTS {database}")
            bootstrap.close()
            self._client = clickhouse_connect.get_client(
                dsn=dsn, database=database, autogenerate_session_id=False, **client_options)
        except OperationalError as exc:
            raise StoreUnavailable(f"ClickHouse server unreachable: {exc}") from exc

    def _call(self, func, *args, **kwargs):
        try:
            return func(*args, **kwargs)
        except self._unavailable as exc:
            raise StoreUnavailable(str(exc)) from exc
        except self._errors as exc:
            raise refused(str(exc).strip()) from None

    def command(self, sql: str) -> None:
        self._call(self._client.command, sql)

    def insert(self, table: str, rows: list[dict[str, Any]]) -> None:
        if rows:
            self._call(self._client.raw_insert, table, None, json_each_row(rows),
                       fmt="JSONEachRow")

    def select(self, sql: str, params: dict[str, Any] | None = None) -> QueryResult:
        body = self._call(self._client.raw_query, sql, parameters=params or None,
                          fmt="JSONCompact")
        return parse_json_compact(body)

    def select_readonly(self, sql: str) -> QueryResult:
        body = self._call(self._client.raw_query, sql, settings={"readonly": 1},
                          fmt="JSONCompact")
        return parse_json_compact(body)

    def close(self) -> None:
        self._client.close()
