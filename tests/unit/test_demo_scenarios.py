"""Demo stories: every event valid under the contract, ids unique per run, contract keys,
every event type and all three scripts present, reproducible with a seed."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timedelta

import orjson
import pytest

from contracts import DlqReason, EventType, InvalidEvent, event_key, parse_inbound
from contracts.topics import ROUTER_EVENT_TYPES, SUPERVISOR_EVENT_TYPES
from services.demo.scenarios import HOUR, hour_length, shop_hour, timeline
from services.demo.story import Story
from services.demo.wire import BEIJING, encode, encode_raw, stamp

SEEDS = [0, 1, 7, 2026, 31337]
CONVERSATION_TYPES = {"buyer.message", "agent.message", "conversation.closed"}


def valid_events(stories: list[Story]) -> list[dict]:
    return [event for story in stories if story.valid for _, event in story.steps]


def all_events(stories: list[Story]) -> list[dict]:
    return [event for story in stories for _, event in story.steps]


@pytest.mark.parametrize("seed", SEEDS)
def test_every_generated_event_is_valid(seed: int) -> None:
    events = valid_events(shop_hour(seed=seed, run_id=f"run{seed}"))
    assert len(events) > 80
    for event in events:
        parsed = parse_inbound(orjson.dumps(event))
        assert parsed.event_id == event["event_id"]
        assert event["occurred_at"].endswith("+08:00")
        assert event["trace_id"]
        assert parsed.shop_id in {"shop-demo", "shop-tech", "shop-live"}


@pytest.mark.parametrize("seed", SEEDS)
def test_restamped_events_stay_valid(seed: int) -> None:
    now = datetime(2026, 11, 22, 21, 0, 0, 123000, tzinfo=BEIJING)
    for event in valid_events(shop_hour(seed=seed)):
        key, value = encode(stamp(event, now, 60.0))
        assert parse_inbound(value).occurred_at == now
        assert key


def test_exactly_one_deliberately_invalid_event_naive_timestamp() -> None:
    stories = shop_hour(seed=3)
    invalid = [story for story in stories if not story.valid]
    assert len(invalid) == 1 and len(invalid[0].steps) == 1
    assert "invalid" in invalid[0].summary.lower() and "dlq" in invalid[0].summary.lower()
    event = invalid[0].steps[0][1]
    for raw_event in (event, stamp(event, datetime.now(BEIJING), 60.0, valid=False)):
        key, value = encode_raw(raw_event)
        with pytest.raises(InvalidEvent) as caught:
            parse_inbound(value)
        assert caught.value.reason == DlqReason.NAIVE_TIMESTAMP
        assert key == event["payload"]["conversation_id"]


def test_ids_unique_within_a_run_and_across_runs() -> None:
    first = all_events(shop_hour(seed=5, run_id="a1b2c3-1"))
    second = all_events(shop_hour(seed=5, run_id="a1b2c3-2"))
    ids = [e["event_id"] for e in first + second]
    assert len(ids) == len(set(ids))
    assert all(len(i) <= 128 for i in ids)
    for field in ("message_id", "conversation_id", "order_id", "case_id", "tracking_no"):
        one = {e["payload"][field] for e in first if field in e["payload"]}
        two = {e["payload"][field] for e in second if field in e["payload"]}
        assert one and not one & two, field
    messages = [e["payload"]["message_id"] for e in first if "message_id" in e["payload"]]
    assert len(messages) == len(set(messages))


def test_keys_follow_the_contract() -> None:
    for event in valid_events(shop_hour(seed=11)):
        key, _ = encode(event)
        payload, kind = event["payload"], event["event_type"]
        if kind == "agent.status":
            expected = payload["agent_id"]
        elif kind in CONVERSATION_TYPES:
            expected = payload["conversation_id"]
        else:
            expected = payload["order_id"]  # aftersale.updated carries its order_id
        assert key == expected == event_key(parse_inbound(orjson.dumps(event))), event


def test_every_event_type_and_the_interesting_variants_are_covered() -> None:
    events = valid_events(shop_hour(seed=1))
    consoles = SUPERVISOR_EVENT_TYPES | ROUTER_EVENT_TYPES  # the supervisor console's own
    assert {e["event_type"] for e in events} == {t.value for t in EventType} - consoles

    def values(event_type: str, field: str) -> set:
        return {e["payload"].get(field) for e in events if e["event_type"] == event_type}

    assert {"in_transit", "out_for_delivery", "delivered", "exception"} <= values(
        "logistics.update", "status")
    assert {"agreed", "refunded", "platform_intervened"} <= values("aftersale.updated", "status")
    assert {1, 5} <= values("review.posted", "rating")
    assert {"online", "away"} <= values("agent.status", "status")
    assert True in values("order.changed", "awaiting_buyer_confirmation")
    assert {"presale", "aftersale"} <= {
        role for e in events if e["event_type"] == "agent.status" for role in e["payload"]["roles"]}
    assert len(values("agent.status", "max_concurrent")) > 1
    delayed = [e for e in events if e["event_type"] == "order.delayed"]
    assert len(delayed) == 1 and delayed[0]["payload"]["new_ship_by"] > delayed[0]["occurred_at"]
    assert len([e for e in events if e["event_type"] == "order.cancelled"]) == 1
    assert {"taobao", "jd", "douyin"} <= {e["platform"] for e in events}


def test_a_parcel_stalls_in_transit() -> None:
    events = valid_events(shop_hour(seed=2))
    last_scan: dict[str, str] = {}
    for event in events:
        if event["event_type"] == "logistics.update":
            last_scan[event["payload"]["order_id"]] = event["payload"]["status"]
    assert "in_transit" in last_scan.values()
    assert "delivered" in last_scan.values()


SIMPLIFIED = set("这么货发吗说问码还没给们")
TRADITIONAL = set("這麼貨發嗎說問碼還沒給們請謝確認寫錯")


def script_of(text: str) -> str:
    chars = set(text)
    if chars & TRADITIONAL:
        return "traditional"
    if chars & SIMPLIFIED or re.search(r"[\u4e00-\u9fff]", text):
        return "simplified"
    return "english" if re.search(r"[A-Za-z]{3,}", text) else "other"


def test_buyers_write_simplified_traditional_and_english() -> None:
    texts = [e["payload"]["text"] for e in valid_events(shop_hour(seed=4))
             if e["event_type"] == "buyer.message"]
    scripts = Counter(script_of(t) for t in texts)
    assert scripts["simplified"] >= 5
    assert scripts["traditional"] >= 3
    assert scripts["english"] >= 2


def test_some_replies_are_prompt_and_some_late() -> None:
    waits = []
    for story in shop_hour(seed=9):
        asked: dict[str, float] = {}
        for offset, event in story.steps:
            conv = event["payload"].get("conversation_id")
            if event["event_type"] == "buyer.message":
                asked.setdefault(conv, offset)
            elif event["event_type"] == "agent.message" and conv in asked:
                waits.append(offset - asked.pop(conv))
    assert min(waits) < 60
    assert sum(wait > 180 for wait in waits) >= 2  # beyond the default 3 min first response


def test_reproducible_with_a_seed() -> None:
    assert all_events(shop_hour(seed=42, run_id="r")) == all_events(shop_hour(seed=42, run_id="r"))
    assert all_events(shop_hour(seed=42, run_id="r")) != all_events(shop_hour(seed=43, run_id="r"))


def test_timeline_is_ordered_and_fits_the_hour() -> None:
    stories = shop_hour(seed=8)
    for story in stories:
        offsets = [offset for offset, _ in story.steps]
        assert offsets == sorted(offsets) and offsets[0] >= 0, story.name
    steps = timeline(stories)
    assert [s[0] for s in steps] == sorted(s[0] for s in steps)
    assert len(steps) == sum(len(s.steps) for s in stories)
    assert hour_length(stories) == HOUR
    assert steps[0][2]["event_type"] == "agent.status"  # agents are online before buyers write


def test_order_lifecycle_is_in_order_per_order() -> None:
    rank = {"order.created": 0, "order.paid": 1, "order.changed": 2, "order.delayed": 2,
            "order.shipped": 3, "logistics.update": 4, "aftersale.requested": 5,
            "aftersale.updated": 6, "review.posted": 7, "order.cancelled": 8}
    seen: dict[str, list[int]] = {}
    for _, _, event in timeline(shop_hour(seed=6)):
        if event["event_type"] in rank:
            seen.setdefault(event["payload"]["order_id"], []).append(rank[event["event_type"]])
    assert len(seen) >= 7
    for order_id, ranks in seen.items():
        assert ranks == sorted(ranks), order_id
        assert ranks[0] == 0, order_id


def test_stamp_compresses_deadlines_by_speed() -> None:
    paid = next(e for e in valid_events(shop_hour(seed=1)) if e["event_type"] == "order.paid")
    now = datetime(2026, 11, 22, 21, 0, tzinfo=BEIJING)
    stamped = stamp(paid, now, 60.0)
    shop_gap = (datetime.fromisoformat(paid["payload"]["promised_ship_by"])
                - datetime.fromisoformat(paid["occurred_at"]))
    assert datetime.fromisoformat(stamped["occurred_at"]) == now
    assert datetime.fromisoformat(stamped["payload"]["promised_ship_by"]) == now + shop_gap / 60
    assert stamped["occurred_at"].endswith("+08:00")
    assert paid["occurred_at"] != stamped["occurred_at"]  # the original is left alone
    naive = stamp(paid, now, 60.0, valid=False)["occurred_at"]
    assert datetime.fromisoformat(naive).utcoffset() is None
    with pytest.raises(ValueError):
        stamp(paid, now.replace(tzinfo=None), 60.0)
    assert shop_gap == timedelta(hours=48)


def test_run_id_must_be_short_and_plain() -> None:
    with pytest.raises(ValueError):
        shop_hour(run_id="x" * 41)
    with pytest.raises(ValueError):
        shop_hour(run_id="bad id")
