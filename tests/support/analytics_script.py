"""The events of the oracle week (see analytics_week.py for the shop). Rounds are R1..R14
as numbered in tests/e2e/test_analytics_oracle.py; times are shop-local."""

from __future__ import annotations

import orjson

from contracts import topics
from tests.support.analytics_week import OTHER, SHOP, Week

SWEATER, COAT, BOOTS = "sku-sweater", "sku-coat", "sku-boots"
PRE, AFTER = "presale", "aftersale"


def chats(w: Week) -> None:
    w.status("a2", [PRE, AFTER], "mon", "08:55:00")
    w.buyer(PRE, "c1", "b1", "mon", "10:00:00", "product_inquiry", SWEATER)  # R1
    w.buyer(PRE, "c1", "b1", "mon", "10:00:30", "product_inquiry", SWEATER)  # joins R1
    w.agent(PRE, "c1", "a1", "mon", "10:01:10")
    w.buyer(PRE, "c1", "b1", "mon", "10:05:00", "bargaining")  # R2, next_response
    w.agent(PRE, "c1", "a1", "mon", "10:09:00")
    w.buyer(PRE, "c2", "b2", "mon", "11:59:00", "bargaining")  # R3, across lunch
    w.agent(PRE, "c2", "a2", "mon", "13:01:00")
    w.buyer(AFTER, "c3", "b3", "mon", "17:59:00", "return_refund")  # R4, across the night
    w.agent(AFTER, "c3", "a3", "tue", "09:02:00")
    w.buyer(PRE, "c4", "b4", "wed", "10:00:00", "greeting")  # R5, on the holiday
    w.agent(PRE, "c4", "a1", "thu", "09:00:30")
    w.buyer(PRE, "c5", "b5", "thu", "14:00:00", "product_inquiry", COAT)  # R6
    w.agent(PRE, "c5", "a2", "thu", "14:02:40")
    w.buyer(PRE, "c6", "b6", "fri", "17:00:00", "urge_shipment")  # R7, closed unanswered
    w.close(PRE, "c6", "fri", "17:10:00")
    w.buyer(PRE, "c6", "b6", "fri", "17:20:00", "greeting")  # R8, a new session
    w.agent(PRE, "c6", "a2", "fri", "17:21:00")
    w.buyer(PRE, "c7", "b7", "sat", "15:59:00", "product_inquiry", SWEATER)  # R9, never answered
    w.buyer(AFTER, "c8", "b8", "tue", "10:00:00", "quality_issue", BOOTS)  # R10
    w.agent(AFTER, "c8", "a3", "tue", "10:00:20")
    w.buyer(AFTER, "c8", "b8", "tue", "10:30:00", "return_refund")  # R11, 5m next_response
    w.agent(AFTER, "c8", "a3", "tue", "10:34:00")
    w.buyer(AFTER, "c9", "b9", "tue", "11:00:00", "complaint")  # R12
    w.agent(AFTER, "c9", "a3", "tue", "11:00:50")
    w.buyer(PRE, "c10", "b10", "thu", "16:00:00", "product_inquiry", COAT)  # R13
    w.agent(PRE, "c10", "a1", "thu", "16:02:00")
    w.buyer(PRE, "c11", "b11", "thu", "16:30:00", "bargaining")  # R14
    w.buyer(PRE, "c11", "b11", "thu", "16:31:00", "bargaining")  # joins R14
    w.agent(PRE, "c11", "a2", "thu", "16:32:40")
    w.buyer(PRE, "x1", "bx", "mon", "10:00:00", "greeting", shop=OTHER)  # another shop


def orders(w: Week) -> None:
    sweater = [{"item_id": SWEATER, "title": "羊毛针织开衫", "quantity": 1, "price": 289.0}]
    coat = [{"item_id": COAT, "title": "双面羊绒大衣", "quantity": 1, "price": 899.0}]
    boots = [{"item_id": BOOTS, "title": "短靴", "quantity": 1, "price": 359.0}]
    w.order("order.paid", "o4", "last-fri", "20:00:00", buyer_id="b3", items=sweater)
    w.order("order.shipped", "o4", "last-fri", "22:00:00", carrier="SF", tracking_no="t4")
    w.order("order.paid", "o5", "mon", "08:00:00", buyer_id="b8", items=boots)
    w.order("order.created", "o1", "mon", "10:10:00", buyer_id="b1", items=sweater)
    w.order("order.paid", "o1", "mon", "10:12:00", buyer_id="b1", items=sweater)
    w.order("order.shipped", "o5", "mon", "16:00:00", carrier="SF", tracking_no="t5")
    w.order("aftersale.requested", "o4", "mon", "18:05:00", case_id="k1", buyer_id="b3",
            kind="return_refund", reason="起球")
    w.order("logistics.update", "o5", "tue", "08:00:00", tracking_no="t5", status="in_transit")
    w.order("aftersale.updated", "o4", "tue", "09:30:00", case_id="k1", status="agreed")
    w.order("order.shipped", "o1", "tue", "15:00:00", carrier="SF", tracking_no="t1")
    w.order("logistics.update", "o5", "thu", "09:00:00", tracking_no="t5", status="in_transit")
    w.order("review.posted", "o4", "thu", "12:00:00", buyer_id="b3", rating=1)
    w.order("order.paid", "o2", "thu", "14:30:00", buyer_id="b5", items=coat,
            promised_ship_by=w.at("fri", "14:30:00").isoformat())
    w.order("order.changed", "o2", "thu", "15:00:00", change="address",
            awaiting_buyer_confirmation=True)
    w.order("order.changed", "o2", "thu", "20:00:00", change="address",
            awaiting_buyer_confirmation=False)
    w.order("order.delayed", "o2", "fri", "10:00:00", reason="缺货",
            new_ship_by=w.at("sat", "12:00:00").isoformat())
    w.order("logistics.update", "o5", "fri", "12:00:00", tracking_no="t5", status="delivered")
    w.order("aftersale.requested", "o5", "fri", "13:00:00", case_id="k2", buyer_id="b8",
            kind="exchange", reason="尺码不合适", item_id=BOOTS,
            respond_by=w.at("sat", "13:00:00").isoformat())
    w.order("order.paid", "o3", "sat", "09:00:00", buyer_id="b2", items=coat)
    w.order("review.posted", "o5", "sat", "10:00:00", buyer_id="b8", rating=5, item_id=BOOTS)
    w.order("order.shipped", "o2", "sat", "13:00:00", carrier="SF", tracking_no="t2")
    w.order("review.posted", "o2", "sun", "11:00:00", buyer_id="b5", rating=2, item_id=COAT)


