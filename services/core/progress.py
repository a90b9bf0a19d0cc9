"""How far a consumer has read and stored each of its partitions, and the event-time
watermark that proves (see `services.core.watermark`).

`processed` is the offset after the last record whose batch was completed and committed
(outputs acked, effects stored): a record fetched but still being handled does not
count. A partition is caught up when `processed` reaches the high watermark of the
broker's last fetch response; that response's arrival time is when it was caught up.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from aiokafka import TopicPartition

from services.core.watermark import UNKNOWN, Watermark, caught_up_watermark


class PartitionProgress:
    def __init__(self, *, grace_ms: int) -> None:
        self.grace_ms = grace_ms
        self.processed: dict[TopicPartition, int] = {}
        self.watermarks: dict[TopicPartition, Watermark] = {}
        self.stamped: set[TopicPartition] = set()
        """Owned partitions an upstream stage feeds: this process read a stamped record
        there (`fed_by_upstream`). Being caught up on one proves nothing until the
        upstream's watermark is known, even when no upstream has written one yet."""
        self.moved = asyncio.Event()
        """Set whenever a watermark moved forward (the firing loop waits on it)."""

    # --- ownership ------------------------------------------------------------------
    def assigned(self, tps: Iterable[TopicPartition]) -> None:
        """A (re)assigned partition starts from nothing known: its timers wait until this
        process has read it past their due time, whatever an earlier owner had read."""
        for tp in tps:
            self.watermarks[tp] = Watermark()
            self.processed.pop(tp, None)
            self.stamped.discard(tp)

    def revoked(self, tps: Iterable[TopicPartition]) -> None:
        for tp in tps:
            self.watermarks.pop(tp, None)
            self.processed.pop(tp, None)
            self.stamped.discard(tp)

    def owned(self) -> list[TopicPartition]:
        return list(self.watermarks)

    def watermark(self, tp: TopicPartition) -> int:
        mark = self.watermarks.get(tp)
        return mark.value if mark is not None else UNKNOWN

    # --- progress -------------------------------------------------------------------
    def started_at(self, tp: TopicPartition, offset: int) -> None:
        """Where reading starts on `tp` (its committed offset), when nothing was stored yet."""
        if tp in self.watermarks and tp not in self.processed:
            self.processed[tp] = offset

    def fed_by_upstream(self, tps: Iterable[TopicPartition]) -> None:
        """Records stamped by an upstream stage were read on `tps` (call it before the
        batch's effects are stored). A partition found fed only now (a router that
        started after this process, before it wrote any watermark) goes back to
        nothing known: until then, being caught up counted the wall clock, and the
        router's backlog may still hold the stops of the events it just published. The
        only move backwards a watermark makes, and it only makes timers later."""
        for tp in tps:
            if tp in self.watermarks and tp not in self.stamped:
                self.stamped.add(tp)
                self.watermarks[tp] = Watermark()

    def completed(self, next_offsets: Mapping[TopicPartition, int],
                  candidates: Mapping[TopicPartition, int]) -> None:
        """A batch was completed and committed: `next_offsets` per partition, and what its
        records proved of each partition's watermark."""
        for tp, offset in next_offsets.items():
            if tp in self.watermarks and offset > self.processed.get(tp, -1):
                self.processed[tp] = offset
        self._advance(candidates)

    def caught_up(self, consumer: Any, upstream: Callable[[int], int | None] | None,
                  lag_ms: int = 0) -> None:
        """Advance each partition that has stored everything the broker had at its last
        fetch. `consumer` is the aiokafka consumer (highwater, last_poll_timestamp);
        `upstream` gives the upstream stage's watermark that a fetch answered at a given
        time covers (`UpstreamReadings.before`; None: producers write here directly);
        `lag_ms`, how late this process has been lately (`LoopLag`): a fetch response
        stamped after a pause may describe the log as it was before it."""
        candidates = {}
        for tp in self.watermarks:
            processed = self.processed.get(tp)
            if processed is None:
                continue
            try:
                high, polled = consumer.highwater(tp), consumer.last_poll_timestamp(tp)
            except (AssertionError, KeyError, ValueError):  # no longer assigned
                continue
            if high is not None and polled and processed >= high:
                snapshot = polled - lag_ms
                feeding = None if upstream is None else upstream(snapshot)
                if feeding is None and tp in self.stamped:
                    continue  # fed by a stage that has not written its watermark yet
                candidates[tp] = caught_up_watermark(snapshot, self.grace_ms, feeding)
        self._advance(candidates)

    def _advance(self, candidates: Mapping[TopicPartition, int]) -> None:
        moved = False
        for tp, candidate in candidates.items():
            mark = self.watermarks.get(tp)
            if mark is not None and mark.advance(candidate):
                moved = True
        if moved:
            self.moved.set()

    def lag_ms(self, tp: TopicPartition, now_ms: int | None = None) -> int | None:
        """How far the watermark is behind the wall clock (None: nothing known yet)."""
        value = self.watermark(tp)
        if value == UNKNOWN:
            return None
        now_ms = round(time.time() * 1000) if now_ms is None else now_ms
        return max(0, now_ms - value)


async def starting_offsets(consumer: Any, tps: Iterable[TopicPartition]) -> dict:
    """Each partition's committed offset, or its first offset when the group has none
    (kefu's consumers start at the earliest record)."""
    tps = list(tps)
    found, missing = {}, []
    for tp in tps:
        committed = await consumer.committed(tp)
        if committed is None:
            missing.append(tp)
        else:
            found[tp] = committed
    if missing:
        found.update(await consumer.beginning_offsets(missing))
    return found


def candidates_of(pairs: Iterable[tuple[TopicPartition, int]]) -> dict[TopicPartition, int]:
    """The largest candidate per partition."""
    out: dict[TopicPartition, int] = {}
    for tp, value in pairs:
        if value > out.get(tp, UNKNOWN):
            out[tp] = value
    return out

