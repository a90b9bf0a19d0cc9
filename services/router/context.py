"""The router's memory in Redis, seen through one batch: loaded in bulk, read and
updated in memory while the batch is routed in order, written back after the outputs
were acked: Redis only ever holds completed events' context. The one thing written
before the outputs go out is each buyer message's routing block, into its own dedup
mark, so a redelivery of an unfinished batch routes it as it was routed.

The router is pipelined (services.core.consumer): a batch is routed while the previous
batch's writes may still be on their way to Redis, so a context starts from those
writes (`pending`) and reads only the other keys from Redis.

Every key is a string under `kefu:{<shop>}:` (the shop is the hash tag), so a batch
costs one MGET per shop and shop-hop, and one Lua write per shop: Redis Cluster safe.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

import orjson
from redis.asyncio import Redis

from contracts import EventType
from services.core.redis import SET_MANY, by_hash_tag
from services.core.redis_batch import RedisBatch
from services.router.reply_scripts import ShopScripts, scripts_key
from services.router.stages import OrderState

ScriptWrite = tuple[str, str]
"""(shop, script id): the key of a reply script's write among `writes()` (context keys
are strings, so the two never meet)."""

# One shop's reads of a batch. ARGV: context TTL s, dedup TTL s, the shop's reply
# scripts hash ('' when the batch has no buyer message of the shop), n claims, then n
# pairs (dedup mark key, claim), then context keys. A claim is taken (SET NX) or found to
# be ours (a redelivery of the very record that took it, whose batch did not finish):
# 1 = route it, 0 = a duplicate, or the routing block its batch decided and stored
# before publishing (`<claim>|r:<routing>`, DECIDE): route it again exactly so, whatever
# the context says now (the first outputs may have been acked). Once the batch's
# outputs were acked, its after-ack write marks the claim done (`<claim>|done`): a
# redelivery then is a duplicate.
# Context keys are read with their TTL refreshed (an active order or conversation is
# never forgotten just because nothing about it changed). Returns the claims' answers
# (1, 0 or a stored routing) and the context values, in order, then the scripts hash
# (HGETALL) when asked for.
LOAD = """
local ttl, dttl, scripts, n = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local out, i = {}, 5
for _ = 1, n do
  local key, claim = ARGV[i], ARGV[i + 1]
  local decided, route = claim .. '|r:', 0
  if redis.call('SET', key, claim, 'NX', 'EX', dttl) then
    route = 1
  else
    local held = redis.call('GET', key)
    if held == claim then
      route = 1
    elseif held and string.sub(held, 1, #decided) == decided then
      route = string.sub(held, #decided + 1)
    end
  end
  out[#out + 1] = route
  i = i + 2
end
for j = i, #ARGV do
  out[#out + 1] = redis.call('GETEX', ARGV[j], 'EX', ttl)
end
if scripts ~= '' then out[#out + 1] = redis.call('HGETALL', scripts) end
return out
"""

# KEYS[i]: a dedup mark; its value becomes ARGV[n + i] if it still is the claim ARGV[i]
# (a replica that took the record over meanwhile may have marked it done).
DECIDE = """
local n = #KEYS
for i = 1, n do
  if redis.call('GET', KEYS[i]) == ARGV[i] then
    redis.call('SET', KEYS[i], ARGV[n + i], 'KEEPTTL')
  end
end
return n
"""

DONE = "|done"
"""Appended to a dedup mark's claim once its record's batch was published and acked."""


def declared(payload, name: str) -> str | None:
    """A payload field the contract declares for this event type. Extra fields pass
    through untouched and may hold anything (an integer `case_id` on a buyer message),
    so they never decide routing or keys."""
    return getattr(payload, name) if name in _fields(type(payload)) else None


@dataclass(slots=True)
class _Mark:
    """A dedup mark this batch holds: its claim (the record's `partition:offset`), the
    routing block an earlier try of the record stored, and whether a record of this
    batch routed it already (a second copy in the batch is a duplicate)."""

    claim: str
    stored: bytes | None = None
    routed: bool = False


@cache
def _fields(model: type) -> frozenset[str]:
    return frozenset(model.model_fields)


def _order_from(text: str | None) -> OrderState:
    if not text:
        return OrderState()
    stage, before, buyer = (text.split("|", 2) + ["", ""])[:3]
    return OrderState(stage or None, before or None, buyer or None)


def _order_text(state: OrderState) -> str:
    return f"{state.stage or ''}|{state.before_aftersale or ''}|{state.buyer_id or ''}"


class RouterContext:
    def __init__(
        self, redis: Redis, *, ttl: int, dedup_ttl: int,
        pending: dict[str | ScriptWrite, str] | None = None,
    ) -> None:
        self.redis, self.ttl, self.dedup_ttl = redis, ttl, dedup_ttl
        self._pending: dict[str, str] = {}
        self._pending_scripts: dict[ScriptWrite, str] = {}
        for key, value in (pending or {}).items():
            if isinstance(key, tuple):
                self._pending_scripts[key] = value
            else:
                self._pending[key] = value
        self._scripts: dict[str, ShopScripts] = {}  # shops with a buyer message
        self._script_writes: dict[ScriptWrite, str] = {}  # value, '' to delete
        self._values: dict[str, str | None] = {}
        self._dirty: dict[str, int] = {}  # key -> TTL of the pending write
        self._marks: dict[str, _Mark] = {}  # the dedup marks this batch holds, to route
        self._decisions: dict[str, bytes] = {}  # dedup mark -> routing to store (DECIDE)
        self._set_many = redis.register_script(SET_MANY)
        self._load = redis.register_script(LOAD)
        self._decide = redis.register_script(DECIDE)

    # --- keys (services.core.redis.shop_key's layout, formatted in one step: several
    # keys per event, thousands of events per second) --------------------------------
    @staticmethod
    def seen_key(shop: str, event_id: str) -> str:
        return f"kefu:{{{shop}}}:seen:{event_id}"

    @staticmethod
    def order_key(shop: str, order_id: str) -> str:
        return f"kefu:{{{shop}}}:order:{order_id}"

    @staticmethod
    def conversation_key(shop: str, conversation_id: str) -> str:
        return f"kefu:{{{shop}}}:conv:{conversation_id}:role"

    @staticmethod
    def buyer_order_key(shop: str, buyer_id: str) -> str:
        return f"kefu:{{{shop}}}:buyer:{buyer_id}:latest_order"

    @staticmethod
    def case_key(shop: str, case_id: str) -> str:
        return f"kefu:{{{shop}}}:case:{case_id}:order"

    # --- loading ----------------------------------------------------------------------
    async def load(self, events: Iterable[tuple[Any, str]]) -> None:
        """Read what the batch needs and claim each event's dedup mark for the record
        that carries it (`(event, claim)`, the claim naming the record: the first of two
        copies on two replicas takes it, the other is a duplicate)."""
        wanted: dict[str, set[str]] = defaultdict(set)
        claims: dict[str, list[tuple[str, str]]] = defaultdict(list)
        pointers: list[tuple[str, str]] = []  # (shop, key whose value is an order id)
        scripts: set[str] = set()  # shops whose reply scripts to read
        for event, claim in events:
            shop, payload, keys = event.shop_id, event.payload, wanted[event.shop_id]
            claims[shop].append((self.seen_key(shop, event.event_id), claim))
            if conversation_id := declared(payload, "conversation_id"):
                keys.add(self.conversation_key(shop, conversation_id))
            if event.event_type == EventType.BUYER_MESSAGE:
                scripts.add(shop)
                pointer = self.buyer_order_key(shop, payload.buyer_id)
                keys.add(pointer)
                pointers.append((shop, pointer))
            if order_id := declared(payload, "order_id"):
                keys.add(self.order_key(shop, order_id))
            if case_id := declared(payload, "case_id"):
                pointer = self.case_key(shop, case_id)
                keys.add(pointer)
                pointers.append((shop, pointer))
        await self._fetch(wanted, claims, scripts)
        # Second hop: orders named only through a buyer's latest order or a case.
        hop: dict[str, set[str]] = defaultdict(set)
        for shop, pointer in pointers:
            order_id = self._values.get(pointer)
            if order_id and self.order_key(shop, order_id) not in self._values:
                hop[shop].add(self.order_key(shop, order_id))
        await self._fetch(hop, {})

    async def _fetch(self, wanted: dict[str, set[str]],
                     claims: dict[str, list[tuple[str, str]]],
                     scripts: set[str] = frozenset()) -> None:
        pending, calls = self._pending, []
        for shop in wanted.keys() | claims.keys():
            keys = wanted.get(shop, set())
            if pending:
                for key in keys & pending.keys():
                    self._values[key] = pending[key]
                keys = keys - pending.keys()
            shop_claims = claims.get(shop, [])
            if keys or shop_claims:
                calls.append((shop, list(keys), shop_claims))
        if not calls:
            return
        batch = RedisBatch(self.redis)
        for shop, keys, shop_claims in calls:
            first = shop_claims[0][0] if shop_claims else keys[0]
            batch.script(self._load, [first], [
                self.ttl, self.dedup_ttl, scripts_key(shop) if shop in scripts else "",
                len(shop_claims), *(part for claim in shop_claims for part in claim), *keys])
        known, marks = self._values, self._marks
        for (shop, keys, shop_claims), reply in zip(calls, await batch.execute(), strict=True):
            for (key, claim), route in zip(shop_claims, reply, strict=False):
                if route:  # 1, or the routing block an earlier try stored
                    marks[key] = _Mark(claim, route if isinstance(route, bytes) else None)
            values = reply[len(shop_claims):len(shop_claims) + len(keys)]
            for key, value in zip(keys, values, strict=True):
                known[key] = value.decode() if isinstance(value, bytes) else value
            if shop in scripts:
                self._load_scripts(shop, reply[-1])

    def _load_scripts(self, shop: str, flat: list) -> None:
        loaded = ShopScripts((flat[i].decode(), flat[i + 1]) for i in range(0, len(flat), 2))
        for (of_shop, script_id), value in self._pending_scripts.items():
            if of_shop == shop:
                loaded.put(script_id, value.encode() if value else None)
        self._scripts[shop] = loaded

    # --- reply scripts ------------------------------------------------------------------
    def suggested(self, shop: str, intent: str, locale: str) -> list[dict[str, str]]:
        scripts = self._scripts.get(shop)
        return scripts.suggested(intent, locale) if scripts is not None else []

    def keep_script(self, shop: str, script_id: str, value: bytes | None) -> None:
        """A published (or, with None, retired) script: this batch's later buyer messages
        see it, and it is written with the context."""
        if shop in self._scripts:
            self._scripts[shop].put(script_id, value)
        self._script_writes[(shop, script_id)] = value.decode() if value else ""

    # --- batch-local reads and writes -------------------------------------------------
    def is_duplicate(self, shop: str, event_id: str) -> bool:
        """Its mark was claimed by another record (a copy, on this or another replica),
        or by an earlier record of this batch."""
        key = self.seen_key(shop, event_id)
        mark = self._marks.get(key)
        if mark is None or mark.routed:
            return True
        mark.routed = True  # the first record of the batch that claimed it routes it
        self._values[key] = f"{mark.claim}{DONE}"  # written once the batch is acked
        self._dirty[key] = self.dedup_ttl
        return False

    def decided(self, shop: str, event_id: str) -> dict[str, Any] | None:
        """The routing block an earlier try of this very record stored before
        publishing (its outputs may be out: it goes where it went), else None."""
        mark = self._marks.get(self.seen_key(shop, event_id))
        return orjson.loads(mark.stored) if mark is not None and mark.stored else None

    def decide(self, shop: str, event_id: str, routing: dict[str, Any]) -> None:
        """Store this routing block with the record's claim before the outputs go out
        (`store_decisions`)."""
        key = self.seen_key(shop, event_id)
        if self._marks[key].stored is None:
            self._decisions[key] = orjson.dumps(routing)

    async def store_decisions(self) -> None:
        """Write the batch's routing decisions into their dedup marks, before its outputs
        are published: one Lua call per shop, in one pipeline."""
        if not self._decisions:
            return
        pipe = self.redis.pipeline(transaction=False)
        for keys in by_hash_tag(self._decisions):
            claims = [self._marks[k].claim for k in keys]
            values = [f"{claim}|r:".encode() + self._decisions[k] for k, claim in zip(
                keys, claims, strict=True)]
            await self._decide(keys=keys, args=claims + values, client=pipe)
        await pipe.execute()
        self._decisions.clear()

    def get(self, key: str) -> str | None:
        return self._values.get(key)

    def set(self, key: str, value: str) -> None:
        if self._values.get(key) != value:
            self._values[key] = value
            self._dirty[key] = self.ttl

    def order(self, shop: str, order_id: str) -> OrderState:
        return _order_from(self._values.get(self.order_key(shop, order_id)))

    def set_order(self, shop: str, order_id: str, state: OrderState) -> None:
        self.set(self.order_key(shop, order_id), _order_text(state))

    def writes(self) -> dict[str | ScriptWrite, str]:
        """The values `flush` will write (a next batch's `pending`)."""
        return {**{key: self._values[key] for key in self._dirty}, **self._script_writes}

    async def flush(self) -> None:
        """Write dedup marks and changed context, every key with a TTL: one Lua call per
        shop, all in one pipeline."""
        if not self._dirty and not self._script_writes:
            return
        pipe = self.redis.pipeline(transaction=False)
        for keys in by_hash_tag(self._dirty):
            args = [self._values[k] for k in keys] + [self._dirty[k] for k in keys]
            await self._set_many(keys=keys, args=args, client=pipe)
        for (shop, script_id), value in self._script_writes.items():
            if value:
                pipe.hset(scripts_key(shop), script_id, value)
            else:
                pipe.hdel(scripts_key(shop), script_id)
        await pipe.execute()
        self._dirty.clear()
        self._script_writes.clear()
