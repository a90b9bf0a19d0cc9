"""Traffic: a seeded generator of realistic inbound events (pure, no I/O)."""

from __future__ import annotations

import heapq
import itertools
import random
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from benchmarks.soak.chat_stories import ChatStories
from benchmarks.soak.order_stories import OrderStories
from benchmarks.soak.story_types import AgentSpec, OrderSpec, ShopSpec, Step, _Story
from services.demo.catalogue import CATALOGUE


class Traffic(ChatStories, OrderStories):
    """Realistic inbound events at whatever pace `next_event` is called.

    `next_event(elapsed, wall)` returns the next event: a due step of a running story
    (stories schedule their steps in seconds of `elapsed`), or else the first step of a
    new story. Deterministic for a seed and the same sequence of `elapsed` values.
    """

    STORIES = (("chat", 0.70), ("order", 0.27), ("agent_break", 0.03))

    def __init__(self, *, run_id: str, seed: int = 0, shops: int = 20,
                 agents_per_shop: int = 20) -> None:
        if shops < 1 or agents_per_shop < 1:
            raise ValueError("need at least one shop and one agent per shop")
        self.rng = random.Random(seed)
        self.run = run_id
        self.count = 0
        self._ids: Counter[str] = Counter()
        self._heap: list[tuple[float, int, _Story, Step]] = []
        self._seq = itertools.count()
        self.shops = [self._shop(i, agents_per_shop) for i in range(shops)]
        self._names = [name for name, _ in self.STORIES]
        self._weights = [weight for _, weight in self.STORIES]
        for shop in self.shops:
            self._start(shop, self._shift_start(shop), 0.0)

    # -- engine ----------------------------------------------------------------------
    def next_event(self, elapsed: float, wall: datetime) -> dict[str, Any]:
        if self._heap and self._heap[0][0] <= elapsed:
            _, _, story, step = heapq.heappop(self._heap)
        else:
            step = None
            while step is None:  # a story that has nothing to say is skipped
                kind = self.rng.choices(self._names, self._weights)[0]
                shop = self.rng.choice(self.shops)
                story = _Story(shop, self._trace(), getattr(self, f"_{kind}")(shop))
                step = next(story.steps, None)
        event = self._emit(story, step, wall)
        self._schedule(story, elapsed)
        return event

    @property
    def running_stories(self) -> int:
        return len(self._heap)

    def _start(self, shop: ShopSpec, steps: Iterator[Step], at: float) -> None:
        story = _Story(shop, self._trace(), steps)
        first = next(story.steps)
        heapq.heappush(self._heap, (at + first.delay, next(self._seq), story, first))

    def _schedule(self, story: _Story, elapsed: float) -> None:
        step = next(story.steps, None)
        if step is not None:
            heapq.heappush(self._heap, (elapsed + step.delay, next(self._seq), story, step))

    def _emit(self, story: _Story, step: Step, wall: datetime) -> dict[str, Any]:
        if wall.utcoffset() is None:
            raise ValueError("wall must have a UTC offset")
        self.count += 1
        stamp = wall.isoformat(timespec="milliseconds")
        payload = {k: (wall + v).isoformat(timespec="milliseconds")
                   if isinstance(v, timedelta) else v for k, v in step.payload.items()}
        return {
            "event_id": f"evt-{self.run}-{self.count:09d}",
            "event_type": step.event_type,
            "schema_version": 1,
            "occurred_at": stamp,
            "shop_id": story.shop.shop_id,
            "platform": story.shop.platform,
            "payload": payload,
            "trace_id": story.trace_id,
            "x_integrator": {"source": "kefu-soak", "received_at": stamp},
        }

    def _id(self, prefix: str) -> str:
        self._ids[prefix] += 1
        return f"{prefix}-{self.run}-{self._ids[prefix]:07d}"

    def _trace(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    def _shop(self, index: int, agents: int) -> ShopSpec:
        platform = CATALOGUE.platforms[index % len(CATALOGUE.platforms)]
        shop_id = f"soak-shop-{index:04d}"
        team = []
        for j in range(agents):
            roll = self.rng.random()
            roles = ("presale",) if roll < 0.6 else ("aftersale",) if roll < 0.9 else (
                "presale", "aftersale")
            team.append(AgentSpec(f"agent-{self.run}-{index:04d}-{j:02d}", roles,
                                  self.rng.choice((5, 6, 8, 10))))
        return ShopSpec(shop_id, platform.name, platform.order_prefix, team)

    def _text(self, template: str, order: OrderSpec | None) -> str:
        return CATALOGUE.fill(template, self.rng, days=(2, 9),
                              order_id=order.order_id if order else "ord-unknown")

    # -- stories ---------------------------------------------------------------------
