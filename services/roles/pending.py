"""A decided batch's changes until they are written, laid over what the next batch reads.

The partition owner's own fields (a conversation's clock and session, the order and
case clocks, the dedup marks) come from the pending changes, newest last; the fields the
assignment script writes come from Redis, which has them before the batch's outputs go
out. The next batch gets copies: its decisions must not reach into the earlier batch's
write."""

from __future__ import annotations

from dataclasses import dataclass

from services.roles.clock_state import ClockState
from services.roles.store import Changes, Snapshot

OWNER_FIELDS = ("buyer", "priority", "opened", "answered", "trace", "complained")


@dataclass(frozen=True, slots=True)
class Pending:
    changes: Changes

    @classmethod
    def of(cls, changes: Changes) -> Pending:
        return cls(changes)

    def lay_over(self, snapshot: Snapshot) -> None:
        for key, conv in self.changes.convs.items():
            loaded = snapshot.convs.get(key)
            if loaded is None:  # the next batch does not need it
                continue
            for name in OWNER_FIELDS:
                setattr(loaded, name, getattr(conv, name))
            loaded.clock = _copy(conv.clock)
        for key, clocks in self.changes.clocks.items():
            merged = snapshot.clocks.setdefault(key, {})
            merged.update({sla: _copy(clock) for sla, clock in clocks.items()})
        snapshot.seen.update(self.changes.seen)
        snapshot.acknowledge(self.changes.acks)


def _copy(clock: ClockState | None) -> ClockState | None:
    return clock.copy() if clock is not None else None
