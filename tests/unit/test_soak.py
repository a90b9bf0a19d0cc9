"""The pure parts of the soak (benchmarks/soak/): the traffic is valid, keyed and
unique; percentiles; the lost/duplicate accounting; metric parsing; loopback guard."""

from __future__ import annotations

import math
import re
from collections import Counter
from datetime import datetime, timedelta, timezone

import orjson
import pytest

from benchmarks.soak import (
    ROLE_SLOT,
    EscalationLog,
    Ledger,
    Traffic,
    check_loopback,
    event_key_of,
    expected_slots,
    key_kind,
    metric_by,
    metric_samples,
    metric_total,
    percentile,
    summarize,
)
from contracts import EventType, event_key, parse_inbound, topics

BEIJING = timezone(timedelta(hours=8))
START = datetime(2026, 11, 22, 14, 0, tzinfo=BEIJING)
RATE = 200.0


def play(seconds: float, *, seed: int = 7, run_id: str = "t1", shops: int = 10,
         agents: int = 6) -> list[dict]:
    """Events as the soak would send them at RATE for `seconds` (simulated clock)."""
    traffic = Traffic(run_id=run_id, seed=seed, shops=shops, agents_per_shop=agents)
    n = int(seconds * RATE)
    return [traffic.next_event(i / RATE, START + timedelta(seconds=i / RATE)) for i in range(n)]


@pytest.fixture(scope="module")
def events() -> list[dict]:
    return play(300)  # five simulated minutes, 60k events


def test_every_event_is_valid_and_keyed_per_contract(events):
    for event in events[::7]:
        model = parse_inbound(orjson.dumps(event))
        assert model.event_id == event["event_id"]
        assert event_key_of(event) == event_key(model)
        assert model.occurred_at.utcoffset() == timedelta(hours=8)


def test_every_event_type_is_valid_under_the_contract(events):
    first = {}
    for event in events:
        first.setdefault(event["event_type"], event)
    for event in first.values():
        parse_inbound(orjson.dumps(event))


def test_ids_are_unique_and_carry_the_run_id(events):
    ids = [e["event_id"] for e in events]
    assert len(set(ids)) == len(ids)
    assert all(i.startswith("evt-t1-") for i in ids)
    messages = [e["payload"]["message_id"] for e in events if "message_id" in e["payload"]]
    assert len(set(messages)) == len(messages)
    for e in events:
        p = e["payload"]
        for name in ("conversation_id", "order_id", "case_id", "agent_id", "buyer_id"):
            if name in p:
                assert "-t1-" in p[name], (name, p[name])


def test_the_mix_is_realistic(events):
    mix = Counter(e["event_type"] for e in events)
    share = {k: v / len(events) for k, v in mix.items()}
    assert 0.30 < share["buyer.message"] < 0.65
    assert 0.10 < share["agent.message"] < 0.40
    for kind in ("agent.status", "conversation.closed", "order.created", "order.paid",
                 "order.shipped", "logistics.update", "aftersale.requested",
                 "aftersale.updated", "review.posted"):
        assert mix[kind] > 0, kind
    assert set(mix) <= {t.value for t in EventType}


def test_buyers_write_chinese_traditional_and_english(events):
    texts = [e["payload"]["text"] for e in events if e["event_type"] == "buyer.message"]
    chinese = sum(bool(re.search(r"[\u4e00-\u9fff]", t)) for t in texts)
    english = sum(bool(re.fullmatch(r"[\x00-\x7f]+", t)) for t in texts)
    traditional = sum(any(ch in t for ch in "這還請問貨") for t in texts)
    assert chinese / len(texts) > 0.5
    assert english / len(texts) > 0.1
    assert traditional > 0


