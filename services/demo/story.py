"""Building blocks of the demo stories: a `Story` is a list of (shop-time offset, event),
written with a `StoryBuilder` that hands out unique ids and envelope fields. Pure: no I/O."""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .catalogue import CATALOGUE, Carrier, Listing

HOUR = 3600.0
"""Length of one shop hour in shop seconds; the feed replays the stories every hour."""

_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")


@dataclass(frozen=True)
class Shop:
    shop_id: str
    platform: str
    name: str


@dataclass(frozen=True)
class Agent:
    agent_id: str
    name: str
    roles: tuple[str, ...]
    max_concurrent: int


@dataclass
class Story:
    """One little story of a shop's hour; `summary` is the human line the feed prints."""

    name: str
    shop_id: str
    summary: str
    steps: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    valid: bool = True
    """False for the deliberately invalid event that should end up on the DLQ."""

    @property
    def start(self) -> float:
        return self.steps[0][0] if self.steps else 0.0


class RunContext:
    """Per run: the seeded random source, the run id in every id, the shop clock's zero."""

    def __init__(self, rng: random.Random, run_id: str, start: datetime) -> None:
        if not _RUN_ID.match(run_id):
            raise ValueError(f"run_id must be 1..40 letters, digits, '-' or '_': {run_id!r}")
        if start.utcoffset() is None:
            raise ValueError("start must have a UTC offset")
        self.rng = rng
        self.run_id = run_id
        self.start = start
        self._counters: Counter[str] = Counter()

    def new_id(self, prefix: str) -> str:
        self._counters[prefix] += 1
        return f"{prefix}-{self.run_id}-{self._counters[prefix]:03d}"

    def at(self, offset: float) -> str:
        """RFC 3339 text of shop time `offset` seconds after the start."""
        return (self.start + timedelta(seconds=offset)).isoformat(timespec="seconds")


@dataclass
class Order:
    order_id: str
    buyer_id: str
    items: list[dict[str, Any]]

    @property
    def amount(self) -> float:
        return round(sum(i["price"] * i["quantity"] for i in self.items), 2)


class StoryBuilder:
    """Writes one story: `after()` moves the story's clock, the other methods emit events."""

    def __init__(self, ctx: RunContext, shop: Shop, name: str, summary: str, at: float) -> None:
        self.ctx = ctx
        self.shop = shop
        self.t = at
        self.trace_id = ctx.new_id("trace")
        self.story = Story(name=name, shop_id=shop.shop_id, summary=summary)

    # -- time and choice -------------------------------------------------------------
    def after(self, low: float, high: float | None = None) -> StoryBuilder:
        self.t += low if high is None else self.ctx.rng.uniform(low, high)
        return self

    def pick(self, *options: Any) -> Any:
        return self.ctx.rng.choice(options)

    def deadline(self, hours: float) -> str:
        """A deadline `hours` of shop time from now (the feed compresses it like the rest)."""
        return self.ctx.at(self.t + hours * 3600)

    # -- events ----------------------------------------------------------------------
    def emit(self, event_type: str, **payload: Any) -> dict[str, Any]:
        event = {
            "event_id": self.ctx.new_id("evt"),
            "event_type": event_type,
            "schema_version": 1,
            "occurred_at": self.ctx.at(self.t),
            "shop_id": self.shop.shop_id,
            "platform": self.shop.platform,
            "payload": {k: v for k, v in payload.items() if v is not None},
            "trace_id": self.trace_id,
        }
        self.story.steps.append((round(self.t, 3), event))
        return event

    def agent_status(self, agent: Agent, status: str) -> dict[str, Any]:
        return self.emit(
            "agent.status", agent_id=agent.agent_id, roles=list(agent.roles), status=status,
            max_concurrent=agent.max_concurrent,
        )

    def buyer_says(self, conv: str, buyer_id: str, text: str, *, order: Order | None = None,
                   image: bool = False, item: Listing | None = None) -> dict[str, Any]:
        """`item`: the product card the buyer sent (its sku is the demo's item_id)."""
        attachments = None
        if image:
            n = self.ctx.rng.randrange(10_000, 99_999)
            attachments = [{"type": "image", "url": f"https://img.example.cn/chat/{n}.jpg"}]
        return self.emit(
            "buyer.message", conversation_id=conv, buyer_id=buyer_id,
            message_id=self.ctx.new_id("msg"), text=text,
            order_id=order.order_id if order else None, attachments=attachments,
            item_id=item.sku if item else None,
        )

    def agent_says(self, conv: str, agent: Agent, text: str) -> dict[str, Any]:
        return self.emit("agent.message", conversation_id=conv, agent_id=agent.agent_id,
                         message_id=self.ctx.new_id("msg"), text=text)

    def close(self, conv: str, closed_by: str) -> dict[str, Any]:
        return self.emit("conversation.closed", conversation_id=conv, closed_by=closed_by)

    def new_order(self, buyer_id: str, item: Listing, quantity: int = 1) -> Order:
        """An order of `quantity` x `item`; its id has the prefix of the shop's platform."""
        line = {"item_id": item.sku, "title": item.title, "sku": item.sku, "name": item.title,
                "quantity": quantity, "price": item.price}
        prefix = CATALOGUE.platform(self.shop.platform).order_prefix
        return Order(self.ctx.new_id(prefix), buyer_id, [line])

    def order_event(self, event_type: str, order: Order, **extra: Any) -> dict[str, Any]:
        return self.emit(event_type, order_id=order.order_id, buyer_id=order.buyer_id,
                         items=order.items, amount=order.amount, **extra)

    def place_and_pay(self, order: Order, *, ship_within_hours: float = 48) -> None:
        self.order_event("order.created", order)
        self.after(20, 90)
        self.order_event("order.paid", order, promised_ship_by=self.deadline(ship_within_hours))

    def ship(self, order: Order, carrier: Carrier) -> str:
        tracking_no = carrier.code + self.ctx.new_id("trk").split("-", 1)[1].upper()
        self.emit("order.shipped", order_id=order.order_id, carrier=carrier.name,
                  tracking_no=tracking_no)
        return tracking_no

    def scan(self, order: Order, tracking_no: str, status: str, description: str,
             location: str | None = None) -> dict[str, Any]:
        return self.emit("logistics.update", order_id=order.order_id, tracking_no=tracking_no,
                         status=status, description=description, location=location)

    def case(self, order: Order, kind: str, reason: str, *, respond_within_hours: float = 48
             ) -> str:
        case_id = self.ctx.new_id("case")
        self.emit("aftersale.requested", case_id=case_id, order_id=order.order_id,
                  buyer_id=order.buyer_id, kind=kind, reason=reason, amount=order.amount,
                  respond_by=self.deadline(respond_within_hours))
        return case_id

    def case_update(self, case_id: str, order: Order, status: str) -> dict[str, Any]:
        return self.emit("aftersale.updated", case_id=case_id, order_id=order.order_id,
                         status=status)

    def review(self, order: Order, rating: int, text: str) -> dict[str, Any]:
        return self.emit("review.posted", order_id=order.order_id, buyer_id=order.buyer_id,
                         rating=rating, text=text)
