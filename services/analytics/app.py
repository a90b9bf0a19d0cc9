"""Composition root of the analytics service: consumes kefu's topics into the store and
serves the API (reports, series, SQL, OpenAPI) on the service's HTTP port, next to
/healthz, /readyz and /metrics. Nothing is opened here: the store opens when the
service starts (the embedded one then fails fast if another process owns it), and a
ClickHouse server is connected on first use."""

from __future__ import annotations

import asyncio
import os
from functools import lru_cache

from contracts import DeadLetter, topics
from services.analytics.api.access import Tokens
from services.analytics.api.routes import api_router
from services.analytics.ingest.handler import IngestHandler
from services.analytics.ingest.memos import MemoStore
from services.analytics.ingest.parse import CONSUMED
from services.analytics.store.factory import open_store
from services.core.asgi import ApiServer, create_api
from services.core.policy import ShopPolicy, load_policy
from services.core.runtime import ServiceRuntime
from services.core.settings import Settings

NAME = "analytics"


def create_app(settings: Settings) -> ServiceRuntime:
    policy = load_policy(settings.policy_file)
    admin = settings.analytics_token.get_secret_value() if settings.analytics_token else None
    tokens = Tokens.load(admin, policy, os.environ)
    runtime = ServiceRuntime(NAME, settings.model_copy(update={
        "consumer_max_records": settings.analytics_max_records,
        "consumer_fetch_min_bytes": settings.analytics_fetch_min_bytes,
        "consumer_fetch_max_wait_ms": settings.analytics_fetch_max_wait_ms,
    }))

    @lru_cache(maxsize=4096)
    def policy_for(shop: str) -> ShopPolicy:
        return policy.for_shop(shop)

    store = open_store(settings)
    runtime.publisher(topics.DLQ, schema=DeadLetter, description="Records analytics cannot read")
    memos = MemoStore(runtime.redis, ttl_seconds=int(settings.context_ttl.total_seconds()))
    handler = IngestHandler(store=store, memos=memos, policy_for=policy_for,
                            metrics=runtime.metrics)
    runtime.batch_subscriber(*CONSUMED, handler=handler, pipelined=True,  # see IngestHandler
                             description="Every kefu topic, into the analytics store")

    async def store_ok() -> bool:
        return bool((await asyncio.to_thread(store.select, "SELECT 1")).rows)

    router = api_router(store=store, tokens=tokens, policy_for=policy_for,
                        conversion_days=settings.analytics_conversion_days)
    api = create_api(router, metrics=runtime.metrics,
                     checks={**runtime.health.checks, "store": store_ok})
    runtime.health = ApiServer(api, host=settings.http_host, port=settings.http_port_for(NAME),
                               on_start=store.open, on_stop=store.close)
    if not tokens.configured:
        runtime.log.warning("no analytics API token: set KEFU_ANALYTICS_TOKEN (admin) or a "
                            "shop's analytics.token_env; the API refuses every request")
    return runtime
