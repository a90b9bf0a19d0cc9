"""The store the settings ask for: a ClickHouse server when `KEFU_ANALYTICS_URL` is set,
else chDB under `KEFU_ANALYTICS_DATA_DIR`. Either way the schema is applied first.

Building the service opens nothing (`kefu contracts export` builds every service to
describe it): the store opens when the service starts (`OpeningStore.open`)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from services.analytics.store.migrate import migrate
from services.analytics.store.port import QueryResult, Store, StoreError
from services.core.settings import Settings


def retention_days(settings: Settings) -> int:
    return max(1, settings.analytics_retention.days)


def open_store(settings: Settings) -> OpeningStore:
    return OpeningStore(lambda: _open(settings))


def _open(settings: Settings) -> Store:
    days = retention_days(settings)
    if settings.analytics_url is not None:
        from services.analytics.store.server import ServerStore

        return ServerStore(settings.analytics_url.get_secret_value(),
                           settings.analytics_database,
                           on_connect=lambda store: migrate(store, retention_days=days))
    from services.analytics.store.embedded import EmbeddedStore

    store = EmbeddedStore(settings.analytics_data_dir, settings.analytics_database)
    migrate(store, retention_days=days)
    return store


class OpeningStore:
    """A store opened once, at start-up; calls made earlier wait for it (a batch may
    arrive while it opens), and fail if it could not be opened."""

    def __init__(self, opener: Callable[[], Store]) -> None:
        self._opener = opener
        self._store: Store | None = None
        self._error: BaseException | None = None
        self._settled = threading.Event()

    def open(self) -> None:
        try:
            self._store = self._opener()
        except BaseException as exc:
            self._error = exc
            raise
        finally:
            self._settled.set()

    def _opened(self) -> Store:
        self._settled.wait()
        if self._store is None:
            raise StoreError(f"the analytics store could not be opened: {self._error}")
        return self._store

    def command(self, sql: str) -> None:
        self._opened().command(sql)

    def insert(self, table: str, rows: list[dict[str, Any]]) -> None:
        self._opened().insert(table, rows)

    def select(self, sql: str, params: dict[str, Any] | None = None) -> QueryResult:
        return self._opened().select(sql, params)

    def select_readonly(self, sql: str) -> QueryResult:
        return self._opened().select_readonly(sql)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
