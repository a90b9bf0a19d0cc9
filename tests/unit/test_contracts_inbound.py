"""Inbound contract: parsing, DLQ reasons, pass-through of extra fields, Kafka keys."""

from __future__ import annotations

import orjson
import pytest

from contracts import (
    EVENT_MODELS,
    DlqReason,
    EventType,
    InvalidEvent,
    event_key,
    example,
    parse_inbound,
    to_json_bytes,
)

ALL_TYPES = list(EventType)


def raw(event: object) -> bytes:
    return orjson.dumps(event)


def rejected(data: bytes) -> InvalidEvent:
    with pytest.raises(InvalidEvent) as caught:
        parse_inbound(data)
    return caught.value


def required_payload_fields(event_type: EventType) -> list[str]:
    payload_model = EVENT_MODELS[event_type].model_fields["payload"].annotation
    return [name for name, f in payload_model.model_fields.items() if f.is_required()]


@pytest.mark.parametrize("event_type", ALL_TYPES)
def test_every_example_is_valid(event_type: EventType) -> None:
    event = parse_inbound(raw(example(event_type)))
    assert type(event) is EVENT_MODELS[event_type]
    assert event.event_type == event_type
    assert event.shop_id == "shop-demo"


def test_every_event_type_has_a_model() -> None:
    assert set(EVENT_MODELS) == set(EventType)
    assert {"order.created", "order.paid"} <= set(EVENT_MODELS)


@pytest.mark.parametrize(
    ("event_type", "field"),
    [(t, f) for t in ALL_TYPES for f in required_payload_fields(t)],
)
def test_missing_required_payload_field(event_type: EventType, field: str) -> None:
    event = example(event_type)
    del event["payload"][field]
    error = rejected(raw(event))
    assert error.reason is DlqReason.SCHEMA_VIOLATION
    assert f"payload.{field}: Field required" in error.detail


WRONG_TYPES = {
    EventType.BUYER_MESSAGE: ("text", 42),
    EventType.AGENT_MESSAGE: ("agent_id", ["agent-lin"]),
    EventType.AGENT_STATUS: ("roles", ["presale", "cashier"]),
    EventType.CONVERSATION_CLOSED: ("conversation_id", None),
    EventType.ORDER_CREATED: ("amount", "289.00"),
    EventType.ORDER_PAID: ("items", {"sku": "x"}),
    EventType.ORDER_CHANGED: ("awaiting_buyer_confirmation", "yes"),
    EventType.ORDER_SHIPPED: ("tracking_no", 7300012345678),
    EventType.ORDER_DELAYED: ("new_ship_by", 1795000000),
    EventType.ORDER_CANCELLED: ("reason", {"code": 1}),
    EventType.LOGISTICS_UPDATE: ("status", "lost"),
    EventType.AFTERSALE_REQUESTED: ("kind", "refund"),
    EventType.AFTERSALE_UPDATED: ("status", "pending"),
    EventType.REVIEW_POSTED: ("rating", "5"),
    EventType.ESCALATION_ACKNOWLEDGED: ("subject", {"kind": "parcel", "id": "p1"}),
    EventType.CONVERSATION_REASSIGNED: ("role", "cashier"),
    EventType.REPLY_SCRIPT_PUBLISHED: ("locale", "fr"),
}


@pytest.mark.parametrize("event_type", ALL_TYPES)
def test_wrong_type_in_payload(event_type: EventType) -> None:
    field, bad = WRONG_TYPES[event_type]
    error = rejected(raw(example(event_type, payload={field: bad})))
    assert error.reason is DlqReason.SCHEMA_VIOLATION
    assert error.detail.startswith(f"payload.{field}")


@pytest.mark.parametrize(
    "field", ["event_id", "event_type", "schema_version", "occurred_at", "shop_id", "platform",
              "payload"],
)
def test_missing_envelope_field(field: str) -> None:
    event = example(EventType.BUYER_MESSAGE)
    del event[field]
    error = rejected(raw(event))
    assert error.reason is DlqReason.SCHEMA_VIOLATION
    assert error.detail == f"{field}: Field required"


@pytest.mark.parametrize(
    ("overrides", "path"),
    [
        ({"event_id": ""}, "event_id"),
        ({"event_id": "e" * 129}, "event_id"),
        ({"shop_id": "s" * 65}, "shop_id"),
        ({"platform": "amazon"}, "platform"),
        ({"payload": []}, "payload"),
        ({"trace_id": 7}, "trace_id"),
        ({"schema_version": "1"}, "schema_version"),
        ({"schema_version": True}, "schema_version"),
        ({"schema_version": 0}, "schema_version"),
        ({"occurred_at": 1795000000}, "occurred_at"),
        ({"occurred_at": "2026-11-22"}, "occurred_at"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"event_type": 5}, "event_type"),
    ],
)
def test_invalid_envelope_field(overrides: dict, path: str) -> None:
    error = rejected(raw(example(EventType.BUYER_MESSAGE, **overrides)))
    assert error.reason is DlqReason.SCHEMA_VIOLATION
    assert error.detail.startswith(f"{path}:")


