"""Composition root of the supervisor console: a consumer of `kefu.escalations`,
`kefu.assignments` and `kefu.dlq` into the console's feeds, a publisher into
`kefu.inbound` (acknowledgements, reassignments, reply scripts), the live hub that
pushes boards to open pages, and the pages and API on the service's HTTP port (next to
/healthz, /readyz and /metrics). Nothing connects here."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from functools import lru_cache
from importlib.resources import files

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from contracts import INBOUND
from services.console.analytics_client import AnalyticsClient
from services.console.ended import EndedSessions
from services.console.live.board import assemble
from services.console.live.consumer import CONSUMED, FeedHandler
from services.console.live.feeds import Feeds
from services.console.live.hub import LiveHub
from services.console.live.reader import BoardReader
from services.console.render import Renderer
from services.console.scripts_book import ScriptBook
from services.console.sessions import Sessions
from services.console.throttle import LoginThrottle
from services.console.users import Users
from services.console.web.api import api_router
from services.console.web.deps import Console
from services.console.web.guard import Guard
from services.console.web.pages import page_router
from services.core.asgi import ApiServer, create_api
from services.core.policy import ShopPolicy, load_policy
from services.core.redis import create_redis
from services.core.runtime import ServiceRuntime
from services.core.settings import Settings

NAME = "console"


def create_app(settings: Settings) -> ServiceRuntime:
    policy = load_policy(settings.policy_file)
    runtime = ServiceRuntime(NAME, settings)
    runtime.redis = create_redis(settings, wait_for_connection=True)  # many pages at once

    @lru_cache(maxsize=4096)
    def policy_for(shop: str) -> ShopPolicy:
        return policy.for_shop(shop)

    reader, feeds = BoardReader(runtime.redis), Feeds(runtime.redis)

    async def board(shop: str) -> dict:
        now = datetime.now(UTC)
        since_ms = round(now.timestamp() * 1000) - 3600 * 1000
        calendar = policy_for(shop).calendar
        return assemble(shop, await reader.read(shop, since_ms), calendar,
                        now.astimezone(calendar.tz))

    renderer = Renderer()
    hub = LiveHub(board, renderer.panels, settings.console_refresh.total_seconds())
    runtime.background(lambda: hub.run(runtime.stopping))
    runtime.publisher(INBOUND, description="Supervisors' acknowledgements, reassignments and "
                      "reply scripts")
    runtime.batch_subscriber(*CONSUMED, handler=FeedHandler(feeds, hub.touch),
                             description="Escalations, assignments and dead letters for the "
                             "live board")
    secret = settings.console_secret.get_secret_value() if settings.console_secret else None
    if not secret:
        runtime.log.warning("KEFU_CONSOLE_SECRET is not set: sessions are signed with a "
                            "random key of this process (they end when it stops)")
    guard = Guard(Sessions(secret or secrets.token_urlsafe(32),
                           int(settings.console_session_ttl.total_seconds())),
                  Users(runtime.redis), LoginThrottle(runtime.redis),
                  EndedSessions(runtime.redis, int(settings.console_session_ttl.total_seconds())),
                  trusted_header=settings.console_trusted_header,
                  trusted_proxies=frozenset(
                      a.strip() for a in settings.console_trusted_proxies.split(",") if a),
                  secure_cookies=settings.console_cookie_secure)
    token = settings.analytics_token.get_secret_value() if settings.analytics_token else None
    analytics = AnalyticsClient(settings.analytics_api, token)
    console = Console(guard, renderer, hub, board, feeds, ScriptBook(runtime.redis),
                      runtime.publish, analytics,
                      frozenset(s for s in policy.shops if s != "default"))
    web = FastAPI(title="kefu console", docs_url=None, redoc_url=None, openapi_url=None)
    web.mount("/static", StaticFiles(directory=str(files("services.console") / "static")),
              name="static")
    web.include_router(page_router(console))
    create_api(api_router(console), metrics=runtime.metrics, checks=runtime.health.checks,
               app=web)
    runtime.health = ApiServer(web, host=settings.http_host,
                               port=settings.http_port_for(NAME), on_stop=None)
    runtime.background(lambda: _close_on_stop(runtime, analytics))
    return runtime


async def _close_on_stop(runtime: ServiceRuntime, analytics: AnalyticsClient) -> None:
    await runtime.stopping.wait()
    await analytics.close()
