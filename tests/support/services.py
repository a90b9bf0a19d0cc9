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


async def all_handled(app, records: int, timeout: float = 60) -> bool:
    """True once the in-process service has read `records` records (its
    `kefu_events_in_total`, valid or dead-lettered) and every consumer is idle (their
    batches committed)."""
    def done() -> bool:
        seen = sum(s.value for m in app.metrics.events_in.collect() for s in m.samples
                   if s.name.endswith("_total"))
        return seen >= records and all(c.idle.is_set() for _, c in app.consumers)

    return await wait_until(done, timeout=timeout)
