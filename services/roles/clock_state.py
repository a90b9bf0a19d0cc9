"""A watched deadline as the role service stores it, and what stopping it means (pure).

A clock has three milestones: a `warning` (level 1, none when the budget is too short),
`breached` level 2 at the deadline, `breached` level 3 later. Its one timer waits for
the earliest milestone not yet published; `fired` remembers which were published.

Stopping a clock is judged on event time, at its stop event's `occurred_at`:

- a published milestone after the stop was false: `retracted`;
- a published breach before the stop was true, and is now over: `resolved`;
- a milestone before the stop that was never published (its timer was waiting for the
  watermark) was true: it is published now, and a breach is `resolved` at once;
- a milestone after the stop never happened: its timer is cancelled.

A supervisor who acknowledges one of a clock's escalations (`escalation.acknowledged`)
takes charge of its deadline: the clock is `acked`, stored with it (so a redelivery or
a restart keeps it), and publishes no further milestone; its corrections still go out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson

from contracts import EscalationState
from services.core.business_hours import epoch_us

LEVELS = ((EscalationState.WARNING, 1), (EscalationState.BREACHED, 2),
          (EscalationState.BREACHED, 3))
"""(state, level) of milestone 0, 1 and 2."""
NO_WARNING = 0


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


to_us = epoch_us
"""Epoch microseconds, exactly (a float timestamp would round some of them)."""


def from_us(us: int, tz=UTC) -> datetime:
    return (_EPOCH + timedelta(microseconds=us)).astimezone(tz)


def us_to_ms(us: int) -> int:
    """Epoch ms at or after `us` (a timer never fires before its instant)."""
    return -(-us // 1000)


@dataclass(slots=True)
class ClockState:
    """One deadline of one subject. Times are epoch µs; `due[0]` is 0 without a warning;
    `shard` is the input partition whose timer shard holds the clock's timer."""

    sla: str
    cause: str
    start: int
    due: tuple[int, int, int]
    shard: str
    fired: int = 0
    running: bool = True
    trace: str = ""
    action: str = ""
    acked: bool = False

    @property
    def deadline(self) -> int:
        return self.due[1]

    def is_fired(self, index: int) -> bool:
        return bool(self.fired >> index & 1)

    def next_index(self) -> int | None:
        """The earliest milestone still to publish (None: all published, stopped, or
        acknowledged by a supervisor)."""
        if not self.running or self.acked:
            return None
        for index, due in enumerate(self.due):
            if due != NO_WARNING and not self.is_fired(index):
                return index
        return None

    def copy(self) -> ClockState:
        """An independent copy (every field is immutable)."""
        return ClockState(self.sla, self.cause, self.start, self.due, self.shard, self.fired,
                          self.running, self.trace, self.action, self.acked)

    def as_list(self) -> list:
        items = [self.sla, self.cause, self.start, *self.due, self.shard, self.fired,
                 self.running, self.trace, self.action]
        return [*items, True] if self.acked else items

    @classmethod
    def from_list(cls, items: list) -> ClockState:
        """Eleven items, and a twelfth (`acked`) once a supervisor acknowledged it."""
        sla, cause, start, warn, dead, late, shard, fired, running, trace, action = items[:11]
        return cls(sla, cause, start, (warn, dead, late), shard, fired, running, trace, action,
                   acked=len(items) > 11 and bool(items[11]))

    def encode(self) -> bytes:
        return orjson.dumps(self.as_list())

    @classmethod
    def decode(cls, raw: bytes | str) -> ClockState:
        return cls.from_list(orjson.loads(raw))


@dataclass(frozen=True, slots=True)
class Notice:
    """An escalation a clock owes: milestone `index` in `state` (its own `warning` or
    `breached`, or a correction `retracted` / `resolved`)."""

    index: int
    state: EscalationState

    @property
    def level(self) -> int:
        return LEVELS[self.index][1]


def stop(clock: ClockState, at_us: int) -> list[Notice]:
    """Stop `clock` at event time `at_us`; returns what to publish, milestones first,
    then corrections, each in level order."""
    fires, corrections = [], []
    for index, due in enumerate(clock.due):
        if due == NO_WARNING:
            continue
        state = LEVELS[index][0]
        if clock.is_fired(index):
            if at_us < due:
                corrections.append(Notice(index, EscalationState.RETRACTED))
            elif state == EscalationState.BREACHED:
                corrections.append(Notice(index, EscalationState.RESOLVED))
        elif due <= at_us and not clock.acked:
            fires.append(Notice(index, state))
            if state == EscalationState.BREACHED:
                corrections.append(Notice(index, EscalationState.RESOLVED))
    clock.running = False
    clock.fired |= sum(1 << n.index for n in fires)
    return fires + corrections


def fire(clock: ClockState, index: int) -> Notice | None:
    """Milestone `index` is due and the watermark passed it: the notice to publish, or
    None when it is not owed any more (published already, the clock stopped, or a
    supervisor acknowledged it)."""
    if not clock.running or clock.acked or clock.is_fired(index) \
            or clock.due[index] == NO_WARNING:
        return None
    clock.fired |= 1 << index
    return Notice(index, LEVELS[index][0])