def test_limits_accept_their_bounds() -> None:
    event = parse_inbound(raw(example(EventType.REVIEW_POSTED, event_id="e" * 128,
                                      shop_id="s" * 64, payload={"rating": 1})))
    assert len(event.event_id) == 128
    assert parse_inbound(raw(example(EventType.REVIEW_POSTED, payload={"rating": 5})))


@pytest.mark.parametrize("rating", [0, 6, 4.5, True])
def test_rating_is_an_int_from_1_to_5(rating: object) -> None:
    error = rejected(raw(example(EventType.REVIEW_POSTED, payload={"rating": rating})))
    assert error.reason is DlqReason.SCHEMA_VIOLATION
    assert error.detail.startswith("payload.rating:")


def test_rating_detail_names_path_and_rule() -> None:
    error = rejected(raw(example(EventType.REVIEW_POSTED, payload={"rating": 9})))
    assert error.detail == "payload.rating: Input should be less than or equal to 5"


def test_agent_status_defaults_and_rules() -> None:
    event = example(EventType.AGENT_STATUS)
    del event["payload"]["max_concurrent"]
    assert parse_inbound(raw(event)).payload.max_concurrent == 5
    for bad in ({"roles": []}, {"max_concurrent": 0}, {"status": "busy"}):
        error = rejected(raw(example(EventType.AGENT_STATUS, payload=bad)))
        assert error.reason is DlqReason.SCHEMA_VIOLATION, bad


def test_nested_list_error_path() -> None:
    items = [{"sku": "a", "quantity": 1}, {"sku": "b", "quantity": "two"}]
    error = rejected(raw(example(EventType.ORDER_PAID, payload={"items": items})))
    assert error.detail.startswith("payload.items[1].quantity:")


def test_trace_id_is_optional() -> None:
    event = example(EventType.ORDER_PAID)
    del event["trace_id"]
    assert parse_inbound(raw(event)).trace_id is None


@pytest.mark.parametrize(
    ("event_type", "overrides", "path"),
    [
        (EventType.BUYER_MESSAGE, {"occurred_at": "2026-11-22T09:30:00"}, "occurred_at"),
        (EventType.ORDER_DELAYED, {"occurred_at": "2026-11-22 10:00:00"}, "occurred_at"),
        (EventType.AFTERSALE_REQUESTED, {"payload": {"respond_by": "2026-11-24T16:30:00"}},
         "payload.respond_by"),
        (EventType.ORDER_DELAYED, {"payload": {"new_ship_by": "2026-11-26T18:00:00"}},
         "payload.new_ship_by"),
        (EventType.ORDER_PAID, {"payload": {"promised_ship_by": "2026-11-24T20:16:30.5"}},
         "payload.promised_ship_by"),
    ],
)
def test_naive_timestamp(event_type: EventType, overrides: dict, path: str) -> None:
    error = rejected(raw(example(event_type, **overrides)))
    assert error.reason is DlqReason.NAIVE_TIMESTAMP
    assert error.detail.startswith(f"{path}:")


def test_naive_timestamp_with_other_errors_is_a_schema_violation() -> None:
    event = example(EventType.BUYER_MESSAGE, occurred_at="2026-11-22T09:30:00")
    del event["payload"]["text"]
    error = rejected(raw(event))
    assert error.reason is DlqReason.SCHEMA_VIOLATION
    assert "occurred_at" in error.detail and "payload.text" in error.detail


@pytest.mark.parametrize("stamp", ["2026-11-22T01:30:00Z", "2026-11-22T09:30:00.123+08:00"])
def test_times_with_offset_are_valid(stamp: str) -> None:
    assert parse_inbound(raw(example(EventType.BUYER_MESSAGE, occurred_at=stamp))).occurred_at


@pytest.mark.parametrize(
    ("stamp", "message"),
    [
        (1795000000, "RFC 3339 date-time with offset"),
        ("1795000000", "RFC 3339 date-time with offset"),
        ("2026-11-22", "RFC 3339 date-time with offset"),
        ("２０２６-11-22T09:30:00Z", "RFC 3339 date-time with offset"),
        (None, "RFC 3339 date-time with offset"),
        ("1969-12-31T23:59:59Z", "between 1970-01-01 and 2200-01-01"),
        ("1970-01-01T07:59:59+08:00", "between 1970-01-01 and 2200-01-01"),
        ("2200-01-01T00:00:00Z", "between 1970-01-01 and 2200-01-01"),
        ("9999-12-31T23:59:59-14:00", "between 1970-01-01 and 2200-01-01"),
        ("2026-11-22T09:30:00+08:00 ", "valid datetime"),
    ],
)
def test_bad_times_name_the_rule_they_break(stamp: object, message: str) -> None:
    error = rejected(raw(example(EventType.BUYER_MESSAGE, occurred_at=stamp)))
    assert error.reason is DlqReason.SCHEMA_VIOLATION
    assert error.detail.startswith("occurred_at:") and message in error.detail


