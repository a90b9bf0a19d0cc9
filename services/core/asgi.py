"""An HTTP service's server (analytics' API, the console): its routes plus /healthz,
/readyz and /metrics on the service's one port, in place of the runtime's health server."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator

import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from services.core.health import readiness
from services.core.metrics import Metrics

Check = Callable[[], Awaitable[bool]]


def create_api(router, *, metrics: Metrics, checks: dict[str, Check],
               app: FastAPI | None = None) -> FastAPI:
    """The analytics API (its OpenAPI document), or `app` with these routes added."""
    if app is None:
        app = FastAPI(title="kefu analytics", version="1", docs_url=None, redoc_url=None,
                      openapi_url="/api/v1/openapi.json",
                      description="Reports, time series and SQL over kefu's history. Every "
                      "/api/v1 route but this document needs `Authorization: Bearer "
                      "<token>`.")
    app.include_router(router)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": metrics.service}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        ready, results = await readiness(checks)
        return JSONResponse({"ready": ready, "checks": results}, status_code=200 if ready else 503)

    @app.get("/metrics", include_in_schema=False)
    async def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the service's runtime owns SIGTERM and SIGINT


class ApiServer:
    """uvicorn inside the service's event loop, started and stopped with the runtime."""

    def __init__(self, app: FastAPI, *, host: str, port: int,
                 on_start: Callable[[], object] | None = None,
                 on_stop: Callable[[], object] | None = None) -> None:
        self.host, self.port, self.on_start, self.on_stop = host, port, on_start, on_stop
        config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False,
                                lifespan="off")
        self._server = _Server(config)
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        """Run `on_start` (the service opens its store), then serve."""
        if self.on_start is not None:
            await asyncio.to_thread(self.on_start)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():  # the port is taken: say so at start-up
                self._task.result()
                raise OSError(f"HTTP server could not listen on {self.host}:{self.port}")
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        """Stop serving, then run `on_stop` (the service closes its store: the runtime
        stops its HTTP server last, after the consumers)."""
        if self._task is not None:
            self._server.should_exit = True
            await asyncio.wait([self._task], timeout=5)
        if self.on_stop is not None:
            self.on_stop()
