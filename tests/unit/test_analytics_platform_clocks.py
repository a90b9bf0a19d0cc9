"""Platform deadlines at ingest: one clock row per instance, decided by the role
services' own rules (ship_by, order_change_confirmation, aftersale_response,
logistics_stalled)."""

from datetime import datetime, timedelta

import orjson

from contracts import example, parse_inbound
from services.analytics.platform_clocks import SubjectMemo, apply_order_event
from services.core.policy import load_policy

POLICY = load_policy(None).for_shop("s1")  # ship_by 48h, logistics_stalled 48h, ...
T0 = datetime.fromisoformat("2026-11-02T10:00:00+08:00")


def order_event(kind: str, hours: float, **payload):
    body = example(kind, event_id=f"{kind}-{hours}", shop_id="s1",
                   occurred_at=(T0 + timedelta(hours=hours)).isoformat())
    body["payload"] = {"order_id": "o1", **payload}  # exactly these, no example fields
    return parse_inbound(orjson.dumps(body))


def at(hours: float) -> str:
    utc = T0 + timedelta(hours=hours) - timedelta(hours=8)
    return utc.strftime("%Y-%m-%d %H:%M:%S.000")


def run(*events) -> list[dict]:
    memo, rows = SubjectMemo(), {}
    for ev in events:
        for row in apply_order_event(memo, ev, POLICY):
            kept = rows.get(row["clock_id"])
            if kept is None or row["version"] > kept["version"]:  # as ReplacingMergeTree
                rows[row["clock_id"]] = dict(row)
    return sorted(rows.values(), key=lambda r: (r["sla"], r["started_at"]))


def outcome(row: dict) -> tuple:
    return row["sla"], row["started_at"], row["deadline"], row["stopped_at"], row["missed"]


def test_ship_by_runs_from_payment_to_shipment():
    rows = run(order_event("order.paid", 0, buyer_id="b"),
               order_event("order.shipped", 30, carrier="SF", tracking_no="t"))
    assert [outcome(r) for r in rows] == [("ship_by", at(0), at(48), at(30), 0)]


def test_a_delay_moves_the_deadline_and_a_late_delay_marks_the_first_one_missed():
    early = run(order_event("order.paid", 0, buyer_id="b"),
                order_event("order.delayed", 10, reason="r",
                            new_ship_by=(T0 + timedelta(hours=72)).isoformat()))
    assert [outcome(r) for r in early] == [("ship_by", at(0), at(72), None, 0)]
    late = run(order_event("order.paid", 0, buyer_id="b"),
               order_event("order.delayed", 50, reason="r",
                           new_ship_by=(T0 + timedelta(hours=72)).isoformat()))
    assert [outcome(r) for r in late] == [("ship_by", at(0), at(72), None, 1)]


def test_a_delay_read_exactly_at_the_deadline_finds_it_missed():
    """Breached at or after the deadline (README, "SLA attainment")."""
    rows = run(order_event("order.paid", 0, buyer_id="b"),
               order_event("order.delayed", 48, reason="r",
                           new_ship_by=(T0 + timedelta(hours=72)).isoformat()))
    assert [outcome(r) for r in rows] == [("ship_by", at(0), at(72), None, 1)]


def test_every_scan_opens_a_new_stall_window_and_delivery_ends_the_last():
    rows = run(order_event("logistics.update", 0, tracking_no="t", status="in_transit"),
               order_event("logistics.update", 50, tracking_no="t", status="in_transit"),
               order_event("logistics.update", 60, tracking_no="t", status="delivered"),
               order_event("logistics.update", 70, tracking_no="t", status="in_transit"))
    assert [outcome(r) for r in rows] == [
        ("logistics_stalled", at(0), at(48), at(50), 0),  # ended by the next scan, late
        ("logistics_stalled", at(50), at(98), at(60), 0),
    ], "a scan after delivery restarts nothing"


def test_a_shipped_order_gets_no_clock_from_a_late_payment_or_change():
    rows = run(order_event("order.shipped", 0, carrier="SF", tracking_no="t"),
               order_event("order.paid", 1, buyer_id="b"),
               order_event("order.changed", 2, change="address",
                           awaiting_buyer_confirmation=True))
    assert rows == []


def test_a_change_awaiting_the_buyer_runs_until_the_next_change():
    rows = run(order_event("order.paid", 0, buyer_id="b"),
               order_event("order.changed", 1, change="address",
                           awaiting_buyer_confirmation=True),
               order_event("order.changed", 30, change="address",
                           awaiting_buyer_confirmation=False))
    assert [outcome(r) for r in rows][0] == ("order_change_confirmation", at(1), at(25), at(30),
                                             0)
