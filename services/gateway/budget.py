"""The in-flight budget: request bytes the gateway holds at once, from before the body
is read until the broker settled its records (also after the client got its answer).
A request that does not fit is refused with 429 instead of being buffered: memory stays
bounded however slow the broker is."""

from __future__ import annotations

import asyncio


class InFlightBudget:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def reserve(self, size: int) -> Reservation | None:
        """Hold `size` bytes, or None when they do not fit now."""
        if self.used + size > self.limit:
            return None
        self.used += size
        return Reservation(self, size)


class Reservation:
    def __init__(self, budget: InFlightBudget, size: int) -> None:
        self._budget, self.size = budget, size
        self._kept = False

    def shrink(self, size: int) -> None:
        """Give back what the body turned out not to need."""
        if size < self.size:
            self._budget.used -= self.size - size
            self.size = size

    def keep_until(self, task: asyncio.Task) -> None:
        """Hold the bytes until `task` is done (later `release()` calls do nothing)."""
        self._kept = True
        task.add_done_callback(lambda _: self._give_back())

    def release(self) -> None:
        if not self._kept:
            self._give_back()

    def _give_back(self) -> None:
        self._budget.used -= self.size
        self.size = 0
