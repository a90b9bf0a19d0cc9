"""The router's memory in Redis, seen through one batch (`RouterState`): loaded in
bulk, read and updated in memory while the batch is routed in order, written back after
the outputs were acked: Redis only ever holds completed events' context. The one thing written
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
from typing import Any

from redis.asyncio import Redis

from contracts import EventType
from services.core.redis import SET_MANY, by_hash_tag
from services.core.redis_batch import RedisBatch
from services.router.reply_scripts import ShopScripts, scripts_key
from services.router.state import RouterState, ScriptWrite, declared

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


class RouterContext(RouterState):
    def __init__(
        self, redis: Redis, *, ttl: int, dedup_ttl: int,
        pending: dict[str | ScriptWrite, str] | None = None,
    ) -> None:
        super().__init__(ttl=ttl, dedup_ttl=dedup_ttl)
        self.redis = redis
        self._pending: dict[str, str] = {}
        self._pending_scripts: dict[ScriptWrite, str] = {}
        for key, value in (pending or {}).items():
            if isinstance(key, tuple):
                self._pending_scripts[key] = value
            else:
                self._pending[key] = value
        self._set_many = redis.register_script(SET_MANY)
        self._load = redis.register_script(LOAD)
        self._decide = redis.register_script(DECIDE)

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
                    self.know(key, pending[key])
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
        for (shop, keys, shop_claims), reply in zip(calls, await batch.execute(), strict=True):
            for (key, claim), route in zip(shop_claims, reply, strict=False):
                if route:  # 1, or the routing block an earlier try stored
                    self.hold(key, claim, route if isinstance(route, bytes) else None)
            values = reply[len(shop_claims):len(shop_claims) + len(keys)]
            for key, value in zip(keys, values, strict=True):
                self.know(key, value.decode() if isinstance(value, bytes) else value)
            if shop in scripts:
                self._load_scripts(shop, reply[-1])

    def _load_scripts(self, shop: str, flat: list) -> None:
        loaded = ShopScripts((flat[i].decode(), flat[i + 1]) for i in range(0, len(flat), 2))
        for (of_shop, script_id), value in self._pending_scripts.items():
            if of_shop == shop:
                loaded.put(script_id, value.encode() if value else None)
        self.know_scripts(shop, loaded)

    # --- writing ------------------------------------------------------------------------
    async def store_decisions(self) -> None:
        """Write the batch's routing decisions into their dedup marks, before its outputs
        are published: one Lua call per shop, in one round trip (EVALSHA only: `RedisBatch`)."""
        if not self._decisions:
            return
        batch = RedisBatch(self.redis)
        for keys in by_hash_tag(self._decisions):
            claims = [self._marks[k].claim for k in keys]
            values = [f"{claim}|r:".encode() + self._decisions[k] for k, claim in zip(
                keys, claims, strict=True)]
            batch.script(self._decide, keys, claims + values)
        await batch.execute()
        self._decisions.clear()

    async def flush(self) -> None:
        """Write dedup marks and changed context, every key with a TTL: one Lua call per
        shop, all in one round trip."""
        if not self._dirty and not self._script_writes:
            return
        batch = RedisBatch(self.redis)
        for keys in by_hash_tag(self._dirty):
            batch.script(self._set_many, keys,
                         [self._values[k] for k in keys] + [self._dirty[k] for k in keys])
        for (shop, script_id), value in self._script_writes.items():
            if value:
                batch.command("HSET", scripts_key(shop), script_id, value)
            else:
                batch.command("HDEL", scripts_key(shop), script_id)
        await batch.execute()
        self._dirty.clear()
        self._script_writes.clear()
