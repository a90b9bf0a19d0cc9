"""How many webhook requests are open at once, seen from a real HTTP receiver: one shop
never more than KEFU_NOTIFIER_CONCURRENCY_PER_SHOP, one receiver never more than
KEFU_NOTIFIER_CONCURRENCY_PER_RECEIVER, and both limits are reached (they bound the
requests, nothing else). The receiver answers only once every request the limits allow
is open, so a limit that held fewer would never be answered and the test fails on its
timeout."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime

import pytest
from aiohttp import web

from contracts import Notification, to_json_bytes
from services.core.embedded import free_port
from services.core.logging import get_logger
from services.core.policy.notify import WebhookPolicy
from services.notifier.channels import WebhookChannel

pytestmark = pytest.mark.e2e

PER_SHOP, PER_RECEIVER, SHOPS, EACH = 2, 3, ("a", "b", "c"), 4


class CountingReceiver:
    """Keeps the most requests it had open at once, per shop (the path) and in all, and
    answers one request each time every request the limits allow is open: as many as
    the receiver's limit, or as the shops' limits let the requests still to come."""

    def __init__(self) -> None:
        self.port = free_port()
        self.open: Counter[str] = Counter()
        self.most: Counter[str] = Counter()
        self.answered: Counter[str] = Counter()
        self.changed = asyncio.Condition()

    def _all_allowed_are_open(self) -> bool:
        allowed = sum(min(PER_SHOP, EACH - self.answered[shop]) for shop in SHOPS)
        return sum(self.open.values()) >= min(PER_RECEIVER, allowed)

    async def handle(self, request: web.Request) -> web.Response:
        shop = request.match_info["shop"]
        async with self.changed:
            self.open[shop] += 1
            self.most[shop] = max(self.most[shop], self.open[shop])
            self.most["all"] = max(self.most["all"], sum(self.open.values()))
            self.changed.notify_all()
            await self.changed.wait_for(self._all_allowed_are_open)
            self.open[shop] -= 1
            self.answered[shop] += 1
            self.changed.notify_all()
        return web.Response(status=200)

    def url(self, shop: str) -> str:
        return f"http://127.0.0.1:{self.port}/hook/{shop}"


def notification(shop: str, i: int) -> Notification:
    return Notification(notification_id=f"{shop}-{i}", shop_id=shop, audience="buyer",
                        kind="shipped", channel="webhook", locale="zh-CN", text="已发货",
                        order_id=f"o-{i}", created_at=datetime(2026, 12, 5, tzinfo=UTC))


async def test_a_shop_and_a_receiver_never_have_more_requests_open_than_their_limits():
    receiver = CountingReceiver()
    app = web.Application()
    app.router.add_post("/hook/{shop}", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", receiver.port).start()
    channel = WebhookChannel({"HOOK_SECRET": "s"}, stopping=asyncio.Event(),
                             log=get_logger("test"), per_shop=PER_SHOP,
                             per_receiver=PER_RECEIVER)
    try:
        async with channel:
            results = await asyncio.wait_for(asyncio.gather(*(
                channel.deliver(n, to_json_bytes(n), WebhookPolicy.model_validate({
                    "allow_http": True, "unsigned": False, "url": receiver.url(shop),
                    "secret_env": "HOOK_SECRET", "timeout": "5s", "max_attempts": 1,
                    "backoff_base": "100ms"}))
                for shop in SHOPS for n in (notification(shop, i) for i in range(EACH)))),
                timeout=30)
    finally:
        await runner.cleanup()
    assert all(r.ok for r in results) and sum(receiver.answered.values()) == len(SHOPS) * EACH
    assert max(receiver.most[shop] for shop in SHOPS) == PER_SHOP, receiver.most
    assert receiver.most["all"] == PER_RECEIVER, receiver.most
