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


SETTLE_TURNS = 100
"""Turns of the loop that let every task which needs no timer and no I/O run to where
it waits: a few per `await` hop, so a hundred is far more than any chain here."""


async def settle(turns: int = SETTLE_TURNS) -> None:
    """Let the loop turn until everything that could run without a timer or I/O has run:
    before asserting that something has *not* happened (a wait still waiting), so that a
    broken wait would have finished by now. Never a substitute for `until`."""
    for _ in range(turns):
        await asyncio.sleep(0)


async def until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Let the loop run (timers included) until `predicate()` holds, checked at every
    turn; after `timeout` seconds fail, naming the predicate's source line."""
    holds = asyncio.Event()

    def check() -> None:
        if predicate():
            holds.set()

    check()
    with LoopTurns(check):
        try:
            await asyncio.wait_for(holds.wait(), timeout)
        except TimeoutError:
            code = predicate.__code__
            raise AssertionError(f"not true within {timeout} s: the predicate at "
                                 f"{code.co_filename}:{code.co_firstlineno}") from None
