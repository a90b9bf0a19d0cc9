"""Per-service HTTP endpoint: /healthz (live), /readyz (broker, Redis, a member of the
group's current generation, no partition stuck, the service's own loops alive),
/metrics (Prometheus)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiokafka import ConsumerRebalanceListener
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from services.core.logging import get_logger
from services.core.metrics import Metrics
from services.core.progress import PartitionProgress, starting_offsets
from services.core.waiting import wait_event

log = get_logger("kefu.health")

Check = Callable[[], Awaitable[bool]]


class AssignmentTracker(ConsumerRebalanceListener):
    """Rebalance listener that remembers the partitions a subscriber owns; a subscriber
    is ready once it has joined its group (possibly with zero partitions, when there are
    more replicas than partitions).

    Before partitions are revoked it lets the in-flight batch finish and commit (up to
    `drain_timeout` seconds), so a rebalance does not hand finished-but-uncommitted work
    to the next owner; past the timeout the batch's commit fails and it is redone there.

    `on_assigned` runs before the new partitions are read (the services that fence a
    previous owner's late writes take their generation there).
    """

    def __init__(self, metrics: Metrics | None = None, drain_timeout: float = 20.0,
                 progress: PartitionProgress | None = None,
                 consumer_of: Callable[[], Any] | None = None,
                 on_assigned: Callable[[set], Awaitable[None]] | None = None) -> None:
        self.joined = False
        self.assignments = 0  # how many times the group gave this consumer its partitions
        self.partitions: set = set()
        self.metrics = metrics
        self.drain_timeout = drain_timeout
        self.in_flight: asyncio.Event | None = None  # set when no batch is in flight
        self.progress = progress
        self.consumer_of = consumer_of
        self.on_assigned = on_assigned
        self.reassigned: Callable[[], None] | None = None
        """Told when the group gave this consumer its partitions (positions restart at
        the committed offsets)."""
        self.settled = asyncio.Event()
        """Set while this consumer owns its partitions: joined, `on_assigned` done, no
        revocation under way."""
        self._tasks: set[asyncio.Task] = set()

    def owns(self, records) -> bool:
        """Are these records' partitions this consumer's now? aiokafka hands out records
        of newly assigned partitions while `on_assigned` still runs, and of revoked ones
        while the revocation waits: neither is this consumer's to handle."""
        # (topic, partition) tuples equal the TopicPartitions they name
        return self.settled.is_set() and {
            (r.topic, r.partition) for r in records} <= self.partitions

    async def on_partitions_revoked(self, revoked) -> None:
        self.joined = False  # until the group's next generation gives us our partitions
        self.settled.clear()
        if self.in_flight is not None and revoked:
            await wait_event(self.in_flight, self.drain_timeout)
        self.partitions -= set(revoked)
        if self.progress is not None:
            self.progress.revoked(revoked)
        if self.metrics is not None:
            for tp in revoked:
                try:
                    self.metrics.lag.remove(tp.topic, str(tp.partition))
                except KeyError:
                    pass

    async def on_partitions_assigned(self, assigned) -> None:
        if self.on_assigned is not None and assigned:
            await self.on_assigned(set(assigned))
        if self.reassigned is not None:
            self.reassigned()
        self.partitions |= set(assigned)
        self.assignments += 1
        self.joined = True
        self.settled.set()
        if self.progress is not None and assigned:
            self.progress.assigned(assigned)
            task = asyncio.create_task(self._learn_start(set(assigned)))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _learn_start(self, assigned: set) -> None:
        """Where reading starts on new partitions: what nothing was read of yet counts
        as read up to there (an idle partition is then caught up at once)."""
        consumer = self.consumer_of() if self.consumer_of is not None else None
        if consumer is None or self.progress is None:
            return
        try:
            starts = await starting_offsets(consumer, assigned & self.partitions)
        except Exception as exc:  # revoked again, or the broker went away: not caught up
            log.info("starting offsets unknown", error=f"{type(exc).__name__}: {exc}")
            return
        for tp, offset in starts.items():
            self.progress.started_at(tp, offset)


class HealthServer:
    def __init__(self, *, host: str, port: int, metrics: Metrics, checks: dict[str, Check]) -> None:
        self.host, self.port, self.metrics, self.checks = host, port, metrics, checks
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _healthz(self, _: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "service": self.metrics.service})

    async def _readyz(self, _: web.Request) -> web.Response:
        ready, results = await readiness(self.checks)
        return web.json_response({"ready": ready, "checks": results}, status=200 if ready else 503)

    async def _metrics(self, _: web.Request) -> web.Response:
        body = generate_latest(self.metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def readiness(checks: dict[str, Check]) -> tuple[bool, dict[str, bool]]:
    """Run every check (one that raises failed); ready when all passed."""
    results = {}
    for name, check in checks.items():
        try:
            results[name] = bool(await check())
        except Exception:
            results[name] = False
    return all(results.values()), results
