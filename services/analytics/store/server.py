"""A ClickHouse server or cluster through clickhouse-connect (`KEFU_ANALYTICS_URL`), with
the same SQL as the embedded store. It connects on first use, so a server that is down
at start-up only delays ingestion: connection failures are `StoreUnavailable`
(transient: the consumer retries and commits nothing meanwhile)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from services.analytics.store.port import (
    INSERT_FORMAT,
    QueryResult,
    StoreUnavailable,
    encoded_rows,
    parse_json_compact,
    refused,
)


class ServerStore:
    def __init__(self, dsn: str, database: str, *,
                 on_connect: Callable[[ServerStore], Any] | None = None,
                 **client_options: Any) -> None:
        from clickhouse_connect.driver.exceptions import DatabaseError, OperationalError

        self._errors, self._unavailable = (DatabaseError, OperationalError), OperationalError
        self.dsn, self.database, self.options = dsn, database, client_options
        self.on_connect = on_connect
        self._client = None
        self._lock = threading.RLock()  # on_connect uses the store

    def _connected(self):
        with self._lock:
            if self._client is None:
                self._client = self._call(self._connect)
                try:
                    if self.on_connect is not None:
                        self.on_connect(self)
                except BaseException:
                    self._client.close()
                    self._client = None
                    raise
            return self._client

    def _connect(self):
        import clickhouse_connect

        options = dict(dsn=self.dsn, autogenerate_session_id=False, **self.options)
        bootstrap = clickhouse_connect.get_client(database="default", **options)
        try:
            bootstrap.command(f"CREATE DATABASE IF NOT EXISTS {self.database}")
        finally:
            bootstrap.close()
        return clickhouse_connect.get_client(database=self.database, **options)

    def _call(self, func, *args, **kwargs):
        try:
            return func(*args, **kwargs)
        except self._unavailable as exc:
            raise StoreUnavailable(f"ClickHouse server unreachable: {exc}") from exc
        except self._errors as exc:
            raise refused(str(exc).strip()) from None

    def command(self, sql: str) -> None:
        self._call(self._connected().command, sql)

    def insert(self, table: str, rows: list[dict[str, Any]]) -> None:
        if rows:
            columns, body = encoded_rows(rows)
            self._call(self._connected().raw_insert, table, columns, body,
                       fmt=INSERT_FORMAT)

    def select(self, sql: str, params: dict[str, Any] | None = None) -> QueryResult:
        body = self._call(self._connected().raw_query, sql, parameters=params or None,
                          fmt="JSONCompact")
        return parse_json_compact(body)

    def select_readonly(self, sql: str) -> QueryResult:
        body = self._call(self._connected().raw_query, sql, settings={"readonly": 1},
                          fmt="JSONCompact")
        return parse_json_compact(body)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
