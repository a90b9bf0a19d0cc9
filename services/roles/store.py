"""The role services' storage port: one batch reads what it needs in one go, reserves
capacity for its assignment decisions, and writes its changes once its outputs were
acked. `redis_store.RedisRoleStore` is the adapter; `memory_store.MemoryRoleStore` the
fake for unit tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from services.core.timers import ClaimedTimer
from services.roles.board import ShopBoard
from services.roles.clock_state import ClockState
from services.roles.conversation import ConvState
from services.roles.reservations import Reservation, ShopResult

ConvKey = tuple[str, str]  # shop, conversation
SubjectKey = tuple[str, str, str]  # shop, kind (order / case), subject id


@dataclass(frozen=True, slots=True)
class Decision:
    """A recorded assignment decision of a cause (republished on redelivery)."""

    conv: str
    agent: str
    reason: str
    at: int


@dataclass(slots=True)
class BoardRequest:
    buyers: set[str] = field(default_factory=set)  # whose sticky agent to read
    causes: set[str] = field(default_factory=set)  # whose recorded decisions to read
    extra: int = 0
    """Queue entries to read beyond the shop's free capacity: what the batch may free."""


@dataclass(slots=True)
class LoadRequest:
    seen: set[tuple[str, str]] = field(default_factory=set)  # shop, event id
    convs: set[ConvKey] = field(default_factory=set)
    subjects: set[SubjectKey] = field(default_factory=set)
    boards: dict[str, BoardRequest] = field(default_factory=dict)  # per shop


@dataclass(slots=True)
class Snapshot:
    seen: set[tuple[str, str]] = field(default_factory=set)
    convs: dict[ConvKey, ConvState] = field(default_factory=dict)
    """Every conversation asked for (a new one as an empty `ConvState`)."""
    clocks: dict[SubjectKey, dict[str, ClockState]] = field(default_factory=dict)
    boards: dict[str, ShopBoard] = field(default_factory=dict)
    decisions: dict[tuple[str, str], list[Decision]] = field(default_factory=dict)
    """Recorded decisions per (shop, cause); a cause with none is absent."""

    def acknowledge(self, acks: dict[SubjectKey, dict[str, str]]) -> None:
        """Mark the loaded clocks whose deadline (SLA -> cause) was acknowledged."""
        for key, causes in acks.items():
            clocks = self.clocks.get(key, {})
            for sla, cause in causes.items():
                clock = clocks.get(sla)
                if clock is not None and clock.cause == cause:
                    clock.acked = True


@dataclass(slots=True)
class TimerWrite:
    """The clock timer to (re)schedule in `shard`, or to cancel (`due_ms` None)."""

    shard: str
    due_ms: int | None = None
    payload: bytes = b""


@dataclass(slots=True)
class Changes:
    """What a batch writes once its outputs were acked: timers first (idempotent upserts
    and cancels, so a crash before the state write recomputes the same ones), then the
    state, the dedup marks last."""

    convs: dict[ConvKey, ConvState] = field(default_factory=dict)
    clocks: dict[SubjectKey, dict[str, ClockState]] = field(default_factory=dict)
    timers: dict[str, TimerWrite] = field(default_factory=dict)  # by timer id
    fired: list[ClaimedTimer] = field(default_factory=list)  # timers to ack
    served: dict[tuple[str, str], tuple[str, int]] = field(default_factory=dict)
    """(shop, buyer) -> (agent, at ms): the buyer's sticky agent."""
    causes_done: set[tuple[str, str]] = field(default_factory=set)  # decision records to drop
    seen: list[tuple[str, str]] = field(default_factory=list)
    acks: dict[SubjectKey, dict[str, str]] = field(default_factory=dict)
    """Order and case deadlines a supervisor acknowledged: SLA -> the clock's cause. Kept
    beside the subject's clocks and never written by their owner (the subject's
    `kefu.orders` partition), so neither write can undo the other; a clock loads as
    acknowledged while its cause is the one acknowledged."""
    shards: dict[ConvKey | SubjectKey, str] = field(default_factory=dict)
    """The input partition each written conversation or subject was decided from: its
    owner's generation fences the write."""

    def empty(self) -> bool:
        return not (self.convs or self.clocks or self.timers or self.fired or self.served
                    or self.causes_done or self.seen or self.acks)

    def write_round_trips(self) -> int:
        """What writing these changes costs (`RoleStore.apply`): timers, then state,
        then the acks of the timers fired."""
        return 0 if self.empty() else 3 if self.fired else 2


class RoleStore(Protocol):
    async def load(self, request: LoadRequest) -> Snapshot: ...

    async def reserve(self, reservations: dict[str, list[Reservation]],
                      now_ms: int) -> dict[str, ShopResult]:
        """Apply each shop's reservations in order, atomically per shop."""
        ...

    async def apply(self, changes: Changes) -> None: ...
