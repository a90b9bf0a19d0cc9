"""A real local webhook receiver for the notifier tests: an aiohttp server on a free
port that records every request (headers, raw body, arrival order) and answers per
path as told: 200 by default, a status N times (`fail`), or hanging past the client's
timeout N times or forever (`hang`)."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from services.core.embedded import free_port


@dataclass(frozen=True)
class Received:
    seq: int  # arrival order over all paths
    path: str
    headers: dict[str, str]
    body: bytes
    answer: int | str  # the status sent, or "hang"
    at: float

    @property
    def json(self) -> dict[str, Any]:
        return orjson.loads(self.body)


class WebhookReceiver:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host, self.port = host, free_port(host)
        self.requests: list[Received] = []
        self._plans: dict[str, deque[tuple[str, Any]]] = defaultdict(deque)
        self._forever: dict[str, tuple[str, Any]] = {}
        self._seq = itertools.count(1)
        self._released = asyncio.Event()
        self._arrived = asyncio.Condition()
        self._runner: web.AppRunner | None = None

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}/{path.lstrip('/')}"

    # --- behaviour ----------------------------------------------------------------------
    def fail(self, path: str, times: int | None, status: int = 500) -> None:
        """Answer `status` to the next `times` requests on `path` (None: always)."""
        self._plan(path, ("status", status), times)

    def hang(self, path: str, times: int | None, seconds: float = 30.0) -> None:
        """Answer nothing for `seconds` to the next `times` requests (None: always)."""
        self._plan(path, ("hang", seconds), times)

    def release(self) -> None:
        """Answer every hanging request now (200), and hang no more."""
        self._released.set()

    def _plan(self, path: str, step: tuple[str, Any], times: int | None) -> None:
        path = "/" + path.lstrip("/")
        if times is None:
            self._forever[path] = step
        else:
            self._plans[path].extend([step] * times)

    # --- inspection ---------------------------------------------------------------------
    def received(self, path: str | None = None) -> list[Received]:
        want = None if path is None else "/" + path.lstrip("/")
        return [r for r in self.requests if want is None or r.path == want]

    async def wait_for(self, path: str, count: int = 1, timeout: float = 20.0) -> list[Received]:
        """Wait until `path` got `count` requests answered 2xx; return all its requests."""
        deadline = time.monotonic() + timeout
        async with self._arrived:
            while len([r for r in self.received(path) if r.answer == 200]) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    await asyncio.wait_for(self._arrived.wait(), timeout=left)
                except TimeoutError:
                    break
        return self.received(path)

    # --- server ---------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        plan = self._plans.get(request.path)
        step = plan.popleft() if plan else self._forever.get(request.path, ("status", 200))
        answer = "hang" if step[0] == "hang" else step[1]
        self.requests.append(Received(next(self._seq), request.path, dict(request.headers),
                                      body, answer, time.monotonic()))
        async with self._arrived:
            self._arrived.notify_all()
        if step[0] == "hang":
            try:
                await asyncio.wait_for(self._released.wait(), timeout=step[1])
            except TimeoutError:
                pass
            return web.Response(status=200)
        return web.Response(status=step[1], text="ok" if step[1] == 200 else "nope")

    async def start(self) -> WebhookReceiver:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        return self

    async def stop(self) -> None:
        self._released.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> WebhookReceiver:
        return await self.start()

    async def __aexit__(self, *exc) -> None:
        await self.stop()
