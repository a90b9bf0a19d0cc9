"""One batch of a role service, start to end: read what it needs (`reads.py`: up to
four round trips, all but the last sent while the batch is still being parsed), decide
it (pure, `decider.py`), reserve the capacity its assignments take (one script per
shop; a big batch's first half is reserved while its second half is decided; another
round only for decisions another replica overtook), and hand back the outputs with the
write of its changes, to run once they were acked.

Batches are pipelined (services.core.consumer): a batch may be decided while the
previous one's changes are still on their way to Redis. Those changes are kept here
until written, and laid over what the next batch reads (`pending.py`): every batch
unwritten when its first read is sent, as a read may be answered before a write that
ends meanwhile (another connection)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from services.core.outputs import Outgoing
from services.core.policy import ShopPolicy
from services.core.retry import Fenced
from services.core.timers import ClaimedTimer
from services.core.waiting import let_go, taking_turns
from services.roles.decider import Decider
from services.roles.escalation import TimerPayload
from services.roles.pending import Pending
from services.roles.reads import BatchReads
from services.roles.rules import Rules
from services.roles.store import RoleStore

Now = Callable[[], datetime]
EARLY_RESERVE_FROM = 500
"""Events in a batch from which the first half's capacity reservations go to Redis
while the second half is decided (one more round trip, hidden behind the deciding)."""


YIELD_EVERY = 250
"""Events decided between two turns of the event loop (`taking_turns`). Decided in one
go, a batch held up the previous batch's write (its timers' answer waits for a turn
before the state write goes out), which then reached Redis just ahead of this batch's
reservations and delayed them by its whole run (roles_bench: 10-35 ms of a ~120 ms
batch)."""


async def _decide(decider: Decider, events: Sequence[tuple[object, str]]) -> None:
    async for part in taking_turns(events, YIELD_EVERY):
        for event, shard in part:
            decider.event(event, shard)


class RoleBatches:
    def __init__(self, *, role: str, store: RoleStore, rules: Rules,
                 policy_for: Callable[[str], ShopPolicy],
                 now: Now = lambda: datetime.now(UTC),
                 round_trips: Callable[[int], None] = lambda n: None) -> None:
        self.role, self.store, self.rules, self.policy_for, self.now = \
            role, store, rules, policy_for, now
        self.round_trips = round_trips
        """Told how many Redis round trips each batch took (a metric)."""
        self._pending: list[Pending] = []
        """Changes of batches decided but not yet written, oldest first."""

    def reads(self) -> BatchReads:
        """The reads of the next batch; its events' may be sent as they are parsed."""
        return BatchReads(self.store, self.role, self._pending)

    async def run(
        self, events: Sequence[tuple[object, str]] = (),
        timers: Sequence[tuple[ClaimedTimer, TimerPayload]] = (),
        reads: BatchReads | None = None,
    ) -> tuple[list[Outgoing], Callable[[], Awaitable[None]]]:
        """`events`: (event, shard of its partition), in order; `timers`: due timers;
        `reads`: those sent for the events so far (else all are read here). Returns the
        outputs, in order, and the write to run after they were acked."""
        if reads is None:
            reads = self.reads()
            reads.need(e for e, _ in events)
        reads.need(timers=(p for _, p in timers))
        try:
            snapshot = await reads.snapshot()
        finally:
            reads.close()
        now = self.now()
        now_ms = round(now.timestamp() * 1000)
        decider = Decider(role=self.role, snapshot=snapshot, rules=self.rules,
                          policy_for=self.policy_for, now=now)
        half = len(events) // 2 if len(events) >= EARLY_RESERVE_FROM else len(events)
        await _decide(decider, events[:half])
        early = None
        if half < len(events) and (first := decider.take_reservations()):
            early = asyncio.ensure_future(self.store.reserve(first, now_ms))
            await asyncio.sleep(0)  # let it out while the second half is decided
        try:
            await _decide(decider, events[half:])
            for claimed, payload in timers:
                decider.timer(claimed, payload)
            if early is not None:
                decider.resolve(await early, counted=False)
        finally:
            if early is not None:
                let_go(early)  # a failed batch is redelivered whole
        trips = reads.round_trips + (early is not None)
        while reservations := decider.take_reservations():
            decider.resolve(await self.store.reserve(reservations, now_ms))
            trips += 1
        outputs, changes = decider.finish()
        pending = Pending.of(changes)
        self._pending.append(pending)

        async def write() -> None:
            if not changes.empty():
                try:
                    await self.store.apply(changes)
                except Fenced:
                    self.forget()  # decided on state a newer owner has overtaken
                    raise
            self._pending.remove(pending)
            self.round_trips(trips + changes.write_round_trips())

        return outputs, write

    def forget(self) -> None:
        """Batches decided but abandoned (not written): nothing of them is laid over the
        next batch's reads; they are redelivered and decided again."""
        self._pending.clear()
