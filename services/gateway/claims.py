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
shop's hash tag: one call per shop, all in one pipeline (Redis Cluster safe)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta
from enum import StrEnum
from typing import Protocol

from redis.asyncio import Redis

from services.core.redis import shop_key
from services.router.context import RouterContext

PENDING_TTL = timedelta(minutes=2)
"""Longer than a request can wait for the broker (KEFU_GATEWAY_ACK_TIMEOUT, and the
producer's own delivery timeout of 40 s for records still queued after the answer)."""

ACCEPTED = "accepted"

# KEYS: (gateway mark, router mark) per event; ARGV: pending value, its TTL in ms.
CLAIM = """
local out = {}
for i = 1, #KEYS, 2 do
  if redis.call('EXISTS', KEYS[i + 1]) == 1 then
    out[#out + 1] = 'routed'
  else
    local mark = redis.call('GET', KEYS[i])
    if not mark then
      redis.call('SET', KEYS[i], ARGV[1], 'PX', ARGV[2])
      out[#out + 1] = 'claimed'
    elseif mark == 'accepted' then
      out[#out + 1] = 'accepted'
    else
      out[#out + 1] = 'busy'
    end
  end
end
return out
"""

# KEYS: gateway marks; ARGV: our pending value, the dedup window in seconds. A mark that
# expired meanwhile is set too: the event is written, whoever asks next is told so.
CONFIRM = """
for i = 1, #KEYS do
  local mark = redis.call('GET', KEYS[i])
  if not mark or mark == ARGV[1] then
    redis.call('SET', KEYS[i], 'accepted', 'EX', ARGV[2])
  end
end
return #KEYS
"""

# KEYS: gateway marks; ARGV: our pending value. Compare-and-delete.
RELEASE = """
local n = 0
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then
    n = n + redis.call('DEL', KEYS[i])
  end
end
return n
"""


class ClaimState(StrEnum):
    CLAIMED = "claimed"  # ours to write
    ROUTED = "routed"  # duplicate: the router has seen it
    ACCEPTED = "accepted"  # duplicate: a request before this one wrote it
    BUSY = "busy"  # another request is writing it now


EventRef = tuple[str, str]
"""(shop_id, event_id)"""


class Claims(Protocol):
    async def claim(self, events: Sequence[EventRef], token: str) -> list[ClaimState]: ...
    async def confirm(self, events: Sequence[EventRef], token: str) -> None: ...
    async def release(self, events: Sequence[EventRef], token: str) -> None: ...


def ingest_key(shop_id: str, event_id: str) -> str:
    return shop_key(shop_id, "ingest", event_id)


class RedisClaims:
    def __init__(self, redis: Redis, *, dedup_window: timedelta) -> None:
        self.redis = redis
        self.dedup_seconds = int(dedup_window.total_seconds())
        self._claim = redis.register_script(CLAIM)
        self._confirm = redis.register_script(CONFIRM)
        self._release = redis.register_script(RELEASE)

    async def claim(self, events: Sequence[EventRef], token: str) -> list[ClaimState]:
        by_shop = _by_shop(events)
        pipe = self.redis.pipeline(transaction=False)
        ttl_ms = int(PENDING_TTL.total_seconds() * 1000)
        for shop, positions in by_shop.items():
            keys = []
            for position in positions:
                event_id = events[position][1]
                keys += [ingest_key(shop, event_id), RouterContext.seen_key(shop, event_id)]
            await self._claim(keys=keys, args=[_pending(token), ttl_ms], client=pipe)
        states: list[ClaimState] = [ClaimState.BUSY] * len(events)
        for positions, replies in zip(by_shop.values(), await pipe.execute(), strict=True):
            for position, reply in zip(positions, replies, strict=True):
                states[position] = ClaimState(reply.decode() if isinstance(reply, bytes) else reply)
        return states

    async def confirm(self, events: Sequence[EventRef], token: str) -> None:
        await self._each_shop(self._confirm, events, [_pending(token), self.dedup_seconds])

    async def release(self, events: Sequence[EventRef], token: str) -> None:
        await self._each_shop(self._release, events, [_pending(token)])

    async def _each_shop(self, script, events: Sequence[EventRef], args: list) -> None:
        if not events:
            return
        pipe = self.redis.pipeline(transaction=False)
        for shop, positions in _by_shop(events).items():
            keys = [ingest_key(shop, events[p][1]) for p in positions]
            await script(keys=keys, args=args, client=pipe)
        await pipe.execute()


def _pending(token: str) -> str:
    return f"pending:{token}"


def _by_shop(events: Sequence[EventRef]) -> dict[str, list[int]]:
    grouped: dict[str, list[int]] = defaultdict(list)
    for position, (shop, _) in enumerate(events):
        grouped[shop].append(position)
    return grouped
