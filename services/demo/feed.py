"""The demo feed: plays the stories of `scenarios.shop_hour()` into `kefu.inbound` in
compressed real time (shop seconds / speed), re-stamped with the real clock at send."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from contracts import INBOUND, InvalidEvent
from services.core.kafka import client_security
from services.core.settings import Settings
from services.core.waiting import wait_event

from .scenarios import hour_length, shop_hour, timeline
from .story import HOUR, Story
from .wire import beijing_now, encode, encode_raw, stamp

HEADERS = [("content-type", b"application/json")]


class FeedError(RuntimeError):
    """The demo cannot feed: the broker is unreachable or `kefu.inbound` is missing."""


async def run_feed(
    settings: Settings,
    *,
    speed: float = 60.0,
    stopping: asyncio.Event | None = None,
    seed: int | None = None,
    duration: float | None = None,
    loop_forever: bool = True,
    log: Callable[[str], Any] = print,
    connect_timeout: float = 10.0,
) -> int:
    """Feed the demo stories to `kefu.inbound`; returns the number of messages sent
    (the one deliberately invalid event per hour included).

    `speed` is shop seconds per real second (60: a shop hour per minute). Stops when
    `stopping` is set, when `duration` real seconds have passed, or after one hour of
    stories unless `loop_forever`, which replays the hour with new ids. The same `seed`
    plays the same stories (ids differ per run). Raises FeedError when the broker cannot
    be reached within `connect_timeout` seconds.
    """
    if speed <= 0:
        raise ValueError("speed must be positive")
    stopping = stopping if stopping is not None else asyncio.Event()
    clock = asyncio.get_running_loop().time
    end = None if duration is None else clock() + duration
    producer = await _connect(settings, connect_timeout, stopping)
    if producer is None:
        return 0
    run = uuid.uuid4().hex[:6]
    seeds = random.Random(seed)
    player = _Player(producer, speed, stopping, end, log)
    log(f"demo: feeding {INBOUND} at {settings.kafka_bootstrap}, speed {speed:g}x "
        f"(a shop hour takes {_human(HOUR / speed)}), run {run}")
    try:
        hour = 0
        while True:
            hour += 1
            stories = shop_hour(seed=seeds.randrange(2**32), run_id=f"{run}-{hour}")
            started = clock()
            if not await player.play(stories) or not loop_forever:
                break
            if not await player.wait_until(started + hour_length(stories) / speed):
                break
            log(f"demo: hour {hour} done ({player.sent} events so far); replaying with new ids")
        await player.confirm()
    finally:
        await producer.stop()
    log(f"demo: stopped after {player.sent} events")
    return player.sent


class _Player:
    def __init__(self, producer: AIOKafkaProducer, speed: float, stopping: asyncio.Event,
                 end: float | None, log: Callable[[str], Any]) -> None:
        self.producer = producer
        self.speed = speed
        self.stopping = stopping
        self.end = end
        self.log = log
        self.sent = 0
        self.pending: list[asyncio.Future] = []
        self.clock = asyncio.get_running_loop().time

    async def play(self, stories: list[Story]) -> bool:
        """Send one hour of stories; False if stopped before the end."""
        start = self.clock()
        announced: set[int] = set()
        for offset, index, event in timeline(stories):
            if not await self.wait_until(start + offset / self.speed):
                return False
            story = stories[index]
            if index not in announced:
                announced.add(index)
                self.log(f"demo: {story.summary}")
            stamped = stamp(event, beijing_now(), self.speed, valid=story.valid)
            try:
                key, value = encode(stamped) if story.valid else encode_raw(stamped)
            except InvalidEvent as exc:  # a story out of step with contracts/: say so, go on
                self.log(f"demo: skipped {event['event_type']} {event['event_id']}: {exc}")
                continue
            # Not waited for one by one: aiokafka keeps one request in flight per partition,
            # so the order per key holds; `confirm()` awaits the acks before any pause.
            self.pending.append(
                await self.producer.send(INBOUND, value, key=key.encode(), headers=HEADERS))
        return True

    async def confirm(self) -> None:
        """Wait for the broker's acks of everything sent; raises the first failure."""
        pending, self.pending = self.pending, []
        if pending:
            await asyncio.gather(*pending)
            self.sent += len(pending)

    async def wait_until(self, target: float) -> bool:
        """Sleep until loop time `target`; False if stopping is set or the duration ends."""
        while True:
            if self.stopping.is_set():
                return False
            now = self.clock()
            if self.end is not None and now >= self.end:
                return False
            delay = target - now
            if delay <= 0:
                return True
            if self.pending:
                await self.confirm()
                continue
            if self.end is not None:
                delay = min(delay, self.end - now)
            if not await wait_event(self.stopping, delay):
                continue
            return False


async def _connect(settings: Settings, patience: float, stopping: asyncio.Event
                   ) -> AIOKafkaProducer | None:
    """A started producer that knows `kefu.inbound`, retried for `patience` seconds."""
    clock = asyncio.get_running_loop().time
    deadline = clock() + patience
    where = settings.kafka_bootstrap
    while not stopping.is_set():
        producer = AIOKafkaProducer(
            bootstrap_servers=where, client_id=f"{settings.kafka_client_id}-demo", acks="all",
            linger_ms=5, **client_security(settings),
        )
        connected = False
        try:
            await asyncio.wait_for(producer.start(), max(0.1, deadline - clock()))
            connected = True
            await asyncio.wait_for(producer.partitions_for(INBOUND), max(0.1, deadline - clock()))
            return producer
        except (KafkaError, OSError, TimeoutError) as exc:
            await producer.stop()
            if clock() >= deadline or connected:
                if connected:
                    raise FeedError(f"topic {INBOUND} not found on Kafka at {where} "
                                    "(create it with `kefu topics create`)") from None
                raise FeedError(f"cannot reach Kafka at {where} within {patience:g} s "
                                f"({type(exc).__name__}); is the stack running? "
                                "(set KEFU_KAFKA_BOOTSTRAP)") from None
        await asyncio.sleep(min(0.5, max(0.0, deadline - clock())))
    return None


def _human(seconds: float) -> str:
    if seconds >= 120:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.3g} s"
