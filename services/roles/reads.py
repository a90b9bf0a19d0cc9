"""A batch's reads, sent while its records are still being parsed.

A big batch is read in a few parts (at most `PARTS`, so a batch's round trips stay
bounded whatever its size): as soon as a part's records are parsed, the dedup marks,
conversations and order/case clocks they need go to Redis, which answers while the next
part is parsed. The agent boards, with the sticky agents and recorded decisions they
serve, go with the last read, once the whole batch is known. Each read asks only for
keys no earlier part asked for, so the answers merge into one snapshot.

Changes of earlier batches not yet written are laid over the snapshot: every batch
unwritten when the first part was sent (`unwritten`), as a write that ends meanwhile may
be missing from any part's answer."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence

from services.core.waiting import let_go
from services.roles.escalation import TimerPayload
from services.roles.pending import Pending
from services.roles.requests import request_for
from services.roles.store import BoardRequest, LoadRequest, RoleStore, Snapshot

PARTS = 4
"""At most this many parts per batch, each read in its own round trip."""
MIN_PART = 250
"""Records per part at least: a smaller batch is read in one go (nothing to overlap)."""


def part_size(records: int) -> int:
    """Records per part for a batch of `records`."""
    return max(MIN_PART, -(-records // PARTS))


class BatchReads:
    def __init__(self, store: RoleStore, role: str, unwritten: Sequence[Pending]) -> None:
        self.store, self.role, self.unwritten = store, role, list(unwritten)
        self.wanted = LoadRequest()
        """What the events so far need and no read has asked for yet (boards: all)."""
        self.asked = LoadRequest()
        """What the reads sent so far asked for (boards aside)."""
        self.parts: list[asyncio.Task[Snapshot]] = []

    def need(self, events: Iterable = (), timers: Iterable[TimerPayload] = ()) -> None:
        """Add what `events` and `timers` need to the next read."""
        request = request_for(self.role, events, timers)
        self.wanted.seen |= request.seen - self.asked.seen
        self.wanted.convs |= request.convs - self.asked.convs
        self.wanted.subjects |= request.subjects - self.asked.subjects
        for shop, board in request.boards.items():
            merged = self.wanted.boards.setdefault(shop, BoardRequest())
            merged.buyers |= board.buyers
            merged.causes |= board.causes
            merged.extra += board.extra

    def send(self) -> None:
        """Start reading what is needed so far, but the boards, in the background."""
        wanted = self.wanted
        if not (wanted.seen or wanted.convs or wanted.subjects):
            return
        self.parts.append(asyncio.ensure_future(self.store.load(self._take(boards={}))))

    @property
    def round_trips(self) -> int:
        """The reads of the batch: the parts sent while it was parsed, and the last."""
        return len(self.parts) + 1

    async def snapshot(self) -> Snapshot:
        """The last read (the rest, and the boards), then the merge of every read's
        answer, with the unwritten changes laid over it."""
        last = self.store.load(self._take(boards=self.wanted.boards))
        answers = await asyncio.gather(*self.parts, last)
        snapshot = Snapshot()
        for answer in answers:
            snapshot.seen |= answer.seen
            snapshot.convs.update(answer.convs)
            snapshot.clocks.update(answer.clocks)
            snapshot.boards.update(answer.boards)
            snapshot.decisions.update(answer.decisions)
        for pending in self.unwritten:
            pending.lay_over(snapshot)
        return snapshot

    def close(self) -> None:
        """Stop the reads nobody will wait for (the batch failed before its snapshot)."""
        for part in self.parts:
            let_go(part)  # a failure of its own is the batch's, already raised

    def _take(self, *, boards: dict[str, BoardRequest]) -> LoadRequest:
        wanted = self.wanted
        request = LoadRequest(seen=wanted.seen, convs=wanted.convs, subjects=wanted.subjects,
                              boards=boards)
        self.asked.seen |= wanted.seen
        self.asked.convs |= wanted.convs
        self.asked.subjects |= wanted.subjects
        self.wanted = LoadRequest(boards=wanted.boards)
        return request


