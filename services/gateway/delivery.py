"""Claim a request's valid events, write the claimed ones, settle the claims.

The write runs as its own task: the request waits for it up to the ack timeout, but it
is never cancelled, so however late the broker answers, the claims end up confirmed
(written: a resend is a duplicate) or released (not written: a resend is written), and
the request's bytes stay in the in-flight budget until then."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from services.core.logging import get_logger
from services.gateway.budget import Reservation
from services.gateway.claims import Claims, ClaimState, EventRef
from services.gateway.events import Candidate, Outcome
from services.gateway.writer import Writer

log = get_logger("kefu.gateway")

DUPLICATE_DETAIL = {
    ClaimState.ROUTED: "already received and routed",
    ClaimState.ACCEPTED: "already accepted",
}


@dataclass
class Started:
    decided: list[Outcome]
    """Duplicates of events accepted or routed before."""
    writing: asyncio.Task[list[Outcome] | None] | None = None
    """The write of the claimed events: their `accepted` outcomes once the broker acked
    every one of them, None if it did not (none is then answered accepted)."""
    busy: Candidate | None = None
    """An event another request is writing: nothing was claimed, nothing written."""


class Delivery:
    def __init__(self, claims: Claims, writer: Writer) -> None:
        self.claims, self.writer = claims, writer
        self._writes: set[asyncio.Task] = set()

    async def start(
        self, candidates: Sequence[Candidate], reservation: Reservation
    ) -> Started:
        """Claim every candidate (raises RedisError), then start writing the claimed."""
        token = uuid.uuid4().hex
        states = await self.claims.claim(_refs(candidates), token)
        claimed, decided, busy = [], [], None
        for candidate, state in zip(candidates, states, strict=True):
            if state is ClaimState.CLAIMED:
                claimed.append(candidate)
            elif state is ClaimState.BUSY:
                busy = busy or candidate
            else:
                decided.append(Outcome(candidate.index, candidate.event_id, "duplicate",
                                       detail=DUPLICATE_DETAIL[state]))
        if busy is not None:
            await self._settle(written=[], lost=claimed, token=token)
            return Started([], busy=busy)
        if not claimed:
            return Started(decided)
        task = asyncio.create_task(self._write(claimed, token))
        reservation.keep_until(task)
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)
        return Started(decided, writing=task)

    async def drain(self, timeout: float) -> None:
        """Wait (up to `timeout`) for writes still waiting on the broker."""
        if self._writes:
            await asyncio.wait(set(self._writes), timeout=timeout)

    async def _write(self, claimed: list[Candidate], token: str) -> list[Outcome] | None:
        renewing = asyncio.create_task(self._renew(_refs(claimed), token))
        try:
            acked = await self.writer.write([(c.key, c.raw) for c in claimed])
        finally:
            renewing.cancel()
        if all(acked):
            await self._settle(written=claimed, lost=[], token=token)
            return [Outcome(c.index, c.event_id, "accepted") for c in claimed]
        written = [c for c, ok in zip(claimed, acked, strict=True) if ok]
        lost = [c for c, ok in zip(claimed, acked, strict=True) if not ok]
        await self._settle(written=written, lost=lost, token=token)
        return None

    async def _renew(self, refs: list[EventRef], token: str) -> None:
        """Keep the claims while their write waits on the broker: renewed every third of
        a lease. If Redis fails here, a claim may lapse: a resend is then written again,
        and the router drops the repeat by its own marks."""
        every = self.claims.lease.total_seconds() / 3
        while True:
            await asyncio.sleep(every)
            try:
                await self.claims.renew(refs, token)
            except Exception as exc:
                log.warning("claims not renewed; they may lapse", error=repr(exc),
                            events=len(refs))

    async def _settle(self, *, written: list[Candidate], lost: list[Candidate], token: str) -> None:
        """Confirm the written claims, release the others. If Redis fails here, the
        pending marks expire on their own: a resend is then written again, and the
        router drops the repeat by its own marks."""
        try:
            if written:
                await self.claims.confirm(_refs(written), token)
            if lost:
                await self.claims.release(_refs(lost), token)
        except Exception as exc:
            log.warning("claims not settled; they expire", error=repr(exc),
                        written=len(written), lost=len(lost))


def _refs(candidates: Sequence[Candidate]) -> list[EventRef]:
    return [(c.shop_id, c.event_id) for c in candidates]
