"""The oracle week's report, worked out by hand from tests/support/analytics_script.py
(never by the code under test). Business time: Mon-Fri 09:00-12:00 + 13:00-18:00, Sat
10:00-16:00, Sun closed, Wednesday a holiday; SLA 3 min except after-sale next_response
5 min. A reply at the deadline breaches it (the contract: "breached at or after it").

Rounds (start -> end: business seconds; within 3 min = strictly under 180 s):
  R1  c1  pre  first  product_inquiry  Mon 10:00:00 -> a1 10:01:10      70  yes  met
  R2  c1  pre  next   bargaining       Mon 10:05:00 -> a1 10:09:00     240  no   breached
  R3  c2  pre  first  bargaining       Mon 11:59:00 -> a2 13:01:00     120  yes  met (60 s
      before lunch + 60 s after; deadline 13:02)
  R4  c3  aft  first  return_refund    Mon 17:59:00 -> a3 Tue 09:02:00 180  no   breached (60 s
      + 120 s across the night; the reply lands on the deadline)
  R5  c4  pre  first  greeting         Wed 10:00:00 -> a1 Thu 09:00:30  30  yes  met (holiday)
  R6  c5  pre  first  product_inquiry  Thu 14:00:00 -> a2 14:02:40     160  yes  met
  R7  c6  pre  first  urge_shipment    Fri 17:00:00 -> closed 17:10     -    no   breached
  R8  c6  pre  first  greeting         Fri 17:20:00 -> a2 17:21:00      60  yes  met (new session)
  R9  c7  pre  first  product_inquiry  Sat 15:59:00 -> open (due next Mon 09:02)  no  breached
  R10 c8  aft  first  quality_issue    Tue 10:00:00 -> a3 10:00:20      20  yes  met
  R11 c8  aft  next   return_refund    Tue 10:30:00 -> a3 10:34:00     240  no   met (5 min)
  R12 c9  aft  first  complaint        Tue 11:00:00 -> a3 11:00:50      50  yes  met
  R13 c10 pre  first  product_inquiry  Thu 16:00:00 -> a1 16:02:00     120  yes  met
  R14 c11 pre  first  bargaining       Thu 16:30:00 -> a2 16:32:40     160  yes  met

Percentiles interpolate linearly between closest ranks: h = (n - 1) * q.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.support.analytics_week import SHOP, Week

# Every round: answered R1-R6, R8, R10-R14 = 12; within = 9 of 14 decided rounds.
# sorted: 20 30 50 60 70 120 120 160 160 180 240 240, sum 1450
#   p50: h = 5.5 -> 120; p90: h = 9.9 -> 180 + 0.9 * 60 = 234; mean 1450 / 12
REPLIES = {"rounds": 14, "answered": 12, "within_3m_rate": 0.6429, "p50_s": 120.0,
           "p90_s": 234.0, "mean_s": 120.833}
# First rounds: all but R2, R11 = 12; answered 10; within 9 of 12.
# sorted: 20 30 50 60 70 120 120 160 160 180, sum 970
#   p50: h = 4.5 -> 95; p90: h = 8.1 -> 160 + 0.1 * 20 = 162; mean 97
FIRST_RESPONSE = {"rounds": 12, "answered": 10, "within_3m_rate": 0.75, "p50_s": 95.0,
                  "p90_s": 162.0, "mean_s": 97.0}
SLA = {
    "first_response": {"met": 9, "breached": 3, "rate": 0.75, "running": 0},  # R4 R7 R9
    "next_response": {"met": 1, "breached": 1, "rate": 0.5, "running": 0},  # R11 / R2
    # o1, o5 shipped in time; o2 shipped 13:00 after its delayed deadline Sat 12:00; o3 never
    "ship_by": {"met": 2, "breached": 2, "rate": 0.5, "running": 0},
    "order_change_confirmation": {"met": 1, "breached": 0, "rate": 1.0, "running": 0},
    # k1 agreed in time; k2 never answered before Sat 13:00
    "aftersale_response": {"met": 1, "breached": 1, "rate": 0.5, "running": 0},
    # o5: the Tue 08:00 window ends at the Thu 09:00 scan, an hour late; the next one ends
    # at delivery on Friday
    "logistics_stalled": {"met": 1, "breached": 1, "rate": 0.5, "running": 0},
}
# Fired in the week, once per id (e-c1-b fired twice; c7's fire next Monday):
# warning c1 c3 c5 c6 c10 c11; breached c1 c3 c6 c10 c11 o5 k2; resolved c6; raised c9;
# retracted c10 (warning and breach) and c11 (breach)
ESCALATIONS = {"breached": 7, "raised": 1, "resolved": 1, "retracted": 3, "warning": 6}
ESCALATION_LEVELS = {"1": 7, "2": 11}
NEAR_MISSES = 2  # c5 (no breach) and c11 (its breach retracted); c10's warning was false
INTENTS = {"bargaining": 4, "complaint": 1, "greeting": 2, "product_inquiry": 5,
           "quality_issue": 1, "return_refund": 2, "urge_shipment": 1}
HEATMAP = {(1, 10): 3, (1, 11): 1, (1, 17): 1, (2, 10): 2, (2, 11): 1, (3, 10): 1,
           (4, 14): 1, (4, 16): 3, (5, 17): 2, (6, 15): 1}
HEATMAP_PRODUCT_INQUIRY = {(1, 10): 2, (4, 14): 1, (4, 16): 1, (6, 15): 1}
# a1: R1 70, R2 240, R5 30, R13 120 -> sorted 30 70 120 240
# a2: R3 120, R6 160, R8 60, R14 160 -> 60 120 160 160
# a3: R4 180, R10 20, R11 240, R12 50 -> 20 50 180 240
AGENTS = [
    {"agent_id": "a1", "rounds": 4, "p50_s": 95.0, "p90_s": 204.0, "mean_s": 115.0,
     "within_3m_rate": 0.75},
    {"agent_id": "a2", "rounds": 4, "p50_s": 140.0, "p90_s": 160.0, "mean_s": 125.0,
     "within_3m_rate": 1.0},
    {"agent_id": "a3", "rounds": 4, "p50_s": 115.0, "p90_s": 222.0, "mean_s": 122.5,
     "within_3m_rate": 0.5},
]
# sweater: inquiries m1 m2 m10, case k1 and o4's 1-star review (o4 ordered the sweater);
# coat: inquiries m7 m14, o2's 2-star review; boots: inquiry m11, case k2
ITEMS = [
    {"item_id": "sku-sweater", "title": "羊毛针织开衫", "inquiries": 3, "aftersale_requests": 1,
     "negative_reviews": 1},
    {"item_id": "sku-coat", "title": "双面羊绒大衣", "inquiries": 2, "aftersale_requests": 0,
     "negative_reviews": 1},
    {"item_id": "sku-boots", "title": "短靴", "inquiries": 1, "aftersale_requests": 1,
     "negative_reviews": 0},
]
AFTERSALE = {"requests": 2, "by_kind": {"exchange": 1, "return_refund": 1},
             "by_reason": {"尺码不合适": 1, "起球": 1}}
REVIEWS = {"count": 3, "negative": 2, "negative_rate": 0.6667}
# pre-sale buyers b1 b2 b4 b5 b6 b7 b10 b11; b1 paid 12 min and b5 30 min after asking,
# b2 paid on Saturday, more than 3 days after Monday
CONVERSION = {"consulted": 8, "paid": 2, "rate": 0.25, "window_days": 3}
# routed: 30 chat events (16 buyer, 12 agent, 1 close, 1 status sent to both roles) + 20
# order events; total adds the router's 2 letters of the shop (one letter redelivered)
PIPE = {"routed": 50, "total": 52, "routed_rate": 0.9615, "dead_letters": [
    {"service": "notifier", "reason": "delivery_failed", "letters": 1},
    {"service": "router", "reason": "naive_timestamp", "letters": 1},
    {"service": "router", "reason": "schema_violation", "letters": 1},
]}
# presale: R1 R2 R3 R5 R6 R7 R8 R9 R13 R14; answered 8: 30 60 70 120 120 160 160 240
#   p50 h = 3.5 -> 120; p90 h = 6.3 -> 160 + 0.3 * 80 = 184; mean 960 / 8 = 120
BY_ROLE = [
    {"key": "presale", "rounds": 10, "answered": 8, "within_3m_rate": 0.7, "p50_s": 120.0,
     "p90_s": 184.0, "mean_s": 120.0},
    {"key": "aftersale", "rounds": 4, "answered": 4, "within_3m_rate": 0.5, "p50_s": 115.0,
     "p90_s": 222.0, "mean_s": 122.5},
]
MESSAGES_PER_DAY = [5, 3, 1, 4, 2, 1, 0]
WITHIN_3M_PER_DAY = [0.5, 0.6667, 1.0, 1.0, 0.5, 0.0, None]


# --- the check of a report against these figures -------------------------------------


def week_params(week: Week, **extra) -> dict:
    return {"shop": SHOP, "from": week.monday.isoformat(),
            "to": week.at("sun", "00:00:00").date().isoformat(), **extra}


def assert_week(report: dict, week: Week) -> None:
    assert report["shop_id"] == SHOP
    assert datetime.fromisoformat(report["from"]) == week.at("mon", "00:00:00")
    assert datetime.fromisoformat(report["to"]) == week.at("next-mon", "00:00:00")
    assert report["replies"] == pytest.approx(REPLIES, abs=1e-3)
    assert report["first_response"] == pytest.approx(FIRST_RESPONSE, abs=1e-3)
    assert report["sla"] == SLA
    assert report["escalations"] == ESCALATIONS
    assert report["escalation_levels"] == ESCALATION_LEVELS
    assert report["near_misses"] == NEAR_MISSES
    assert report["intents"] == INTENTS
    cells = {(c["weekday"], c["hour"]): c["messages"] for c in report["heatmap"]}
    assert len(cells) == 7 * 24
    assert {k: v for k, v in cells.items() if v} == HEATMAP
    assert [pytest.approx(a, abs=1e-3) for a in AGENTS] == report["agents"]
    assert report["items"] == ITEMS
    assert report["aftersale"] == AFTERSALE
    assert report["reviews"] == REVIEWS
    assert report["conversion"] == CONVERSION
    assert report["pipe"] == PIPE
