"""The store port: what ingestion, reports and `kefu sql` need of ClickHouse. Both
adapters speak ClickHouse SQL and exchange JSON formats, so everything above them is
written once."""

from __future__ import annotations

import re
from typing import Any, NamedTuple, Protocol

import orjson

_WIDE_INT = re.compile(r"^(Nullable\()?U?Int(64|128|256)\)?$")
_CODE = re.compile(r"Code: (\d+)")
BUSY_CODES = frozenset({159, 202, 241, 252})
"""ClickHouse pushing back, worth a retry: TIMEOUT_EXCEEDED, TOO_MANY_SIMULTANEOUS_QUERIES,
MEMORY_LIMIT_EXCEEDED, TOO_MANY_PARTS."""


class StoreError(RuntimeError):
    """ClickHouse refused a statement (bad SQL, a type error, read-only mode)."""


class StoreUnavailable(ConnectionError):
    """The store cannot be reached; transient, so the consumer retries and never commits."""


def refused(message: str) -> StoreError | StoreUnavailable:
    """The exception for a message of ClickHouse: busy codes are transient."""
    code = _CODE.search(message)
    if code is not None and int(code[1]) in BUSY_CODES:
        return StoreUnavailable(message)
    return StoreError(message)


class QueryResult(NamedTuple):
    columns: list[str]
    types: list[str]
    rows: list[list[Any]]

    def dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


class Store(Protocol):
    def command(self, sql: str) -> None:
        """DDL and other statements without a result."""

    def insert(self, table: str, rows: list[dict[str, Any]]) -> None:
        """Insert rows (column name -> value) and return once they are written."""

    def select(self, sql: str, params: dict[str, Any] | None = None) -> QueryResult:
        """A query with `{name:Type}` parameters."""

    def select_readonly(self, sql: str) -> QueryResult:
        """An analyst's query, run with ClickHouse's `readonly = 1`: no writes, no DDL, no
        setting changes, no table functions."""

    def close(self) -> None: ...


INSERT_FORMAT = "JSONEachRow"


def encoded_rows(rows: list[dict[str, Any]]) -> tuple[list[str], bytes]:
    """The columns of the rows (the first row's keys) and the rows as one JSON array of
    objects, which JSONEachRow reads. One orjson call for the whole batch: the worker
    thread that encodes it holds the GIL a fifth as long as encoding row by row did
    (JSONCompactEachRow), and ClickHouse parses it in about the same CPU."""
    return list(rows[0]), orjson.dumps(rows)


def insert_statement(table: str, columns: list[str]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) FORMAT {INSERT_FORMAT}"


def parse_json_compact(body: bytes | str) -> QueryResult:
    """A `JSONCompact` answer; 64-bit integers come back as numbers whether or not the
    server quoted them."""
    doc = orjson.loads(body)
    columns = [m["name"] for m in doc["meta"]]
    types = [m["type"] for m in doc["meta"]]
    wide = [i for i, t in enumerate(types) if _WIDE_INT.match(t)]
    rows = doc["data"]
    for row in rows:
        for i in wide:
            if isinstance(row[i], str):
                row[i] = int(row[i])
    return QueryResult(columns, types, rows)
