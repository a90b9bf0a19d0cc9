"""The little data types of the traffic: story steps, agents, orders, shops."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple


class Step(NamedTuple):
    """One step of a story: `delay` seconds after the previous step, an event to emit.
    `timedelta` values in `payload` are deadlines relative to the emission time."""

    delay: float
    event_type: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class AgentSpec:
    agent_id: str
    roles: tuple[str, ...]
    max_concurrent: int


@dataclass
class OrderSpec:
    order_id: str
    buyer_id: str
    items: list[dict[str, Any]]
    amount: float
    stage: str = "created"
    tracking_no: str | None = None


@dataclass
class ShopSpec:
    shop_id: str
    platform: str
    order_prefix: str
    agents: list[AgentSpec]
    orders: deque = field(default_factory=lambda: deque(maxlen=200))


@dataclass
class _Story:
    shop: ShopSpec
    trace_id: str
    steps: Iterator[Step]
