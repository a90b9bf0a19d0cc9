"""Notifications the worker handed back because their lane was full, remembered so that
a slot freed in a lane calls one of them back at once (`Outbox.hasten`) instead of after
the hand-back delay. Without it, a shop with a burst beyond its queue would deliver at
most `queue_per_shop` notices per delay, however fast its receiver answers.

Only ids are kept, at most `per_lane` per lane. An id called back that another replica
claimed meanwhile is left alone by the outbox; whatever is not called back still comes
back after its delay. Entries of a slow receiver are not kept: they wait out theirs."""

from __future__ import annotations

from collections.abc import Callable
from itertools import islice

from services.notifier.lanes import Lane

LOOK_AT = 32
"""Lanes asked, besides the freed one, whether they are admitted now: bounds the work a
freed slot costs when many lanes wait and most are still refused."""


class WaitingRoom:
    def __init__(self, per_lane: int) -> None:
        self.per_lane = per_lane
        self.lanes: dict[Lane, dict[str, None]] = {}  # insertion-ordered: oldest first

    def wait(self, lane: Lane, timer_id: str) -> None:
        ids = self.lanes.setdefault(lane, {})
        if len(ids) < self.per_lane:
            ids[timer_id] = None

    def forget(self, lane: Lane, timer_id: str) -> None:
        """`timer_id` was claimed again: it no longer waits."""
        ids = self.lanes.get(lane)
        if ids is not None and ids.pop(timer_id, 0) is None and not ids:
            del self.lanes[lane]

    def call_back(self, freed: Lane, admits: Callable[[Lane], bool]) -> str | None:
        """The id to call back for the slot freed in lane `freed`: its own lane's oldest,
        else the oldest of the first waiting lane (of the first LOOK_AT) admitted now."""
        for lane in (freed, *islice(self.lanes, LOOK_AT)):
            ids = self.lanes.get(lane)
            if ids and admits(lane):
                timer_id = next(iter(ids))
                self.forget(lane, timer_id)
                return timer_id
        return None
