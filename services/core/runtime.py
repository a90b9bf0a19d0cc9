"""ServiceRuntime: what every composition root builds on. It owns the broker, the Redis
client, metrics, the health endpoint, background loops and graceful shutdown; services
only register publishers, batch handlers and background loops."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from aiokafka import AIOKafkaProducer
from faststream.middlewares import AckPolicy

from contracts.topics import DLQ
from services.core.consumer import BatchConsumer, BatchHandler
from services.core.dlq import count_dead_letters
from services.core.health import AssignmentTracker, HealthServer
from services.core.heap import settle_heap
from services.core.kafka import (
    CachedKeyPartitioner,
    create_broker,
    create_producer,
    send_records,
)
from services.core.logging import configure_logging, get_logger
from services.core.loop_lag import LoopLag
from services.core.metrics import Metrics
from services.core.outputs import Outgoing
from services.core.progress import PartitionProgress
from services.core.redis import create_redis
from services.core.settings import Settings
from services.core.waiting import retrieve
from services.core.watermark import WATERMARK_HEADER

Background = Callable[[], Awaitable[None]]


class HttpServer(Protocol):
    port: int

    async def start(self) -> None: ...
    async def stop(self) -> None: ...

JSON_HEADERS = [("content-type", b"application/json")]


@dataclass(slots=True)
class Subscription:
    """One batch subscriber: its delivery rules (`consumer`) and FastStream's subscriber,
    whose aiokafka consumer exists while the service runs."""

    topics: tuple[str, ...]
    consumer: BatchConsumer
    subscriber: Any = None

    def kafka_consumer(self) -> Any:
        return getattr(self.subscriber, "consumer", None)


async def _undecoded(msg: Any) -> Any:
    """Skip FastStream's JSON decoding: handlers parse raw bytes themselves, so that
    undecodable input reaches the DLQ instead of failing before the handler. The
    "decoded body" is the message itself, which the broker (no dependency injection,
    `create_broker`) passes to the subscriber as its one argument."""
    return msg


class ServiceRuntime:
    def __init__(self, name: str, settings: Settings, *, configure_logs: bool = True) -> None:
        if configure_logs:
            configure_logging(settings.log_format, settings.log_level, service=name)
        self.name = name
        self.settings = settings
        self.log = get_logger(f"kefu.{name}")
        self.metrics = Metrics(name)
        self.stopping = asyncio.Event()
        self.broker = create_broker(settings, service=name, logger=get_logger("faststream"))
        self.redis = create_redis(settings)
        self.publishers: dict[str, Any] = {}
        self.producer: AIOKafkaProducer | None = None
        self.partitioner = CachedKeyPartitioner()
        self.trackers: list[AssignmentTracker] = []
        self.background_loops: list[Background] = []
        self.consumers: list[tuple[tuple[str, ...], BatchConsumer]] = []
        self.sink: Callable[[Sequence[Outgoing]], Awaitable[None]] | None = None
        """Replaces the Kafka producer when set (the in-memory broker of the tests)."""
        self.stamp: Callable[[], int] | None = None
        """When set, every output carries this service's watermark (header
        `kefu-watermark`) for the services it feeds (see services.core.watermark)."""
        self._tasks: list[asyncio.Task] = []
        self.lag = LoopLag()
        """How late the event loop ran lately (for the event-time watermarks)."""
        self.background_loops.append(lambda: self.lag.run(self.stopping))
        self.checks = {
            "redis": self._redis_ok, "broker": self._broker_ok, "consumers": self._joined,
            "not_stuck": self._not_stuck,
        }
        """What /readyz checks."""
        self.health: HttpServer = HealthServer(
            host=settings.http_host,
            port=settings.http_port_for(name),
            metrics=self.metrics,
            checks=self.checks,
        )

    def publisher(self, topic: str, *, description: str, schema: Any = None) -> Any:
        """Declare an output topic (it appears in the AsyncAPI document)."""
        if topic not in self.publishers:
            self.publishers[topic] = self.broker.publisher(
                topic, title=f"{self.name}:{topic}", description=description, schema=schema
            )
        return self.publishers[topic]

    async def publish(self, outputs: Sequence[Outgoing]) -> None:
        """Send every output (in order), then wait until the broker acked all of them.
        Raises on failure; callers retry (the same ids make a repeat harmless).

        Sends go straight to one aiokafka producer (acks=all), a record batch per
        partition (`send_records`): FastStream's per-message publish path cost more than
        the routing itself. The declared publishers remain
        the registry of output topics and describe them in the AsyncAPI document."""
        unknown = {out.topic for out in outputs} - self.publishers.keys()
        if unknown:
            raise KeyError(f"{self.name} has no publisher declared for {sorted(unknown)}")
        if self.sink is not None:
            await self.sink(outputs)
        else:
            await self._send(outputs)
        counts = Counter(out.topic for out in outputs)
        for topic, count in counts.items():
            self.metrics.events_out.labels(topic).inc(count)
        if DLQ in counts:
            count_dead_letters(outputs, self.metrics)

    async def _send(self, outputs: Sequence[Outgoing]) -> None:
        if self.producer is None:
            raise RuntimeError(f"{self.name} is not started")
        headers = JSON_HEADERS
        if self.stamp is not None:
            headers = [*JSON_HEADERS, (WATERMARK_HEADER, str(self.stamp()).encode())]
        futures = await send_records(
            self.producer,
            ((out.topic, out.key.encode(), out.value) for out in outputs),
            headers=headers,
            partitioner=self.partitioner,
            max_request_size=self.settings.kafka_max_message_bytes,
        )
        await all_acked(futures)

    def batch_subscriber(
        self, *topics: str, handler: BatchHandler, description: str, pipelined: bool = False,
        progress: PartitionProgress | None = None, lock: asyncio.Lock | None = None,
        on_assigned: Callable[[set], Awaitable[None]] | None = None,
    ) -> Subscription:
        """Consume `topics` in batches with commit-after-ack (see BatchConsumer; a
        pipelined handler must read its own not yet applied after-ack effects). With
        `progress`, what was read and stored of each partition is tracked; `on_assigned`
        runs before newly given partitions are read."""
        consumer = BatchConsumer(
            service=self.name,
            handler=handler,
            publish=self.publish,
            metrics=self.metrics,
            stopping=self.stopping,
            max_backoff=self.settings.retry_max_backoff.total_seconds(),
            pipelined=pipelined,
            progress=progress,
            lock=lock,
        )
        subscription = Subscription(topics, consumer)
        tracker = AssignmentTracker(self.metrics, progress=progress,
                                    consumer_of=subscription.kafka_consumer,
                                    on_assigned=on_assigned,
                                    drain_timeout=self._drain_timeout())
        tracker.in_flight, tracker.reassigned = consumer.idle, consumer.rebalanced
        if on_assigned is not None:  # a fencing service: only its own partitions' records
            consumer.ownership = tracker
        self.trackers.append(tracker)

        async def on_batch(msg):  # the KafkaMessage itself (_undecoded)
            # FastStream cached the decoded body, the message itself, in the message: a
            # cycle that only the collector frees, the whole batch with it.
            msg.clear_cache()
            await consumer(msg)

        on_batch.__name__ = f"{self.name}_consume"
        subscription.subscriber = self.broker.subscriber(
            *topics,
            group_id=self.settings.group_id(self.name),
            batch=True,
            ack_policy=AckPolicy.MANUAL,
            auto_offset_reset="earliest",
            max_records=self.settings.consumer_max_records,
            batch_timeout_ms=self.settings.consumer_batch_timeout_ms,
            fetch_max_wait_ms=self.settings.consumer_fetch_max_wait_ms,
            fetch_min_bytes=self.settings.consumer_fetch_min_bytes,
            listener=tracker,
            session_timeout_ms=self.settings.consumer_session_timeout_ms,
            heartbeat_interval_ms=self.settings.consumer_heartbeat_interval_ms,
            rebalance_timeout_ms=self.settings.consumer_rebalance_timeout_ms,
            title=f"{self.name}:{','.join(topics)}",
            description=description,
            decoder=_undecoded,
        )
        subscription.subscriber(on_batch)
        self.consumers.append((topics, consumer))
        return subscription

    def _drain_timeout(self) -> float:
        """How long a revocation waits for the batch in flight: within the group's
        rebalance timeout (the session timeout unless set), or the group would expel this
        member while it waits."""
        limit_ms = (self.settings.consumer_rebalance_timeout_ms
                    or self.settings.consumer_session_timeout_ms)
        return 0.8 * limit_ms / 1000

    def ready_when(self, name: str, check: Callable[[], bool]) -> None:
        """Add a readiness check (/readyz is 503 while it is false)."""
        async def checked() -> bool:
            return bool(check())

        self.checks[name] = checked

    def serve_http(self, server: HttpServer) -> None:
        """Serve `server` on the service's HTTP port instead of the plain health endpoint
        (the gateway's API carries /healthz, /readyz and /metrics itself). It starts after
        the producer and stops last, like the health endpoint."""
        self.health = server

    def background(self, loop: Background) -> None:
        """A loop that runs while the service runs and returns once `stopping` is set."""
        self.background_loops.append(loop)

    async def start(self) -> None:
        self.producer = create_producer(self.settings, service=self.name)
        await self.producer.start()
        await self.broker.start()
        await self.health.start()
        self._tasks = [asyncio.create_task(loop()) for loop in self.background_loops]
        self.log.info("service started", http_port=self.health.port)

    async def stop(self) -> None:
        self.stopping.set()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)
            for task in self._tasks:
                task.cancel()
        for _, consumer in self.consumers:  # the last pipelined batch commits before the
            await consumer.drain(timeout=10)  # consumers close
        await self.broker.stop()
        if self.producer is not None:
            await self.producer.stop()
        await self.redis.aclose()
        await self.health.stop()
        self.log.info("service stopped")

    async def run(self) -> int:
        """Run until SIGTERM/SIGINT, then stop fetching, finish or abandon in-flight work
        (uncommitted work is redelivered), close clients and return 0."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)
        settle_heap(self.settings.consumer_max_records)
        await self.start()
        await self.stopping.wait()
        self.log.info("shutdown requested")
        await self.stop()
        return 0

    async def _redis_ok(self) -> bool:
        return bool(await self.redis.ping())

    async def _broker_ok(self) -> bool:
        """A metadata round trip to the brokers (the producer's client is always up)."""
        if self.producer is None:
            return False
        metadata = await asyncio.wait_for(self.producer.client.fetch_all_metadata(), 2.0)
        return bool(metadata.brokers())

    async def _joined(self) -> bool:
        """A member of every subscriber's current group generation (not between a
        revocation and the next assignment, nor expelled after a pause)."""
        return all(t.joined for t in self.trackers)

    async def _not_stuck(self) -> bool:
        """No partition has been retrying its batch for longer than KEFU_STUCK_AFTER."""
        limit = self.settings.stuck_after.total_seconds()
        return all(c.stuck.longest() <= limit for _, c in self.consumers)


async def all_acked(futures: Sequence[asyncio.Future]) -> None:
    """Wait for every send's ack; raise the first failure. Awaiting in order costs a
    fraction of gather() (no callback per future: a produce batch's futures resolve
    together). On failure every other outcome is still retrieved, so none is reported
    as "exception never retrieved"."""
    try:
        for future in futures:
            await future
    except BaseException:
        for future in futures:
            future.add_done_callback(retrieve)
        raise
