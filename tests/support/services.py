"""Run a service in-process against the module's embedded stack."""

from __future__ import annotations

from contextlib import asynccontextmanager

from services.cli.services import create_app
from tests.support.kafka_io import wait_until


@asynccontextmanager
async def started(app, name: str = "service"):
    """Start an already-built runtime, wait until its consumers joined, stop after."""
    await app.start()
    try:
        joined = await wait_until(lambda: all(t.joined for t in app.trackers), timeout=60)
        assert joined, f"{name} did not join its consumer group"
        yield app
    finally:
        await app.stop()


@asynccontextmanager
async def running(service: str, settings):
    """Build the service from its composition root and run it (see `started`)."""
    async with started(create_app(service, settings), service) as app:
        yield app
