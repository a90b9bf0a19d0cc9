"""A webhook receiver inside the soak process, as a shop would run one: it verifies each
request (`verify_request`, scheme v2), counts deliveries per signed notification id,
and acts once per id (drops repeats), answering 200 quickly."""

from __future__ import annotations

from collections import Counter

import orjson
from aiohttp import web

from services.core.embedded import free_port
from services.notifier.signing import ID_HEADER, verify_request

PATH = "/kefu-webhook"


class WebhookReceiver:
    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.port = free_port()
        self.deliveries: Counter[str] = Counter()  # notification id -> verified requests
        self.acted: Counter[str] = Counter()  # notification id -> times acted on
        self.rejected = 0  # requests that failed verification
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{PATH}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post(PATH, self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        nid = request.headers.get(ID_HEADER, "")
        if not verify_request(self.secret, request.headers, body) or not _names(body, nid):
            self.rejected += 1
            return web.Response(status=401)
        self.deliveries[nid] += 1
        if nid not in self.acted:
            self.acted[nid] += 1  # the receiver's one action for this notification
        return web.Response(status=200)


def _names(body: bytes, nid: str) -> bool:
    """The signed header id is the body's notification id."""
    try:
        return orjson.loads(body).get("notification_id") == nid
    except (orjson.JSONDecodeError, AttributeError):
        return False
