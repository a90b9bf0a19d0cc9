"""The event-time watermark of one input partition (pure: no clock, no I/O).

A watermark W of a partition is a promise: every event with `occurred_at` before W that
will ever be on this partition has been read, and its effects are stored. A timer due at
D may fire once W > D; until then a stop event for D may still be on its way, so firing
would risk a false escalation. Under a backlog W stays behind, so escalations come late,
never false. W only moves forward.

W moves forward in three ways, each allowing `grace` for producers that publish a little
late (the `KEFU_SLA_GRACE` setting):

- **a stamped record.** A service that publishes for another stamps each record with its
  own watermark (header `kefu-watermark`, epoch ms). Reading such a record past a stop
  means the stop was read too: the upstream had read and published it before stamping.
- **an unstamped record**: a producer's own event. Reading it moves W to its
  `occurred_at` minus grace. An `occurred_at` ahead of the reader's clock counts as the
  read time: one producer with a fast clock cannot fire everybody's timers early.
- **caught up.** Having read everything the broker had at poll time T (position equal
  to the high watermark) moves W to T minus grace. An idle partition is caught up all
  the time, so its timers still fire. When an upstream stage stamps its records, W also
  waits for that stage: min(T - grace, the upstream watermark read before the fetch
  that saw the end was asked; `UpstreamReadings`). A partition on which a stamped
  record was read waits for the upstream even before it wrote a watermark
  (`PartitionProgress.fed_by_upstream`).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

WATERMARK_HEADER = "kefu-watermark"
UNKNOWN = -(2**62)
"""Nothing is known yet (a partition just assigned): no timer may fire."""


def record_watermark(stamp_ms: int | None, occurred_ms: int, read_ms: int, grace_ms: int) -> int:
    """What reading one record proves: its upstream stamp, else its event time (never
    ahead of the reader's clock) minus the grace."""
    if stamp_ms is not None:
        return stamp_ms
    return min(occurred_ms, read_ms) - grace_ms


def caught_up_watermark(poll_ms: int, grace_ms: int, upstream_ms: int | None) -> int:
    """What being caught up at poll time `poll_ms` proves; `upstream_ms` is the watermark
    of the stage that feeds this partition as read before that fetch was asked (None: no
    such stage, producers write here directly)."""
    own = poll_ms - grace_ms
    return own if upstream_ms is None else min(own, upstream_ms)


def parse_stamp(headers) -> int | None:
    """The `kefu-watermark` header of a record (None when absent or unreadable)."""
    for key, value in headers or ():
        if key == WATERMARK_HEADER:
            try:
                return int(value)
            except (TypeError, ValueError):
                return None
    return None


@dataclass(slots=True)
class Watermark:
    """One partition's watermark; `advance` keeps the largest value it was given."""

    value: int = UNKNOWN

    def advance(self, candidate: int) -> bool:
        """Move forward to `candidate` if it is later; True when it moved."""
        if candidate > self.value:
            self.value = candidate
            return True
        return False

    def allows(self, due_ms: int) -> bool:
        """May a timer due at `due_ms` fire? Only once the watermark is past it."""
        return due_ms < self.value


FETCH_MARGIN_MS = 1_000
"""Added to a consumer's fetch wait for how long before its answer a fetch was asked."""


class UpstreamReadings:
    """The upstream stage's watermark as this process read it over time (pure).

    Being caught up on a partition at time S proves min(S - grace, U) only for an
    upstream watermark U read before the fetch that showed the partition's end was
    asked: the upstream's work in U is then in the log that fetch saw. A U read later
    may count events the upstream published after that fetch, which this process has
    not read (a router that took over a failed replica's partitions publishes their
    backlog late). A fetch answered at S was asked at most `request_ms` before it: the
    fetch's longest wait plus a margin for the network."""

    def __init__(self, *, request_ms: int, keep: int = 256) -> None:
        """`keep` readings: at the firing loop's pace (a read per round, 100 ms apart at
        the most) far more than `request_ms` covers."""
        self.request_ms = request_ms
        self._readings: deque[tuple[int, int | None]] = deque(maxlen=keep)

    def add(self, read_ms: int, value: int | None) -> None:
        """`value` as read, `read_ms` once the read returned (None: no upstream stage)."""
        self._readings.append((read_ms, value))

    def before(self, snapshot_ms: int) -> int | None:
        """The upstream watermark that a fetch answered at `snapshot_ms` covers: the
        latest read early enough, else UNKNOWN. None: no upstream stage (none read early
        enough, or none ever written as far as every reading says)."""
        asked_by = snapshot_ms - self.request_ms
        for read_ms, value in reversed(self._readings):
            if read_ms <= asked_by:
                return value
        if self._readings and all(value is None for _, value in self._readings):
            return None
        return UNKNOWN
