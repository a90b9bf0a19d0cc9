"""The gateway's idempotency marks in Redis, claimed atomically.

`kefu:{<shop>}:ingest:<event_id>` is the gateway's own mark (it never writes the
router's `kefu:{<shop>}:seen:<event_id>`: the router would then drop the event):

- `pending:<token>` while one request writes the event: a short TTL, so a gateway that
  dies mid-request does not block the event for long;
- `accepted` once the broker acked it, for the dedup window.

A claim fails for an event the router already routed (its seen mark) or that is
accepted (both: duplicate), and for one that another request holds (busy: that request
may still fail, so this one must not call it a duplicate). Only the holder of a pending
claim may confirm or release it (compare by token). Every key of a Lua call shares the
shop's hash tag: one call per shop, all in one pipeline (Redis Cluster safe).

The scripts go out as plain EVALSHA: redis-py's registered scripts make every pipeline
that runs one ask SCRIPT EXISTS first, a second round trip per request; a script cache
that lost them (a restarted Redis) answers NOSCRIPT, and they are loaded and the
pipeline sent again (no script of it ran)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta
from enum import StrEnum
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import NoScriptError

from services.core.redis import shop_key
from services.gateway.claim_scripts import CLAIM, CONFIRM, RELEASE, RENEW, SHAS
from services.gateway.grouping import Grouped
from services.router.context import RouterContext

CLAIM_LEASE = timedelta(seconds=15)
"""How long a claim lasts unless renewed. The request writing the events renews it every
third of a lease for as long as the broker keeps it waiting (`Delivery`), so a gateway
that dies mid-request frees its events within one lease: a resend is then written."""

class ClaimState(StrEnum):
    CLAIMED = "claimed"  # ours to write
    ROUTED = "routed"  # duplicate: the router has seen it
    ACCEPTED = "accepted"  # duplicate: a request before this one wrote it
    BUSY = "busy"  # another request is writing it now


EventRef = tuple[str, str]
"""(shop_id, event_id)"""
Request = tuple[Sequence[EventRef], str]
"""One request's events and its token."""


class Claims(Protocol):
    async def claim(self, events: Sequence[EventRef], token: str) -> list[ClaimState]: ...
    async def confirm(self, events: Sequence[EventRef], token: str) -> None: ...
    async def release(self, events: Sequence[EventRef], token: str) -> None: ...
    async def renew(self, events: Sequence[EventRef], token: str) -> None: ...

    @property
    def lease(self) -> timedelta: ...


def ingest_key(shop_id: str, event_id: str) -> str:
    """`kefu:{<shop>}:ingest:<event_id>`."""
    return shop_key(shop_id, "ingest", event_id)


class RedisClaims:
    """Concurrent requests' claims (and confirms, and releases) share one pipeline: one
    Lua call per shop for all of them (services.gateway.grouping)."""

    def __init__(self, redis: Redis, *, dedup_window: timedelta,
                 lease: timedelta = CLAIM_LEASE) -> None:
        self.redis = redis
        self.dedup_seconds = int(dedup_window.total_seconds())
        self.lease = lease
        self._claims: Grouped[Request, list[ClaimState]] = Grouped(self._claim_all)
        self._confirms: Grouped[Request, None] = Grouped(self._confirm_all)
        self._releases: Grouped[Request, None] = Grouped(self._release_all)
        self._renewals: Grouped[Request, None] = Grouped(self._renew_all)

    async def claim(self, events: Sequence[EventRef], token: str) -> list[ClaimState]:
        return await self._claims.submit((events, token))

    async def confirm(self, events: Sequence[EventRef], token: str) -> None:
        if events:
            await self._confirms.submit((events, token))

    async def release(self, events: Sequence[EventRef], token: str) -> None:
        if events:
            await self._releases.submit((events, token))

    async def renew(self, events: Sequence[EventRef], token: str) -> None:
        if events:
            await self._renewals.submit((events, token))

    async def _claim_all(self, requests: list[Request]) -> list[list[ClaimState]]:
        ttl_ms = self._lease_ms()
        by_shop = _by_shop(requests)
        calls = []
        for shop, where in by_shop.items():
            keys, args = [], [ttl_ms]
            for _, _, event_id, pending in where:
                keys += [ingest_key(shop, event_id), RouterContext.seen_key(shop, event_id)]
                args.append(pending)
            calls.append((keys, args))
        states = [[ClaimState.BUSY] * len(events) for events, _ in requests]
        replies = await self._run(CLAIM, calls)
        for where, shop_replies in zip(by_shop.values(), replies, strict=True):
            for (request, position, _, _), reply in zip(where, shop_replies, strict=True):
                states[request][position] = _STATES[reply]
        return states

    async def _confirm_all(self, requests: list[Request]) -> list[None]:
        await self._each_shop(CONFIRM, requests, [self.dedup_seconds])
        return [None] * len(requests)

    async def _release_all(self, requests: list[Request]) -> list[None]:
        await self._each_shop(RELEASE, requests, [])
        return [None] * len(requests)

    async def _renew_all(self, requests: list[Request]) -> list[None]:
        await self._each_shop(RENEW, requests, [self._lease_ms()])
        return [None] * len(requests)

    def _lease_ms(self) -> int:
        return int(self.lease.total_seconds() * 1000)

    async def _each_shop(self, script: str, requests: list[Request], head: list) -> None:
        calls = []
        for shop, where in _by_shop(requests).items():
            keys, args = [], list(head)
            for _, _, event_id, pending in where:
                keys.append(ingest_key(shop, event_id))
                args.append(pending)
            calls.append((keys, args))
        await self._run(script, calls)

    async def _run(self, script: str, calls: list[tuple[list[str], list]]) -> list:
        """EVALSHA `script` once per (keys, args), all in one pipeline."""
        sha = SHAS[script]
        for attempt in (1, 2):
            pipe = self.redis.pipeline(transaction=False)
            for keys, args in calls:
                pipe.evalsha(sha, len(keys), *keys, *args)
            try:
                return await pipe.execute()
            except NoScriptError:
                if attempt == 2:
                    raise
                await self.redis.script_load(script)
        raise AssertionError("unreachable")


_STATES = {state.value.encode(): state for state in ClaimState}
_STATES.update({state.value: state for state in ClaimState})  # a client that decodes


def _by_shop(requests: list[Request]) -> dict[str, list[tuple[int, int, str, str]]]:
    """(request, position, event id, pending mark) of every event, by shop, in order."""
    grouped: dict[str, list[tuple[int, int, str, str]]] = defaultdict(list)
    for request, (events, token) in enumerate(requests):
        pending = f"pending:{token}"
        for position, (shop, event_id) in enumerate(events):
            grouped[shop].append((request, position, event_id, pending))
    return grouped
