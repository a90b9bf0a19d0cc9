"""Is the broker reachable, with `kefu.inbound` on it? Asked before claiming anything, so
a request is refused with 503 at once while the broker is down, and again after a
request's acks are late, to tell a slow broker (429) from a gone one (503).

One metadata round trip answers every request for `max_age` seconds; concurrent
requests share the round trip in progress."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaProducer

from contracts.topics import INBOUND


class BrokerProbe:
    def __init__(
        self,
        check: Callable[[], Awaitable[bool]],
        *,
        max_age: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.check, self.max_age, self.clock = check, max_age, clock
        self._last: tuple[float, bool] | None = None
        self._running: asyncio.Task[bool] | None = None

    async def reachable(self, *, fresh: bool = False) -> bool:
        """The last answer if younger than `max_age` (unless `fresh`), else a new one."""
        if not fresh and self._last is not None and self.clock() - self._last[0] < self.max_age:
            return self._last[1]
        if self._running is None:
            self._running = asyncio.ensure_future(self._ask())
        return await asyncio.shield(self._running)

    async def _ask(self) -> bool:
        try:
            ok = bool(await self.check())
        except Exception:
            ok = False
        self._last = (self.clock(), ok)
        self._running = None
        return ok


def inbound_reachable(
    producer: Callable[[], AIOKafkaProducer | None], timeout: float = 2.0
) -> Callable[[], Awaitable[bool]]:
    """A metadata round trip that finds `kefu.inbound` with its partitions."""

    async def check() -> bool:
        client = producer()
        if client is None:
            return False
        metadata = await asyncio.wait_for(client.client.fetch_all_metadata(), timeout)
        return bool(metadata.partitions_for_topic(INBOUND))

    return check
