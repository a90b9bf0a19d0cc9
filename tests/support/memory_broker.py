"""An in-memory stand-in for Kafka, for the integration tier: topic logs in lists, and
each service's real BatchConsumer driven over them in order. Services run their real
handlers, Redis and timer loops; only the broker is replaced (via ServiceRuntime.sink).
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import orjson
from aiokafka import ConsumerRecord

from services.core.outputs import Outgoing


class _Batch:
    """What BatchConsumer needs of a FastStream message: records, ack and nack."""

    def __init__(self, records: list[ConsumerRecord]) -> None:
        self.raw_message = tuple(records)
        self.acked = False

    async def ack(self) -> None:
        self.acked = True

    async def nack(self) -> None:
        self.acked = False


class MemoryBroker:
    def __init__(self) -> None:
        self.logs: dict[str, list[ConsumerRecord]] = defaultdict(list)
        self._subscribers: list[tuple[tuple[str, ...], Any, dict[str, int]]] = []
        self._tasks: list[asyncio.Task] = []
        self._stopping: list[asyncio.Event] = []

    def attach(self, runtime) -> None:
        """Route the runtime's outputs here and feed its consumers from here."""
        runtime.sink = self.publish
        self._stopping.append(runtime.stopping)
        for topics, consumer in runtime.consumers:
            self._subscribers.append((topics, consumer, dict.fromkeys(topics, 0)))
        self._tasks += [asyncio.create_task(loop()) for loop in runtime.background_loops]

    async def publish(self, outputs: list[Outgoing]) -> None:
        for out in outputs:
            log = self.logs[out.topic]
            log.append(ConsumerRecord(out.topic, 0, len(log), int(time.time() * 1000), 0,
                                      out.key.encode(), out.value, None, 0, len(out.value), []))

    async def send(self, topic: str, value: bytes | dict, key: str = "") -> None:
        body = value if isinstance(value, bytes) else orjson.dumps(value)
        await self.publish([Outgoing(topic, key, body)])

    async def pump(self) -> None:
        """Deliver every unread record to its consumers until nothing is left."""
        progressed = True
        while progressed:
            progressed = False
            for topics, consumer, offsets in self._subscribers:
                for topic in topics:
                    unread = self.logs[topic][offsets[topic]:]
                    if not unread:
                        continue
                    batch = _Batch(unread)
                    await consumer(batch)
                    await consumer.drain()  # a pipelined consumer commits in the background
                    if batch.acked:
                        offsets[topic] += len(unread)
                        progressed = True

    async def collect(
        self, topic: str | tuple[str, ...], match: Callable[[dict, ConsumerRecord], bool], *,
        count: int = 1, timeout: float = 10.0, settle: float = 0.0,
    ) -> list[tuple[dict, ConsumerRecord]]:
        """Same contract as KafkaIO.collect: matching messages, in log order."""
        topics = (topic,) if isinstance(topic, str) else topic
        deadline = time.monotonic() + timeout
        while True:
            await self.pump()
            found = [(orjson.loads(r.value), r) for t in topics for r in self.logs[t]]
            found = [(body, r) for body, r in found if isinstance(body, dict) and match(body, r)]
            if (len(found) >= count and settle <= 0) or time.monotonic() > deadline:
                return found
            await asyncio.sleep(min(0.05, settle) if len(found) >= count else 0.05)
            if len(found) >= count:
                settle -= 0.05

    async def close(self) -> None:
        """Stop the runtimes' background loops as ServiceRuntime.stop does: ask them to
        stop, then cancel what did not (a cancel alone can be lost inside redis-py)."""
        for stopping in self._stopping:
            stopping.set()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