@pytest.mark.parametrize(
    "stamp", ["1970-01-01T00:00:00Z", "1970-01-01T08:00:00+08:00", "2199-12-31T23:59:59.999Z",
              "2026-11-22 09:30:00+08:00", "2026-11-22t01:30:00z"],
)
def test_times_at_the_edges_of_the_rules_are_valid(stamp: str) -> None:
    assert parse_inbound(raw(example(EventType.BUYER_MESSAGE, occurred_at=stamp))).occurred_at


@pytest.mark.parametrize("version", [2, 99])
def test_newer_schema_version_is_unsupported_before_anything_else(version: int) -> None:
    event = example(EventType.BUYER_MESSAGE, schema_version=version, event_type="buyer.voice")
    event["payload"] = {"rating": "broken"}
    error = rejected(raw(event))
    assert error.reason is DlqReason.UNSUPPORTED_SCHEMA_VERSION
    assert error.detail.startswith("schema_version:")


def test_unknown_event_type() -> None:
    error = rejected(raw(example(EventType.BUYER_MESSAGE, event_type="buyer.voice")))
    assert error.reason is DlqReason.UNKNOWN_EVENT_TYPE
    assert "buyer.voice" in error.detail


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", DlqReason.INVALID_JSON),
        (b"not json", DlqReason.INVALID_JSON),
        (b'{"event_id": "e1",', DlqReason.INVALID_JSON),
        (b"[]", DlqReason.INVALID_JSON),
        (b'[{"event_id": "e1"}]', DlqReason.INVALID_JSON),
        (b'"buyer.message"', DlqReason.INVALID_JSON),
        (b"null", DlqReason.INVALID_JSON),
        (b'{"amount": NaN}', DlqReason.INVALID_JSON),
        (b"\xff\xfe{}", DlqReason.INVALID_ENCODING),
        (b'{"text": "\xe4\xbd"}', DlqReason.INVALID_ENCODING),
        ("你好".encode("gbk"), DlqReason.INVALID_ENCODING),
    ],
)
def test_undecodable_bytes(data: bytes, reason: DlqReason) -> None:
    error = rejected(data)
    assert error.reason is reason
    assert error.detail


def test_json_array_detail() -> None:
    assert rejected(b"[1, 2]").detail == "expected a JSON object, got array"


def test_invalid_event_carries_reason_and_detail() -> None:
    error = InvalidEvent(DlqReason.OVERSIZE, "1 MiB")
    assert isinstance(error, ValueError)
    assert (error.reason, error.detail) == (DlqReason.OVERSIZE, "1 MiB")
    assert str(error) == "oversize: 1 MiB"


@pytest.mark.parametrize("event_type", ALL_TYPES)
def test_round_trip_is_stable(event_type: EventType) -> None:
    first = parse_inbound(raw(example(event_type)))
    encoded = to_json_bytes(first)
    assert parse_inbound(encoded) == first
    assert to_json_bytes(parse_inbound(encoded)) == encoded
    assert b"+08:00" in encoded


def test_extra_fields_survive_round_trip() -> None:
    event = example(EventType.ORDER_PAID, x_source="erp-7", x_meta={"batch": [1, 2]})
    event["payload"]["coupon_code"] = "DOUBLE11"
    event["payload"]["items"][0]["color_hex"] = "#888888"
    out = orjson.loads(to_json_bytes(parse_inbound(raw(event))))
    assert out["x_source"] == "erp-7" and out["x_meta"] == {"batch": [1, 2]}
    assert out["payload"]["coupon_code"] == "DOUBLE11"
    assert out["payload"]["items"][0]["color_hex"] == "#888888"
    assert out["occurred_at"] == event["occurred_at"]
    assert out["payload"]["promised_ship_by"] == event["payload"]["promised_ship_by"]


def test_sent_fields_are_kept_even_when_null() -> None:
    out = orjson.loads(to_json_bytes(parse_inbound(raw(
        example(EventType.ORDER_CANCELLED, payload={"reason": None})))))
    assert "reason" in out["payload"] and out["payload"]["reason"] is None


KEYS = {
    EventType.BUYER_MESSAGE: "conv-8812",
    EventType.AGENT_MESSAGE: "conv-8812",
    EventType.CONVERSATION_CLOSED: "conv-8812",
    EventType.AGENT_STATUS: "agent-lin",
    EventType.ESCALATION_ACKNOWLEDGED: "conv-8812",  # the subject
    EventType.CONVERSATION_REASSIGNED: "conv-8812",
    EventType.REPLY_SCRIPT_PUBLISHED: "script-double11-presale",
}


@pytest.mark.parametrize("event_type", ALL_TYPES)
def test_event_key(event_type: EventType) -> None:
    expected = KEYS.get(event_type, "ord-20261122-5531")
    assert event_key(parse_inbound(raw(example(event_type)))) == expected


def test_aftersale_update_without_order_is_keyed_by_case() -> None:
    event = example(EventType.AFTERSALE_UPDATED)
    del event["payload"]["order_id"]
    assert event_key(parse_inbound(raw(event))) == "case-77120"


def test_example_returns_independent_copies() -> None:
    first = example(EventType.ORDER_PAID, payload={"amount": 1.0})
    first["payload"]["items"].clear()
    second = example("order.paid")
    assert second["payload"]["amount"] == 289.0 and second["payload"]["items"]
