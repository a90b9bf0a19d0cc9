"""Run a service in-process against the module's embedded stack."""

from __future__ import annotations

from contextlib import asynccontextmanager

from services.cli.services import create_app
from tests.support.kafka_io import wait_until


@asynccontextmanager
async def running(service: str, settings):
    """Start the service's composition root, wait until its consumers joined, stop after."""
    app = create_app(service, settings)
    await app.start()
    try:
        joined = await wait_until(lambda: all(t.joined for t in app.trackers), timeout=60)
        assert joined, f"{service} did not join its consumer group"
        yield app
    finally:
        await app.stop()
