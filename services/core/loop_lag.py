"""How late this process's event loop has been running lately.

A consumer learns that it is caught up from the broker's fetch responses, and aiokafka
stamps each with the time the client *processed* it. A response that waited in the
socket while the process was paused (SIGSTOP, a long GC, a starved CPU, a slow batch)
carries a high watermark older than its stamp by the length of the pause, and would
make the partition look caught up later than it really was: a timer could fire before
a stop event that arrived meanwhile was read. Subtracting the longest recent lag of
the loop from the stamp keeps the rule safe; the grace covers the network's part."""

from __future__ import annotations

import asyncio
import time
from collections import deque

from services.core.waiting import wait_event


class LoopLag:
    def __init__(self, *, interval: float = 0.05, window: float = 2.0) -> None:
        self.interval, self.window = interval, window
        self._last_tick = time.monotonic()
        self._lags: deque[tuple[float, float]] = deque()  # (when, seconds late)

    async def run(self, stopping: asyncio.Event) -> None:
        self._last_tick = time.monotonic()
        while not stopping.is_set():
            self.tick()
            await wait_event(stopping, self.interval)

    def tick(self) -> None:
        now = time.monotonic()
        late = now - self._last_tick - self.interval
        if late > 0.005:
            self._lags.append((now, late))
        self._last_tick = now
        while self._lags and now - self._lags[0][0] > self.window:
            self._lags.popleft()

    def recent_ms(self) -> int:
        """The longest lag of the last `window` seconds, including one going on now
        (the process may have been resumed a moment ago, before its next tick)."""
        now = time.monotonic()
        ongoing = max(0.0, now - self._last_tick - self.interval)
        worst = max((late for when, late in self._lags if now - when <= self.window),
                    default=0.0)
        return round(max(worst, ongoing) * 1000)