def test_every_agent_logs_in_at_shift_start_and_names_roles(events):
    first_seconds = events[: int(5 * RATE)]
    online = {e["payload"]["agent_id"] for e in first_seconds
              if e["event_type"] == "agent.status" and e["payload"]["status"] == "online"}
    assert len(online) == 10 * 6  # shops x agents
    for e in events:
        if e["event_type"] == "agent.status":
            assert e["payload"]["roles"] and e["payload"]["status"] in ("online", "away")


def test_order_events_of_one_order_come_in_lifecycle_order(events):
    rank = {"order.created": 0, "order.paid": 1, "order.shipped": 2, "logistics.update": 3,
            "aftersale.requested": 4, "aftersale.updated": 5, "review.posted": 5}
    last: dict[str, int] = {}
    for e in events:
        kind = e["event_type"]
        if kind in rank:
            oid = e["payload"]["order_id"]
            assert rank[kind] >= last.get(oid, -1), (oid, kind)
            last[oid] = rank[kind]


def test_deadlines_are_relative_to_the_send_time(events):
    paid = next(e for e in events if e["event_type"] == "order.paid")
    sent = datetime.fromisoformat(paid["occurred_at"])
    due = datetime.fromisoformat(paid["payload"]["promised_ship_by"])
    assert due - sent == timedelta(hours=48)


def test_the_same_seed_gives_the_same_traffic():
    a, b = play(30, seed=3), play(30, seed=3)
    assert a == b
    assert play(30, seed=4) != a


def test_agent_replies_follow_buyer_messages_of_their_conversation(events):
    opened: set[str] = set()
    for e in events:
        p = e["payload"]
        if e["event_type"] == "buyer.message":
            opened.add(p["conversation_id"])
        elif e["event_type"] in ("agent.message", "conversation.closed"):
            assert p["conversation_id"] in opened


def test_expected_slots():
    def ev(kind, **payload):
        return {"event_type": kind, "payload": payload}

    assert expected_slots(ev("buyer.message", conversation_id="c")) == (ROLE_SLOT,)
    assert expected_slots(ev("conversation.closed", conversation_id="c")) == (ROLE_SLOT,)
    assert expected_slots(ev("agent.status", agent_id="a", roles=["presale", "aftersale"])) == (
        topics.ROLE_PRESALE, topics.ROLE_AFTERSALE)
    assert expected_slots(ev("agent.status", agent_id="a", roles=["aftersale"])) == (
        topics.ROLE_AFTERSALE,)
    assert expected_slots(ev("logistics.update", order_id="o")) == (topics.ORDERS,)


def test_aftersale_updated_is_keyed_by_its_order_else_its_case():
    base = {"event_type": "aftersale.updated"}
    assert event_key_of({**base, "payload": {"case_id": "k", "order_id": "o"}}) == "o"
    assert event_key_of({**base, "payload": {"case_id": "k"}}) == "k"


# --- percentiles ---------------------------------------------------------------------


def test_percentile_interpolates_between_closest_ranks():
    values = [1.0, 2.0, 3.0, 4.0, 5.0]
    assert percentile(values, 0) == 1.0
    assert percentile(values, 50) == 3.0
    assert percentile(values, 100) == 5.0
    assert percentile(values, 25) == 2.0
    assert percentile(values, 90) == pytest.approx(4.6)
    assert percentile([1.0, 2.0], 50) == 1.5
    assert percentile([7.0], 99) == 7.0
    assert percentile([], 50) is None
    with pytest.raises(ValueError):
        percentile(values, 101)


def test_percentile_matches_the_textbook_definition_on_a_range():
    values = [float(v) for v in range(1, 1001)]
    assert percentile(values, 99) == pytest.approx(990.01)
    assert percentile(values, 95) == pytest.approx(950.05)


def test_summarize_in_milliseconds():
    s = summarize([0.010, 0.020, 0.030, 0.040])
    assert s["n"] == 4 and s["p50"] == pytest.approx(25.0) and s["max"] == pytest.approx(40.0)
    assert s["mean"] == pytest.approx(25.0)
    assert summarize([])["p99"] is None


# --- accounting ----------------------------------------------------------------------