def escalations(w: Week) -> None:
    at = w.at
    e = w.escalation
    e("e-c1-w", "conversation", "c1", "next_response", "warning", 1, at("mon", "10:08:00"),
      at("mon", "10:07:24"))
    e("e-c1-b", "conversation", "c1", "next_response", "breached", 2, at("mon", "10:08:00"),
      at("mon", "10:08:00"))
    e("e-c1-b", "conversation", "c1", "next_response", "breached", 2, at("mon", "10:08:00"),
      at("mon", "10:08:05"))  # the same breach fired again after a crash
    e("e-c3-w", "conversation", "c3", "first_response", "warning", 1, at("tue", "09:02:00"),
      at("tue", "09:01:24"), role=AFTER)
    e("e-c3-b", "conversation", "c3", "first_response", "breached", 2, at("tue", "09:02:00"),
      at("tue", "09:02:00"), role=AFTER)
    e("e-c5-w", "conversation", "c5", "first_response", "warning", 1, at("thu", "14:03:00"),
      at("thu", "14:02:24"))
    e("e-c6-w", "conversation", "c6", "first_response", "warning", 1, at("fri", "17:03:00"),
      at("fri", "17:02:24"))
    e("e-c6-b", "conversation", "c6", "first_response", "breached", 2, at("fri", "17:03:00"),
      at("fri", "17:03:00"))
    e("e-c6-r", "conversation", "c6", "first_response", "resolved", 2, at("fri", "17:03:00"),
      at("fri", "17:10:01"), resolved_at=at("fri", "17:10:00").isoformat())
    e("e-c9-x", "conversation", "c9", "complaint", "raised", 2, None, at("tue", "11:00:01"),
      role=AFTER)
    e("e-c10-w", "conversation", "c10", "first_response", "warning", 1, at("thu", "16:03:00"),
      at("thu", "16:02:24"))
    e("e-c10-b", "conversation", "c10", "first_response", "breached", 2, at("thu", "16:03:00"),
      at("thu", "16:03:00"))
    e("e-c10-rw", "conversation", "c10", "first_response", "retracted", 1,
      at("thu", "16:03:00"), at("thu", "16:05:00"))
    e("e-c10-rb", "conversation", "c10", "first_response", "retracted", 2,
      at("thu", "16:03:00"), at("thu", "16:05:00"))
    e("e-c11-w", "conversation", "c11", "first_response", "warning", 1, at("thu", "16:33:00"),
      at("thu", "16:32:24"))
    e("e-c11-b", "conversation", "c11", "first_response", "breached", 2, at("thu", "16:33:00"),
      at("thu", "16:33:00"))
    e("e-c11-rb", "conversation", "c11", "first_response", "retracted", 2,
      at("thu", "16:33:00"), at("thu", "16:33:30"))
    e("e-c7-w", "conversation", "c7", "first_response", "warning", 1, at("next-mon", "09:02:00"),
      at("next-mon", "09:01:24"))
    e("e-c7-b", "conversation", "c7", "first_response", "breached", 2,
      at("next-mon", "09:02:00"), at("next-mon", "09:02:00"))
    e("e-o5-b", "order", "o5", "logistics_stalled", "breached", 2, at("thu", "08:00:00"),
      at("thu", "08:00:00"), role=AFTER)
    e("e-k2-b", "case", "k2", "aftersale_response", "breached", 2, at("sat", "13:00:00"),
      at("sat", "13:00:00"), role=AFTER)


def dead_letters(w: Week) -> None:
    bad = orjson.dumps({"event_id": "z1", "shop_id": SHOP, "event_type": "review.posted"})
    naive = orjson.dumps({"event_id": "z2", "shop_id": SHOP, "event_type": "order.paid"})
    w.letter("router", "schema_violation", topics.INBOUND, 11, bad.decode(),
             w.at("tue", "12:00:00"))
    w.letter("router", "schema_violation", topics.INBOUND, 11, bad.decode(),
             w.at("tue", "12:00:07"))  # dead-lettered again after a redelivery
    w.letter("router", "naive_timestamp", topics.INBOUND, 12, naive.decode(),
             w.at("wed", "12:00:00"))
    sent = orjson.dumps({"notification_id": "n1", "shop_id": SHOP})
    w.letter("notifier", "delivery_failed", topics.NOTIFICATIONS, 3, sent.decode(),
             w.at("thu", "12:00:00"))
    w.letter("router", "invalid_json", topics.INBOUND, 13, "{not json", w.at("thu", "12:00:00"))
    other = orjson.dumps({"event_id": "z3", "shop_id": OTHER})
    w.letter("router", "schema_violation", topics.INBOUND, 14, other.decode(),
             w.at("thu", "12:00:00"))


def scripted_week(w: Week) -> Week:
    for part in (chats, orders, escalations, dead_letters):
        part(w)
    return w
