"""The demo feed on the real embedded broker: every event arrives on kefu.inbound with its
contract key and header, one deliberately invalid event per hour, stops on request and
after its duration."""

from __future__ import annotations

import asyncio
import random
from collections import Counter

import pytest

from contracts import INBOUND, DlqReason, EventType, InvalidEvent, event_key, parse_inbound
from contracts.topics import ROUTER_EVENT_TYPES, SUPERVISOR_EVENT_TYPES
from services.cli.main import main
from services.demo.feed import run_feed
from services.demo.scenarios import shop_hour, timeline

pytestmark = pytest.mark.e2e

DEMO_SHOPS = {"shop-demo", "shop-tech", "shop-live"}
GIVE_UP = 60  # seconds: only a feed that does not stop waits this long, and then fails


def run_of(body: dict) -> str:
    """The run part of a demo event id, `evt-<run>-<hour>-<n>`."""
    return body["event_id"].split("-")[1]


async def test_one_hour_arrives_on_inbound_with_contract_keys(stack, kafka) -> None:
    lines: list[str] = []
    sent = await run_feed(stack.settings(), speed=10000, loop_forever=False, seed=1,
                          log=lines.append)
    assert sent > 100
    found = await kafka.collect(INBOUND, lambda body, _: body.get("shop_id") in DEMO_SHOPS,
                                count=sent, timeout=30)
    assert len(found) == sent
    assert len({run_of(body) for body, _ in found}) == 1
    assert len({body["event_id"] for body, _ in found}) == sent

    invalid, types = [], Counter()
    for body, record in found:
        assert dict(record.headers)["content-type"] == b"application/json"
        try:
            event = parse_inbound(record.value)
        except InvalidEvent as exc:
            invalid.append((exc, body, record))
            continue
        types[event.event_type] += 1
        assert record.key.decode() == event_key(event)
        assert event.occurred_at.utcoffset().total_seconds() == 8 * 3600
    assert set(types) == set(EventType) - SUPERVISOR_EVENT_TYPES - ROUTER_EVENT_TYPES  # console's
    assert len(invalid) == 1
    exc, body, record = invalid[0]
    assert exc.reason == DlqReason.NAIVE_TIMESTAMP
    assert record.key.decode() == body["payload"]["conversation_id"]
    assert any("INVALID" in line and "kefu.dlq" in line for line in lines)
    assert any("小李" in line and "shop-demo" in line for line in lines)


async def test_per_order_events_arrive_in_story_order(stack, kafka) -> None:
    sent = await run_feed(stack.settings(), speed=10000, loop_forever=False, seed=2,
                          log=lambda _: None)
    found = await kafka.collect(INBOUND, lambda body, _: body.get("shop_id") in DEMO_SHOPS,
                                count=sent, timeout=30)
    runs = Counter(run_of(body) for body, _ in found)
    latest = max(runs, key=lambda run: min(
        r.timestamp for b, r in found if run_of(b) == run))
    assert runs[latest] == sent
    per_order: dict[str, list[str]] = {}
    for body, record in found:
        if run_of(body) == latest and body["event_type"].startswith("order."):
            assert record.key.decode() == body["payload"]["order_id"]
            per_order.setdefault(body["payload"]["order_id"], []).append(body["event_type"])
    for order_id, kinds in per_order.items():
        assert kinds[0] == "order.created", (order_id, kinds)
        if "order.shipped" in kinds and "order.paid" in kinds:
            assert kinds.index("order.paid") < kinds.index("order.shipped"), kinds


def events_of_hour(seed: int, before: float | None = None) -> int:
    """How many events the feed's first hour with `seed` holds (only those earlier than
    `before` shop seconds into it, if given): the feed draws its hours as this does."""
    stories = shop_hour(seed=random.Random(seed).randrange(2**32), run_id="count")
    return sum(1 for offset, _, _ in timeline(stories) if before is None or offset < before)


async def test_stopping_and_duration_stop_the_feed(stack, kafka) -> None:
    """Stopping ends a feed that would replay forever, and a duration ends it by itself
    before its hour is over. No clock is read here: the feed is stopped once it has
    announced a story, and a duration is checked by what it sent."""
    lines: list[str] = []
    stopping = asyncio.Event()

    def log(line: str) -> None:
        lines.append(line)
        if len(lines) >= 3:  # the feeding line, then the first stories
            stopping.set()

    async with asyncio.timeout(GIVE_UP):
        sent = await run_feed(stack.settings(), speed=60, stopping=stopping, seed=4, log=log)
    assert 0 < sent < events_of_hour(4), "stopped within its first hour"
    assert lines[-1] == f"demo: stopped after {sent} events"

    async with asyncio.timeout(GIVE_UP):
        sent = await run_feed(stack.settings(), speed=600, duration=1.0, seed=5,
                              log=lambda _: None)
    assert sent <= events_of_hour(5, before=600), "nothing past one second of feed at 600x"
    assert sent < events_of_hour(5)


async def test_loop_forever_replays_with_new_ids(stack, kafka) -> None:
    lines: list[str] = []
    stopping = asyncio.Event()

    def log(line: str) -> None:
        lines.append(line)
        if sum("INVALID" in seen for seen in lines) >= 2:  # the second hour's invalid event
            stopping.set()

    async with asyncio.timeout(GIVE_UP):
        sent = await run_feed(stack.settings(), speed=20000, stopping=stopping, seed=3,
                              log=log)
    assert sent > events_of_hour(3), "more than one hour"
    assert any("replaying with new ids" in line for line in lines)


def test_cli_once_feeds_the_stack(stack, monkeypatch, capsys) -> None:
    monkeypatch.setenv("KEFU_KAFKA_BOOTSTRAP", stack.broker.bootstrap)
    assert main(["demo", "--once", "--speed", "20000", "--seed", "5"]) == 0
    out = capsys.readouterr().out
    assert "demo: feeding kefu.inbound" in out and "demo: stopped after" in out