def test_ledger_counts_delivered_lost_and_duplicates():
    ledger = Ledger("evt-r1-")
    ledger.sent("evt-r1-1", (ROLE_SLOT,), 100.0)
    ledger.sent("evt-r1-2", (topics.ORDERS,), 100.0)
    ledger.sent("evt-r1-3", (topics.ROLE_PRESALE, topics.ROLE_AFTERSALE), 100.0)
    ledger.sent("evt-r1-4", (ROLE_SLOT,), 100.0)
    assert ledger.expected == 5 and ledger.outstanding == 5

    assert ledger.observe("evt-r1-1", topics.ROLE_AFTERSALE, 100.25) == pytest.approx(0.25)
    assert ledger.observe("evt-r1-1", topics.ROLE_PRESALE, 101.0) is None  # a duplicate
    assert ledger.observe("evt-r1-2", topics.ORDERS, 100.5) == pytest.approx(0.5)
    assert ledger.observe("evt-r1-3", topics.ROLE_PRESALE, 100.1) == pytest.approx(0.1)
    assert ledger.observe("evt-r1-4", topics.ORDERS, 100.1) is None  # misrouted
    assert ledger.observe("evt-r1-9", topics.ORDERS, 100.1) is None  # our prefix, never sent
    assert ledger.observe("evt-other-1", topics.ORDERS, 100.1) is None  # other traffic

    s = ledger.summary()
    assert s["delivered_outputs"] == 3
    assert s["lost_outputs"] == 2  # evt-r1-3 on aftersale, evt-r1-4
    assert s["lost_events"] == 2 and set(s["lost_sample"]) == {"evt-r1-3", "evt-r1-4"}
    assert s["duplicated_outputs"] == 1
    assert s["misrouted"] == 1 and s["unknown"] == 1 and s["foreign"] == 1


def test_agent_status_needs_each_role_once():
    ledger = Ledger("evt-r1-")
    ledger.sent("evt-r1-1", (topics.ROLE_PRESALE, topics.ROLE_AFTERSALE), 0.0)
    ledger.observe("evt-r1-1", topics.ROLE_PRESALE, 1.0)
    ledger.observe("evt-r1-1", topics.ROLE_PRESALE, 1.0)
    assert ledger.outstanding == 1 and ledger.duplicates == 1
    ledger.observe("evt-r1-1", topics.ROLE_AFTERSALE, 1.0)
    assert ledger.outstanding == 0 and ledger.summary()["lost_events"] == 0


def test_a_send_the_broker_refused_is_not_counted_as_lost():
    ledger = Ledger("evt-r1-")
    ledger.sent("evt-r1-1", (ROLE_SLOT,), 0.0)
    ledger.sent("evt-r1-2", (ROLE_SLOT,), 0.0)
    ledger.send_failed("evt-r1-1")
    s = ledger.summary()
    assert s["expected_outputs"] == 1 and s["lost_outputs"] == 1 and s["send_failures"] == 1


def test_the_same_event_id_cannot_be_sent_twice():
    ledger = Ledger("evt-r1-")
    ledger.sent("evt-r1-1", (ROLE_SLOT,), 0.0)
    with pytest.raises(ValueError):
        ledger.sent("evt-r1-1", (ROLE_SLOT,), 0.0)


def test_whole_traffic_accounting_roundtrip(events):
    """Every event delivered once to a right topic: nothing lost, nothing duplicated."""
    ledger = Ledger("evt-t1-")
    for e in events:
        ledger.sent(e["event_id"], expected_slots(e), 0.0)
    for e in events:
        for slot in expected_slots(e):
            topic = topics.ROLE_PRESALE if slot == ROLE_SLOT else slot
            assert ledger.observe(e["event_id"], topic, 0.1) == pytest.approx(0.1)
    s = ledger.summary()
    assert s["lost_outputs"] == 0 and s["duplicated_outputs"] == 0
    assert s["delivered_outputs"] == s["expected_outputs"] >= len(events)


