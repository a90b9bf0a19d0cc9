"""Who may hold how much of the delivery worker, so that a slow or dead webhook receiver
only ever holds up the notifications that go to it.

A notification travels in a `Lane`: its shop, its receiver (the webhook's origin, or
``log``) and whether it is a supervisor alert. The worker holds at most `max_held`
claimed notifications; `Admission` decides which claimed ones it keeps:

- one shop holds at most `queue_per_shop`, one receiver at most `queue_per_receiver`
  (several shops may share an integrator's receiver);
- receivers that are slow or failing now (`ReceiverHealth`) hold at most `slow_share`
  of the slots together, however many of them there are;
- buyer notices leave `alert_reserve` slots free for supervisor alerts.

Any healthy receiver therefore always finds slots, and so do supervisor alerts. What
is not admitted goes back to the outbox for a moment (the worker decides how long).
Operators set the limits (`KEFU_NOTIFIER_*`, validated in `Settings`)."""

from __future__ import annotations

import itertools
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import orjson

from services.core.policy import Policy
from services.core.settings import Settings

LOG_RECEIVER = "log"


@dataclass(frozen=True, slots=True)
class Lane:
    shop: str
    receiver: str
    alert: bool = False


def receiver_of(url: str) -> str:
    """The receiver a webhook URL points at, its origin: ``https://hooks.shop.cn:443``.
    Shops whose hooks share an origin share the receiver's limits."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"


def lanes_by_policy(policy: Policy) -> Callable[[bytes], Lane]:
    """The lane of a queued notification (its JSON): shop, the receiver its shop's policy
    sends its channel to, and whether it is a supervisor alert."""

    def lane_of(payload: bytes) -> Lane:
        try:
            body = orjson.loads(payload)
            shop, channel = str(body.get("shop_id") or ""), body.get("channel")
            alert = body.get("audience") == "supervisor"
        except (orjson.JSONDecodeError, AttributeError):
            return Lane("", LOG_RECEIVER)
        url = policy.for_shop(shop).notify.webhook.url if channel == "webhook" else None
        return Lane(shop, receiver_of(url) if url else LOG_RECEIVER, alert)

    return lane_of


@dataclass(frozen=True, slots=True)
class Limits:
    max_held: int = 256
    queue_per_shop: int = 16
    queue_per_receiver: int = 32
    per_shop: int = 4  # webhook requests open at once, per shop (WebhookChannel)
    per_receiver: int = 8  # webhook requests open at once, per receiver (WebhookChannel)
    slow_share: float = 0.25
    alert_reserve: float = 0.25

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        """The `KEFU_NOTIFIER_*` settings (validated there; the defaults are the above)."""
        return cls(max_held=settings.notifier_max_held,
                   queue_per_shop=settings.notifier_queue_per_shop,
                   queue_per_receiver=settings.notifier_queue_per_receiver,
                   per_shop=settings.notifier_concurrency_per_shop,
                   per_receiver=settings.notifier_concurrency_per_receiver,
                   slow_share=settings.notifier_slow_share,
                   alert_reserve=settings.notifier_alert_reserve)

    @property
    def slow_slots(self) -> int:
        return max(1, int(self.max_held * self.slow_share))

    @property
    def buyer_slots(self) -> int:
        return max(1, self.max_held - int(self.max_held * self.alert_reserve))


class ReceiverHealth:
    """Which receivers are slow now: the last attempt failed (timeout, connection error,
    429 or 5xx) and none succeeded since, or an attempt has been waiting for an answer
    longer than `slow_after` seconds."""

    def __init__(self, *, slow_after: float = 2.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.slow_after, self.clock = slow_after, clock
        self.failing: set[str] = set()
        self.waiting: dict[str, dict[int, float]] = defaultdict(dict)
        self._tokens = itertools.count()

    def begin(self, receiver: str) -> int:
        token = next(self._tokens)
        self.waiting[receiver][token] = self.clock()
        return token

    def end(self, receiver: str, token: int, ok: bool | None) -> None:
        """`ok` None: no verdict (the attempt was abandoned)."""
        waiting = self.waiting.get(receiver)
        if waiting is not None:
            waiting.pop(token, None)
            if not waiting:
                del self.waiting[receiver]
        if ok is True:
            self.failing.discard(receiver)
        elif ok is False:
            self.failing.add(receiver)

    def is_slow(self, receiver: str) -> bool:
        if receiver in self.failing:
            return True
        waiting = self.waiting.get(receiver)
        return bool(waiting) and self.clock() - min(waiting.values()) > self.slow_after


class Admission:
    """Counts what the worker holds per shop, receiver and kind, and admits a lane only
    within the limits above."""

    def __init__(self, limits: Limits, health: ReceiverHealth) -> None:
        self.limits, self.health = limits, health
        self.shops: Counter[str] = Counter()
        self.receivers: Counter[str] = Counter()
        self.total = self.buyers = 0

    def admits(self, lane: Lane) -> bool:
        limits = self.limits
        if self.total >= limits.max_held or self.shops[lane.shop] >= limits.queue_per_shop:
            return False
        if self.receivers[lane.receiver] >= limits.queue_per_receiver:
            return False
        if not lane.alert and self.buyers >= limits.buyer_slots:
            return False
        return not self.is_slow(lane) or self.held_by_slow() < limits.slow_slots

    def is_slow(self, lane: Lane) -> bool:
        return lane.receiver != LOG_RECEIVER and self.health.is_slow(lane.receiver)

    def held_by_slow(self) -> int:
        return sum(n for receiver, n in self.receivers.items()
                   if receiver != LOG_RECEIVER and self.health.is_slow(receiver))

    def hold(self, lane: Lane) -> None:
        self._count(lane, 1)

    def release(self, lane: Lane) -> None:
        self._count(lane, -1)

    def _count(self, lane: Lane, step: int) -> None:
        self.total += step
        self.buyers += 0 if lane.alert else step
        for counter, key in ((self.shops, lane.shop), (self.receivers, lane.receiver)):
            counter[key] += step
            if counter[key] <= 0:
                del counter[key]
