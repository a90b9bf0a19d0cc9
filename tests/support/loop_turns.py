"""Counting the event loop's turns while code under test runs, without sleeping: a
callback that schedules itself again runs once per turn of the loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class LoopTurns:
    """`with LoopTurns() as turns:` ... `turns.count`: how many times the loop turned
    (0 if the code inside never let it). `on_turn` is called at each turn."""

    def __init__(self, on_turn: Callable[[], None] = lambda: None) -> None:
        self.on_turn, self.count = on_turn, 0
        self._next: asyncio.Handle | None = None

    def __enter__(self) -> LoopTurns:
        self._next = asyncio.get_running_loop().call_soon(self._turned)
        return self

    def __exit__(self, *exc) -> None:
        if self._next is not None:
            self._next.cancel()

    def _turned(self) -> None:
        self.count += 1
        self.on_turn()
        self._next = asyncio.get_running_loop().call_soon(self._turned)
