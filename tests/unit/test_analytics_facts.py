"""Fact rows read a payload's fields as attribute access would: declared fields, extra
fields a newer producer sent (the contract keeps them), and nothing for the rest."""

import orjson

from contracts import example, parse_inbound, parse_routed
from services.analytics.facts import (
    commerce_row,
    field_of,
    item_ids,
    message_row,
    order_item_rows,
)
from services.core.policy import load_policy

TZ = load_policy(None).for_shop("s1").timezone


def logistics_update(**payload):
    body = example("logistics.update", event_id="e1", shop_id="s1")
    body["payload"] = {"order_id": "o1", "tracking_no": "t1", "status": "in_transit", **payload}
    return parse_inbound(orjson.dumps(body))


def test_a_field_is_read_whether_declared_extra_or_absent():
    payload = logistics_update(reason="held at customs").payload
    assert field_of(payload, "order_id") == "o1"
    assert field_of(payload, "reason") == "held at customs"
    assert field_of(payload, "case_id") is None


def test_an_extra_field_of_the_payload_reaches_the_commerce_row():
    row = commerce_row(logistics_update(reason="held at customs", rating=3), TZ)
    assert (row["order_id"], row["case_id"], row["reason"], row["rating"]) == (
        "o1", "", "held at customs", 3)
    assert commerce_row(logistics_update(), TZ)["reason"] == ""


def order_paid(items: list[dict]):
    body = example("order.paid", event_id="e-paid", shop_id="s1")
    body["payload"] = {"order_id": "o1", "buyer_id": "b1", "items": items}
    return parse_inbound(orjson.dumps(body))


def test_a_commerce_row_keeps_the_buyer_and_the_carriers_status():
    row = commerce_row(logistics_update(status="delivered"), TZ)
    assert row["status"] == "delivered"
    assert commerce_row(order_paid([]), TZ)["buyer_id"] == "b1"
    assert commerce_row(order_paid([]), TZ)["status"] == ""


def test_an_orders_lines_name_their_product_with_a_title_and_a_quantity():
    event = order_paid([
        {"item_id": "coat-L", "title": "双面羊绒大衣", "name": "大衣 L", "quantity": 2},
        {"item_id": "scarf", "name": "围巾"},  # no title: its name; no quantity: one
        {"sku": "gift-box"},  # names no product: no line
        {"item_id": "coat-L", "quantity": 1},
    ])
    lines = [(r["line"], r["item_id"], r["title"], r["quantity"]) for r in order_item_rows(event)]
    assert lines == [(0, "coat-L", "双面羊绒大衣", 2), (1, "scarf", "围巾", 1),
                     (3, "coat-L", "", 1)]
    assert item_ids(event) == ["coat-L", "scarf"]


def test_a_review_naming_no_product_is_about_the_products_of_its_order():
    body = example("review.posted", event_id="e-review", shop_id="s1")
    body["payload"] = {"order_id": "o1", "buyer_id": "b1", "rating": 1}
    review = parse_inbound(orjson.dumps(body))
    assert commerce_row(review, TZ, ["coat-L", "scarf"])["item_ids"] == ["coat-L", "scarf"]
    body["payload"]["item_id"] = "scarf"
    named = parse_inbound(orjson.dumps(body))
    assert commerce_row(named, TZ, ["coat-L", "scarf"])["item_ids"] == ["scarf"]
    assert commerce_row(logistics_update(), TZ, ["coat-L"])["item_ids"] == []


def test_a_chat_row_names_the_product_order_and_reply_script_it_was_about():
    asked = parse_routed(orjson.dumps(example(
        "buyer.message", payload={"item_id": "coat-L", "order_id": "o1"})))
    row = message_row(asked, "presale", TZ)
    assert (row["item_id"], row["order_id"], row["buyer_id"]) == (
        "coat-L", "o1", asked.payload.buyer_id)
    bare = example("buyer.message")
    del bare["payload"]["order_id"]
    assert message_row(parse_routed(orjson.dumps(bare)), "presale", TZ)["order_id"] == ""
    replied = parse_routed(orjson.dumps(example("agent.message", payload={"script_id": "s-7"})))
    assert message_row(replied, "presale", TZ)["script_id"] == "s-7"
    plain = parse_routed(orjson.dumps(example("agent.message")))
    assert message_row(plain, "presale", TZ)["script_id"] == ""


def test_a_commerce_row_names_the_product_a_case_was_opened_for():
    body = example("aftersale.requested", shop_id="s1", payload={"item_id": "scarf"})
    assert commerce_row(parse_inbound(orjson.dumps(body)), TZ)["item_id"] == "scarf"
