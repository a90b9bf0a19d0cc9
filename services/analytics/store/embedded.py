"""The embedded store: ClickHouse in this process through chDB, data under a directory
(`KEFU_ANALYTICS_DATA_DIR`). One process owns the directory: the analytics service."""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from services.analytics.store.port import (
    QueryResult,
    StoreError,
    encoded_rows,
    insert_statement,
    parse_json_compact,
    refused,
)


class EmbeddedStore:
    def __init__(self, path: Path, database: str, readers: int = 3, writers: int = 9) -> None:
        try:
            import chdb  # the `embedded` extra: containers use a ClickHouse server
        except ImportError:
            raise StoreError("the embedded analytics store needs chDB: install kefu with its "
                             "`embedded` extra, or set KEFU_ANALYTICS_URL to a ClickHouse "
                             "server") from None
        self._chdb = chdb
        self.path, self.database = Path(path), database
        self.path.mkdir(parents=True, exist_ok=True)
        try:
            self._writer = chdb.connect(str(self.path))
        except RuntimeError as exc:
            raise StoreError(f"cannot open the analytics store at {self.path} (is another "
                             f"process using it?): {exc}") from exc
        self._writer.query(f"CREATE DATABASE IF NOT EXISTS {database}")
        self._writer.query(f"USE {database}")
        self._readers: queue.Queue = queue.Queue()
        for _ in range(readers):  # a report's queries run side by side
            self._readers.put(self._connect())
        self._inserters: queue.Queue = queue.Queue()
        for _ in range(writers):  # one per table a batch writes: its inserts run side by side
            self._inserters.put(self._connect())
        self._write_lock = threading.Lock()

    def _connect(self, **settings: Any):
        options = "&".join(f"{k}={v}" for k, v in settings.items())
        conn = self._chdb.connect(f"{self.path}?{options}" if options else str(self.path))
        conn.query(f"USE {self.database}")
        return conn

    def command(self, sql: str) -> None:
        with self._write_lock:
            _run(self._writer, sql)

    def insert(self, table: str, rows: list[dict[str, Any]]) -> None:
        if rows:
            columns, body = encoded_rows(rows)
            with _borrowed(self._inserters) as conn:
                _run(conn, f"{insert_statement(table, columns)}\n{body.decode()}")

    def select(self, sql: str, params: dict[str, Any] | None = None) -> QueryResult:
        with _borrowed(self._readers) as conn:
            result = _run(conn, sql, "JSONCompact", params)
        return parse_json_compact(result.bytes())

    def select_readonly(self, sql: str) -> QueryResult:
        conn = self._connect(readonly=1)  # a connection per query: settings are per connection
        try:
            return parse_json_compact(_run(conn, sql, "JSONCompact").bytes())
        finally:
            conn.close()

    def close(self) -> None:
        for pool in (self._readers, self._inserters):
            while not pool.empty():
                pool.get().close()
        self._writer.close()


@contextlib.contextmanager
def _borrowed(pool: queue.Queue) -> Iterator:
    conn = pool.get()
    try:
        yield conn
    finally:
        pool.put(conn)


def _run(conn, sql: str, fmt: str = "CSV", params: dict[str, Any] | None = None):
    try:
        return conn.query(sql, fmt, params={k: str(v) for k, v in (params or {}).items()})
    except RuntimeError as exc:  # chdb.ChdbError is one
        raise refused(str(exc).strip()) from None