def test_escalation_lateness_is_fired_at_minus_deadline_of_level_2_breaches():
    log = EscalationLog("-r1-")

    def esc(eid, state, level, fired, deadline="2026-11-22T14:03:00+08:00", subject="conv-r1-1"):
        return {"escalation_id": eid, "subject": {"kind": "conversation", "id": subject},
                "state": state, "level": level, "sla": "first_response",
                "deadline": deadline, "fired_at": fired}

    assert log.observe(esc("e1", "breached", 2, "2026-11-22T06:03:00.250+00:00")) == 0.25
    assert log.observe(esc("e2", "warning", 1, "2026-11-22T14:02:24+08:00")) is None
    assert log.observe(esc("e3", "raised", 2, "2026-11-22T14:00:00+08:00", deadline=None)) is None
    assert log.observe(esc("e1", "breached", 2, "2026-11-22T06:03:01+00:00")) is None  # repeat
    assert log.observe(esc("e9", "breached", 2, "2026-11-22T14:03:00+08:00",
                           subject="conv-other-1")) is None  # not this run
    assert log.by_kind == {"breached/L2": 1, "warning/L1": 1, "raised/L2": 1}
    assert log.duplicates == 1 and log.lateness == [0.25]


# --- parsing and guards --------------------------------------------------------------

METRICS = """# HELP kefu_consumer_lag High watermark minus position, per assigned partition
# TYPE kefu_consumer_lag gauge
kefu_consumer_lag{partition="0",topic="kefu.role.presale"} 12.0
kefu_consumer_lag{partition="1",topic="kefu.orders"} 3.0
kefu_events_out_total{topic="kefu.assignments"} 5.0
kefu_events_out_total{topic="kefu.escalations"} 2.0
kefu_events_out_created{topic="kefu.assignments"} 1.7e9
kefu_consumer_lag_other 99
"""


def test_metric_parsing():
    assert metric_total(METRICS, "kefu_consumer_lag") == 15.0
    assert metric_by(METRICS, "kefu_events_out_total", "topic") == {
        "kefu.assignments": 5.0, "kefu.escalations": 2.0}
    samples = metric_samples(METRICS, "kefu_consumer_lag")
    assert samples[0] == ({"partition": "0", "topic": "kefu.role.presale"}, 12.0)
    assert metric_total("", "kefu_consumer_lag") == 0.0


def test_key_kinds_mask_ids():
    assert key_kind("kefu:{soak-shop-0001}:seen:evt-ab12-000000001") == "kefu:{shop}:seen:*"
    assert key_kind("kefu:{soak-shop-0001}:presale:conv:conv-ab-0000001") == (
        "kefu:{shop}:presale:conv:*")
    assert key_kind("kefu:{s}:buyer:buyer-ab-01:latest_order") == "kefu:{shop}:buyer:*:latest_order"
    assert key_kind("kefu:{timers:presale:7}:due") == "kefu:{timers:presale}:due"


def test_only_loopback_addresses_are_accepted():
    assert check_loopback("127.0.0.1:9092,localhost:9093", "redis://127.0.0.1:6379/0",
                          ["router=http://127.0.0.1:8081", "http://[::1]:8082"]) == []
    bad = check_loopback("kafka-1:9092,127.0.0.1:9092", "redis://10.0.0.5:6379/0",
                         ["http://metrics.example:8081"])
    assert bad == ["kafka-1:9092", "redis://10.0.0.5:6379/0", "http://metrics.example:8081"]


def test_rate_pacing_is_exact_whatever_the_stories():
    """A new story starts whenever nothing is due: N calls give N events."""
    traffic = Traffic(run_id="t2", seed=1, shops=3, agents_per_shop=2)
    out = [traffic.next_event(i / 50, START) for i in range(5000)]
    assert len(out) == 5000 and math.isclose(len({e["event_id"] for e in out}), 5000)
