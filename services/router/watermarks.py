"""The router's share of the event-time watermark (see services.core.watermark).

Every poll interval: advance the watermarks of the `kefu.inbound` partitions this
replica has caught up on, raise them in Redis for the services the router feeds, and
read back the router's watermark (the lowest over every inbound partition), which
stamps each output it publishes from then on."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from contracts import INBOUND
from services.core.logging import get_logger
from services.core.loop_lag import LoopLag
from services.core.progress import PartitionProgress
from services.core.retry import is_transient
from services.core.stage_watermarks import StageWatermarks
from services.core.waiting import wait_event
from services.core.watermark import UNKNOWN

log = get_logger("kefu.router.watermarks")


class RouterWatermarks:
    def __init__(self, *, progress: PartitionProgress, board: StageWatermarks,
                 consumer_of: Callable[[], object], stopping: asyncio.Event,
                 interval: float, lag: LoopLag) -> None:
        self.progress, self.board, self.consumer_of, self.lag = progress, board, consumer_of, lag
        self.stopping, self.interval = stopping, interval
        self.stamp = UNKNOWN
        """The router's watermark as last read: what its outputs are stamped with."""

    def current(self) -> int:
        return self.stamp

    async def run(self) -> None:
        while not self.stopping.is_set():
            try:
                await self.publish()
            except Exception as exc:  # logged; the stamp stays as it was (only late)
                log.warning("router watermark not published", exc_info=not is_transient(exc),
                            error=f"{type(exc).__name__}: {exc}")
            await wait_event(self.stopping, self.interval)

    async def publish(self) -> None:
        consumer = self.consumer_of()
        if consumer is None:
            return
        partitions = consumer.partitions_for_topic(INBOUND)
        if not partitions:
            return
        self.progress.caught_up(consumer, None, self.lag.recent_ms())
        marks = {tp.partition: self.progress.watermark(tp) for tp in self.progress.owned()
                 if tp.topic == INBOUND and self.progress.watermark(tp) != UNKNOWN}
        found = await self.board.publish(len(partitions), marks)
        self.stamp = UNKNOWN if found is None else found
