"""The demo feed on the real embedded broker: every event arrives on kefu.inbound with its
contract key and header, one deliberately invalid event per hour, prompt stops."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from contracts import INBOUND, DlqReason, EventType, InvalidEvent, event_key, parse_inbound
from contracts.topics import ROUTER_EVENT_TYPES, SUPERVISOR_EVENT_TYPES
from services.cli.main import main
from services.demo.feed import run_feed

pytestmark = pytest.mark.e2e

DEMO_SHOPS = {"shop-demo", "shop-tech", "shop-live"}


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


async def test_stopping_and_duration_stop_promptly(stack, kafka) -> None:
    stopping = asyncio.Event()
    task = asyncio.create_task(run_feed(stack.settings(), speed=60, stopping=stopping,
                                        log=lambda _: None))
    await asyncio.sleep(1.5)
    stopping.set()
    sent = await asyncio.wait_for(task, timeout=5)
    assert 0 < sent < 100  # only the first shop minute or so

    sent = await asyncio.wait_for(
        run_feed(stack.settings(), speed=600, duration=1.0, log=lambda _: None), timeout=5
    )
    assert 0 < sent < 110  # one second of feed at 600x, then it stopped by itself


async def test_loop_forever_replays_with_new_ids(stack, kafka) -> None:
    lines: list[str] = []
    sent = await run_feed(stack.settings(), speed=20000, duration=1.5, seed=3,
                          log=lines.append)
    assert sent > 110  # more than one shop hour in 1.5 s at 20000x
    assert any("replaying with new ids" in line for line in lines)
    assert sum("INVALID" in line for line in lines) >= 2


def test_cli_once_feeds_the_stack(stack, monkeypatch, capsys) -> None:
    monkeypatch.setenv("KEFU_KAFKA_BOOTSTRAP", stack.broker.bootstrap)
    assert main(["demo", "--once", "--speed", "20000", "--seed", "5"]) == 0
    out = capsys.readouterr().out
    assert "demo: feeding kefu.inbound" in out and "demo: stopped after" in out
