"""Fact rows read a payload's fields as attribute access would: declared fields, extra
fields a newer producer sent (the contract keeps them), and nothing for the rest."""

import orjson

from contracts import example, parse_inbound
from services.analytics.facts import commerce_row, field_of
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
