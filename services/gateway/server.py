"""uvicorn inside the service's event loop, started and stopped by ServiceRuntime like
the health endpoint of the other services."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI


class _EmbeddedServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """The service's runtime owns SIGTERM and SIGINT (graceful shutdown); uvicorn
        would otherwise replace its handlers and re-raise the signal when it stops."""
        yield


class ApiServer:
    def __init__(self, app: FastAPI, *, host: str, port: int) -> None:
        self.port = port
        self._config = uvicorn.Config(
            app, host=host, port=port, lifespan="off", log_config=None, access_log=False,
            server_header=False, timeout_graceful_shutdown=5,
        )
        self._server: _EmbeddedServer | None = None
        self._task: asyncio.Task | None = None

    async def start(self, timeout: float = 10.0) -> None:
        self._server = _EmbeddedServer(self._config)
        self._task = asyncio.create_task(self._server.serve())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self._server.started:
            if self._task.done() or loop.time() > deadline:
                await self.stop()
                raise RuntimeError(f"the gateway could not listen on port {self.port}")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        """Stop accepting, let requests in progress finish (up to 5 s), close."""
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        with contextlib.suppress(Exception, SystemExit):  # SystemExit: uvicorn's bind error
            await self._task
        self._server = self._task = None
