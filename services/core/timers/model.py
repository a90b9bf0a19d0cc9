"""Value types of the timer engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NamedTuple


class TimerSpec(NamedTuple):
    """One timer to schedule: `schedule_many` also accepts plain 3-tuples."""

    timer_id: str
    due_at: datetime | float
    payload: bytes = b""


@dataclass(frozen=True, slots=True)
class ClaimedTimer:
    """A timer claimed for firing. `token` identifies this claim: only it can ack the
    timer, so an owner whose lease was reaped (and the timer re-claimed) acks nothing."""

    timer_id: str
    due_at: float  # epoch seconds (millisecond precision)
    payload: bytes
    token: str
    shard: str = ""  # the named shard it was claimed from (partition timers)

    @property
    def due_datetime(self) -> datetime:
        return datetime.fromtimestamp(self.due_at, tz=UTC)


@dataclass(slots=True)
class ClaimBatch:
    """What one `claim` pass returns.

    `more`: some shard may still hold due timers (the limit was reached), claim again
    at once. `next_due_at`: earliest due time left among the shards visited (epoch
    seconds, None if they are empty); meaningful when `more` is false."""

    timers: list[ClaimedTimer] = field(default_factory=list)
    more: bool = False
    next_due_at: float | None = None
