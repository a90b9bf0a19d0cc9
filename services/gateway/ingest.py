"""One ingest request from its headers to its answer. The order of the checks is the
contract of the API:

415 media type -> 413 declared size -> 429 in-flight budget -> read the body (413) ->
401 signature (raw bytes, before parsing) -> 413/422 splitting -> per-event checks ->
401 a shop the signature does not cover -> 422 nothing valid -> 503 broker down ->
claims (429 busy, 503 Redis down) -> write -> 202, or 429/503 when the acks are late
or missing. Nothing is written before the last step, and a 202 is sent only after the
broker acked every accepted record."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from redis.exceptions import RedisError

from services.core.logging import get_logger
from services.gateway.answers import Answer, refused, results
from services.gateway.auth import Refused, RequestAuth
from services.gateway.budget import InFlightBudget, Reservation
from services.gateway.delivery import Delivery
from services.gateway.events import (
    BodyError,
    CheckedBody,
    check_events,
    media_type,
    split_events,
)
from services.gateway.probe import BrokerProbe

log = get_logger("kefu.gateway")


@dataclass(frozen=True)
class Limits:
    max_batch: int
    max_body_bytes: int
    max_event_bytes: int
    ack_timeout: float


@dataclass(frozen=True)
class Incoming:
    """What the HTTP layer hands over: headers, and a reader of the body that returns
    None as soon as the body is longer than its limit."""

    content_type: str | None
    content_length: int | None
    timestamp: str | None
    signature: str | None
    read: Callable[[int], Awaitable[bytes | None]]


class Ingest:
    def __init__(
        self,
        *,
        auth: RequestAuth,
        delivery: Delivery,
        probe: BrokerProbe,
        budget: InFlightBudget,
        limits: Limits,
    ) -> None:
        self.auth, self.delivery = auth, delivery
        self.probe, self.budget, self.limits = probe, budget, limits

    async def handle(self, incoming: Incoming) -> Answer:
        media = media_type(incoming.content_type)
        if media is None:
            return refused(415, "unsupported_media_type",
                           "send application/json (one event) or application/x-ndjson")
        limit = self.limits.max_body_bytes
        if incoming.content_length is not None and incoming.content_length > limit:
            return _too_large(incoming.content_length, limit)
        reservation = self.budget.reserve(min(incoming.content_length or limit, limit))
        if reservation is None:
            return refused(429, "over_capacity", "the gateway holds as much as it may: "
                           "send again later", retry_after=1)
        try:
            body = await incoming.read(limit)
            if body is None:
                return _too_large(None, limit)
            reservation.shrink(len(body))
            return await self._take(incoming, media, body, reservation)
        finally:
            reservation.release()

    async def _take(
        self, incoming: Incoming, media: str, body: bytes, reservation: Reservation
    ) -> Answer:
        signed = self.auth.verify(incoming.timestamp, body, incoming.signature)
        if isinstance(signed, Refused):
            return refused(401, "unauthorized", signed.detail)
        try:
            lines = split_events(body, media, self.limits.max_batch)
        except BodyError as bad:
            return refused(bad.status, bad.error, bad.detail)
        checked = check_events(lines, self.limits.max_event_bytes)
        uncovered = sorted(shop for shop in checked.shops if not signed.covers(shop))
        if uncovered:
            return refused(401, "unauthorized", f"shop {uncovered[0]!r} is not covered by "
                           "the secret that signed this request; nothing was written")
        if not checked.candidates:
            return results(checked.outcomes)
        return await self._deliver(checked, reservation)

    async def _deliver(self, checked: CheckedBody, reservation: Reservation) -> Answer:
        """Claim, write and wait for the acks of the valid events."""
        if not await self.probe.reachable():
            return _broker_down()
        try:
            started = await self.delivery.start(checked.candidates, reservation)
        except RedisError as exc:
            log.warning("redis unavailable", error=repr(exc))
            return refused(503, "redis_unavailable", "the gateway cannot check duplicates "
                           "now; nothing was written: send again later", retry_after=5)
        if started.busy is not None:
            return refused(429, "in_progress", f"event {started.busy.event_id!r} of shop "
                           f"{started.busy.shop_id!r} is being written by another request; "
                           "nothing was written: send again shortly", retry_after=1)
        if started.writing is None:
            return results(checked.outcomes + started.decided)
        done, _ = await asyncio.wait({started.writing}, timeout=self.limits.ack_timeout)
        if not done:
            if await self.probe.reachable(fresh=True):
                return refused(429, "broker_slow", "the broker did not acknowledge in time; "
                               "send again later (what it wrote is then a duplicate)",
                               retry_after=max(1, round(self.limits.ack_timeout)))
            return _broker_down()
        accepted = started.writing.result()
        if accepted is None:
            return _broker_down()
        return results(checked.outcomes + started.decided + accepted)


def _too_large(size: int | None, limit: int) -> Answer:
    said = f"{size} bytes" if size is not None else "the body"
    return refused(413, "payload_too_large", f"{said} is over the limit of {limit} bytes")


def _broker_down() -> Answer:
    return refused(503, "broker_unavailable", "the broker is unreachable; nothing was "
                   "accepted: send again later (what it wrote is then a duplicate)",
                   retry_after=5)
