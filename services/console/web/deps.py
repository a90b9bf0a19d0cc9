"""What the console's routes work with, built once by the composition root."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from services.console.analytics_client import AnalyticsClient
from services.console.live.feeds import Feeds
from services.console.live.hub import LiveHub
from services.console.render import Renderer
from services.console.scripts_book import ScriptBook
from services.console.web.guard import Guard, Visitor
from services.core.outputs import Outgoing


@dataclass
class Console:
    guard: Guard
    renderer: Renderer
    hub: LiveHub
    board: Callable[[str], Awaitable[dict]]
    feeds: Feeds
    book: ScriptBook
    publish: Callable[[Sequence[Outgoing]], Awaitable[None]]
    analytics: AnalyticsClient
    policy_shops: frozenset[str]

    async def known_shops(self) -> set[str]:
        return set(self.policy_shops) | await self.feeds.shops()

    def page(self, name: str, visitor: Visitor | None, *, lang: str, shop: str | None = None,
             page_path: str = "/", shops: list[str] = (), **context) -> str:
        user = visitor.user if visitor else None
        return self.renderer.page(
            name, lang=lang, shop=shop, user=user, shops=shops, page_path=page_path,
            csrf=self.guard.csrf(visitor) if visitor else context.pop("csrf", ""),
            may_act=bool(user and shop and user.may_act(shop)),
            server_ms=round(time.time() * 1000), **context)
