"""Test-side Kafka I/O against the real embedded broker: produce raw or JSON events and
collect what the services published, with bounded waits."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord


class KafkaIO:
    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self._producer: AIOKafkaProducer | None = None

    async def producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            self._producer = AIOKafkaProducer(
                bootstrap_servers=self.bootstrap, acks="all", max_request_size=4 * 1024 * 1024
            )
            await self._producer.start()
        return self._producer

    async def send(self, topic: str, value: bytes | dict, key: str = "") -> None:
        body = value if isinstance(value, bytes) else orjson.dumps(value)
        producer = await self.producer()
        await producer.send_and_wait(
            topic,
            body,
            key=key.encode() if key else None,
            headers=[("content-type", b"application/json")],
        )

    async def collect(
        self,
        topic: str | tuple[str, ...],
        match: Callable[[dict[str, Any], ConsumerRecord], bool],
        *,
        count: int = 1,
        timeout: float = 30.0,
        settle: float = 0.0,
        at_least: int | None = None,
    ) -> list[tuple[dict[str, Any], ConsumerRecord]]:
        """Read `topic` (or several) from the beginning until `count` matching messages
        arrived (or `timeout`); then keep reading `settle` seconds more to catch unwanted
        extras. Fewer than `at_least` (default: `count`) fails the test: a test that
        looks for absence says so with `at_least=0`."""
        consumer = AIOKafkaConsumer(
            *((topic,) if isinstance(topic, str) else topic),
            bootstrap_servers=self.bootstrap,
            group_id=None,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            fetch_max_bytes=16 * 1024 * 1024,
            max_partition_fetch_bytes=4 * 1024 * 1024,
        )
        await consumer.start()
        found: list[tuple[dict[str, Any], ConsumerRecord]] = []
        deadline = time.monotonic() + timeout
        settle_until: float | None = None
        try:
            while time.monotonic() < deadline:
                if settle_until is None and len(found) >= count:
                    settle_until = time.monotonic() + settle
                if settle_until is not None and time.monotonic() >= settle_until:
                    break
                batch = await consumer.getmany(timeout_ms=200)
                for records in batch.values():
                    for record in records:
                        try:
                            body = orjson.loads(record.value)
                        except orjson.JSONDecodeError:
                            continue
                        if isinstance(body, dict) and match(body, record):
                            found.append((body, record))
        finally:
            await consumer.stop()
        wanted = count if at_least is None else at_least
        if len(found) < wanted:
            raise AssertionError(f"{len(found)} of the {wanted} messages wanted on {topic} "
                                 f"arrived within {timeout} s")
        return found

    async def close(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None


async def wait_until(
    predicate: Callable[[], Any], timeout: float = 30.0, interval: float = 0.1
) -> bool:
    """Poll an (async or sync) predicate until true or `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return True
        await asyncio.sleep(interval)
    return False
