"""Group commit: concurrent requests that need the same kind of round trip (claims in
Redis, records to the broker) share one. What is submitted while a flush runs goes out
together in the next flush."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Grouped(Generic[T, R]):
    def __init__(self, flush: Callable[[list[T]], Awaitable[Sequence[R]]]) -> None:
        """`flush(items)` returns one result per item, in order; if it raises, every
        item of that flush gets the exception."""
        self._flush = flush
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._draining: asyncio.Task | None = None

    async def submit(self, item: T) -> R:
        result: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, result))
        if self._draining is None:
            self._draining = asyncio.create_task(self._drain())
        return await result

    async def _drain(self) -> None:
        try:
            while self._waiting:
                group, self._waiting = self._waiting, []
                try:
                    results = await self._flush([item for item, _ in group])
                except Exception as exc:
                    for _, result in group:
                        if not result.done():
                            result.set_exception(exc)
                    continue
                for (_, result), value in zip(group, results, strict=True):
                    if not result.done():
                        result.set_result(value)
        finally:
            self._draining = None
