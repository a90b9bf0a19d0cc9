"""What the router knows while it routes one batch (pure, no I/O): the context values
loaded for it (order stages, conversation roles, a buyer's latest order, a case's
order), the dedup marks it holds, the routing blocks it decided and the reply scripts,
read and updated in memory, in order. `RouterContext` (context.py) loads it from Redis
and writes back what changed."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import orjson

from services.router.reply_scripts import ShopScripts
from services.router.stages import OrderState

ScriptWrite = tuple[str, str]
"""(shop, script id): the key of a reply script's write among `writes()` (context keys
are strings, so the two never meet)."""

DONE = "|done"
"""Appended to a dedup mark's claim once its record's batch was published and acked."""


def declared(payload, name: str) -> str | None:
    """A payload field the contract declares for this event type. Extra fields pass
    through untouched and may hold anything (an integer `case_id` on a buyer message),
    so they never decide routing or keys."""
    return getattr(payload, name) if name in _fields(type(payload)) else None


@cache
def _fields(model: type) -> frozenset[str]:
    return frozenset(model.model_fields)


@dataclass(slots=True)
class _Mark:
    """A dedup mark this batch holds: its claim (the record's `partition:offset`), the
    routing block an earlier try of the record stored, and whether a record of this
    batch routed it already (a second copy in the batch is a duplicate)."""

    claim: str
    stored: bytes | None = None
    routed: bool = False


def _order_from(text: str | None) -> OrderState:
    if not text:
        return OrderState()
    stage, before, buyer = (text.split("|", 2) + ["", ""])[:3]
    return OrderState(stage or None, before or None, buyer or None)


def _order_text(state: OrderState) -> str:
    return f"{state.stage or ''}|{state.before_aftersale or ''}|{state.buyer_id or ''}"


class RouterState:
    def __init__(self, *, ttl: int, dedup_ttl: int) -> None:
        self.ttl, self.dedup_ttl = ttl, dedup_ttl
        self._scripts: dict[str, ShopScripts] = {}  # shops with a buyer message
        self._script_writes: dict[ScriptWrite, str] = {}  # value, '' to delete
        self._values: dict[str, str | None] = {}
        self._dirty: dict[str, int] = {}  # key -> TTL of the pending write
        self._marks: dict[str, _Mark] = {}  # the dedup marks this batch holds, to route
        self._decisions: dict[str, bytes] = {}  # dedup mark -> routing to store (DECIDE)

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

    # --- what was loaded --------------------------------------------------------------
    def hold(self, key: str, claim: str, stored: bytes | None = None) -> None:
        """This batch holds the dedup mark `key` with `claim` (it took it, or an earlier
        try of the same record did, and stored the routing block `stored`)."""
        self._marks[key] = _Mark(claim, stored)

    def know(self, key: str, value: str | None) -> None:
        """A context value as loaded (None: Redis has none)."""
        self._values[key] = value

    def know_scripts(self, shop: str, scripts: ShopScripts) -> None:
        self._scripts[shop] = scripts

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
        (`RouterContext.store_decisions`)."""
        key = self.seen_key(shop, event_id)
        if self._marks[key].stored is None:
            self._decisions[key] = orjson.dumps(routing)

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
        """The values the batch's after-ack write stores (a next batch's `pending`)."""
        return {**{key: self._values[key] for key in self._dirty}, **self._script_writes}
