"""The store the settings ask for: a ClickHouse server when `KEFU_ANALYTICS_URL` is set,
else chDB under `KEFU_ANALYTICS_DATA_DIR`. Either way the schema is applied first."""

from __future__ import annotations

from services.analytics.store.migrate import migrate
from services.analytics.store.port import Store
from services.core.settings import Settings


def retention_days(settings: Settings) -> int:
    return max(1, settings.analytics_retention.days)


def open_store(settings: Settings) -> Store:
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
