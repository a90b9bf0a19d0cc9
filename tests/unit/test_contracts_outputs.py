"""Output contract: routed events, assignments, escalations, notifications, dead letters,
deterministic ids, topics, vocabularies and JSON Schemas."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from contracts import (
    ALL_TOPICS,
    ORDER_EVENT_TYPES,
    ROLE_EVENT_TYPES,
    ROUTED_MODELS,
    ROUTER_EVENT_TYPES,
    SUPERVISOR_EVENT_TYPES,
    Assignment,
    DeadLetter,
    DlqReason,
    Escalation,
    EventType,
    Intent,
    InvalidEvent,
    Notification,
    Priority,
    Role,
    Routing,
    derive_id,
    example,
    json_schemas,
    parse_inbound,
    parse_routed,
    role_topic,
    to_json_bytes,
    with_routing,
    write_json_schemas,
)

CST = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 22, 9, 30, 5, tzinfo=CST)


def routing(**overrides: object) -> Routing:
    fields = {"intent": "logistics_inquiry", "role": "aftersale", "priority": "normal",
              "confidence": 0.82, "reason": "keywords: 快递, 没动", "routed_at": NOW}
    return Routing(**{**fields, **overrides})


def test_routed_buyer_message_round_trip_keeps_extras() -> None:
    event = example(EventType.BUYER_MESSAGE, x_channel="qianniu")
    event["payload"]["x_emotion"] = "anxious"
    routed = with_routing(parse_inbound(orjson.dumps(event)), routing())
    encoded = to_json_bytes(routed)
    out = orjson.loads(encoded)
    assert out["routing"]["intent"] == "logistics_inquiry"
    assert out["routing"]["routed_at"] == "2026-11-22T09:30:05+08:00"
    assert out["x_channel"] == "qianniu" and out["payload"]["x_emotion"] == "anxious"
    back = parse_routed(encoded)
    assert back.routing == routing() and back.payload.text == event["payload"]["text"]


@pytest.mark.parametrize("event_type", sorted(ROLE_EVENT_TYPES))
def test_role_topic_events_parse_with_and_without_routing(event_type: EventType) -> None:
    plain = parse_routed(orjson.dumps(example(event_type)))
    assert plain.routing is None
    assert type(plain) is ROUTED_MODELS[event_type]


def test_order_events_are_not_role_topic_messages() -> None:
    with pytest.raises(InvalidEvent) as caught:
        parse_routed(orjson.dumps(example(EventType.ORDER_PAID)))
    assert caught.value.reason is DlqReason.UNKNOWN_EVENT_TYPE


@pytest.mark.parametrize("confidence", [-0.1, 1.5, "0.9"])
def test_routing_confidence_is_a_number_from_0_to_1(confidence: object) -> None:
    with pytest.raises(ValidationError):
        routing(confidence=confidence)
    assert routing(confidence=0).confidence == 0 and routing(confidence=1).confidence == 1


def test_routing_error_in_routed_message_names_path() -> None:
    event = example(EventType.BUYER_MESSAGE, routing={**orjson.loads(to_json_bytes(routing())),
                                                      "priority": "asap"})
    with pytest.raises(InvalidEvent) as caught:
        parse_routed(orjson.dumps(event))
    assert caught.value.detail.startswith("routing.priority:")


def test_assignment_queued_has_null_agent() -> None:
    queued = Assignment(conversation_id="conv-8812", shop_id="shop-demo", role="presale",
                        agent_id=None, reason="queued_no_capacity", at=NOW)
    out = orjson.loads(to_json_bytes(queued))
    assert out["agent_id"] is None and out["reason"] == "queued_no_capacity"
    assert queued.kafka_key == "conv-8812"
    assert Assignment.model_validate_json(to_json_bytes(queued)) == queued
    with pytest.raises(ValidationError):  # agent_id must be present, even if null
        Assignment(conversation_id="c", shop_id="s", role="presale", reason="sticky", at=NOW)


def escalation(**overrides: object) -> Escalation:
    fields = {"escalation_id": derive_id("esc", "c1"), "shop_id": "shop-demo",
              "role": "presale", "subject": {"kind": "conversation", "id": "conv-8812"},
              "sla": "first_response", "level": 1, "state": "warning",
              "deadline": NOW + timedelta(minutes=3), "fired_at": NOW, "trace_id": "t-1"}
    return Escalation(**{**fields, **overrides})


def test_escalation_round_trip_and_key() -> None:
    esc = escalation()
    assert Escalation.model_validate_json(to_json_bytes(esc)) == esc
    assert esc.kafka_key == "conv-8812"
    raised = escalation(state="raised", sla="complaint", deadline=None, level=2,
                        subject={"kind": "order", "id": "ord-1"})
    assert orjson.loads(to_json_bytes(raised))["deadline"] is None
    assert raised.kafka_key == "ord-1"


@pytest.mark.parametrize(
    "overrides",
    [{"level": 0}, {"level": 4}, {"level": "2"}, {"state": "late"}, {"sla": "eta"},
     {"subject": {"kind": "buyer", "id": "b"}}, {"fired_at": datetime(2026, 11, 22, 9, 30)}],
)
def test_escalation_rejects(overrides: dict) -> None:
    with pytest.raises(ValidationError):
        escalation(**overrides)


def test_notification_key_and_round_trip() -> None:
    note = Notification(notification_id=derive_id("n", "1"), shop_id="shop-demo",
                        audience="buyer", kind="shipped", channel="platform_im", locale="zh-CN",
                        text="亲，您的包裹已由中通快递发出", order_id="ord-1", buyer_id="b-1",
                        created_at=NOW)
    assert note.kafka_key == "ord-1"
    assert Notification.model_validate_json(to_json_bytes(note)) == note
    alert = note.model_copy(update={"order_id": None, "conversation_id": "conv-1"})
    assert alert.kafka_key == "conv-1"


def dead_letter(data: bytes) -> DeadLetter:
    return DeadLetter.from_bytes(data, reason=DlqReason.INVALID_JSON, detail="not JSON",
                                 source_topic="kefu.inbound", partition=3, offset=1042,
                                 service="router", failed_at=NOW)


def test_dead_letter_keeps_utf8_as_text() -> None:
    letter = dead_letter("{不是JSON".encode())
    assert letter.raw == "{不是JSON" and letter.raw_encoding is None
    assert letter.raw_bytes() == "{不是JSON".encode()


def test_dead_letter_base64_for_non_utf8() -> None:
    data = b"\xff\xfe\x00garbage"
    letter = dead_letter(data)
    assert letter.raw_encoding == "base64"
    assert base64.b64decode(letter.raw) == data and letter.raw_bytes() == data
    out = orjson.loads(to_json_bytes(letter))
    assert out["raw_encoding"] == "base64" and out["reason"] == "invalid_json"
    assert (out["partition"], out["offset"], out["service"]) == (3, 1042, "router")
    assert DeadLetter.model_validate_json(to_json_bytes(letter)) == letter


def test_a_dead_letters_detail_masks_the_phone_and_address_it_quotes() -> None:
    from aiokafka import ConsumerRecord

    from services.core.dlq import dead_letter as letter_of

    raw = "买家13812345678，地址文三路100号3栋201室".encode()
    record = ConsumerRecord("kefu.inbound", 2, 7, 0, 0, b"k", raw, None, 0, len(raw), [])
    detail = "unknown 'event_type': 买家 138-1234-5678 住文三路100号3栋201室"
    out = orjson.loads(letter_of(record, reason="unknown_event_type", detail=detail,
                                 service="router").value)
    assert "1234" not in out["detail"] and "201室" not in out["detail"]
    assert out["detail"].startswith("unknown 'event_type'")
    assert out["raw"] == raw.decode(), "the original bytes stay as sent, for replay"


def test_derive_id_is_stable_and_distinct() -> None:
    first = derive_id("escalation", "shop-demo", "conv-8812", "first_response", "1")
    assert first == derive_id("escalation", "shop-demo", "conv-8812", "first_response", "1")
    assert uuid.UUID(first).version == 5
    assert first != derive_id("escalation", "shop-demo", "conv-8812", "first_response", "2")
    assert derive_id("a:b", "c") != derive_id("a", "b:c")
    assert derive_id("ab", "c") != derive_id("a", "bc")
    with pytest.raises(ValueError):
        derive_id()


def test_topics() -> None:
    assert len(set(ALL_TOPICS)) == len(ALL_TOPICS) == 8
    assert role_topic(Role.PRESALE) == "kefu.role.presale"
    assert role_topic("aftersale") == "kefu.role.aftersale" in ALL_TOPICS
    with pytest.raises(ValueError):
        role_topic("cashier")
    groups = [ROLE_EVENT_TYPES, SUPERVISOR_EVENT_TYPES, ROUTER_EVENT_TYPES, ORDER_EVENT_TYPES]
    assert set().union(*groups) == set(EventType)
    assert sum(map(len, groups)) == len(EventType)  # each type in one group


def test_intent_rank_follows_actionability() -> None:
    order = ["greeting", "product_inquiry", "bargaining", "order_change", "urge_shipment",
             "logistics_inquiry", "return_refund", "quality_issue", "complaint"]
    assert [i.value for i in sorted(Intent, key=lambda i: i.rank)] == order
    assert max([Intent.GREETING, Intent.COMPLAINT, Intent.BARGAINING], key=lambda i: i.rank) \
        is Intent.COMPLAINT
    assert Priority.NORMAL.rank < Priority.HIGH.rank < Priority.URGENT.rank


OUTPUT_FILES = ["outputs/routed_event.json", "outputs/assignment.json",
                "outputs/escalation.json", "outputs/notification.json",
                "outputs/dead_letter.json"]


def test_json_schemas_cover_every_message() -> None:
    schemas = json_schemas()
    expected = {f"inbound/{t}.json" for t in EventType} | set(OUTPUT_FILES)
    assert expected | {"inbound/envelope.json"} <= set(schemas)
    for t in EventType:
        schema = schemas[f"inbound/{t}.json"]
        assert schema["properties"]["event_type"]["const"] == t.value
        assert schema["examples"] == [example(t)]
        assert schema["additionalProperties"] is True
    assert schemas["outputs/escalation.json"]["properties"]["level"]["maximum"] == 3


def test_write_json_schemas(tmp_path) -> None:
    written = write_json_schemas(tmp_path)
    assert {p.relative_to(tmp_path).as_posix() for p in written} == set(json_schemas())
    for path in written:
        assert orjson.loads(path.read_bytes())["$schema"].startswith("https://json-schema.org/")


@given(st.binary(max_size=3000) | st.text(max_size=1000).map(str.encode),
       st.integers(min_value=16, max_value=2000))
def test_a_dead_letter_keeps_what_fits_its_limit_once_written_as_json(raw, limit) -> None:
    letter = DeadLetter.from_bytes(raw, reason=DlqReason.INVALID_JSON, detail="x",
                                   source_topic="t", partition=0, offset=0, service="s",
                                   failed_at=datetime(2026, 12, 4, tzinfo=UTC),
                                   max_raw_bytes=limit)
    assert len(orjson.dumps(letter.raw)) <= limit
    kept = letter.raw_bytes()
    assert raw.startswith(kept)
    if letter.raw_truncated:
        assert letter.raw_size == len(raw) and len(kept) < len(raw)
    else:
        assert kept == raw and letter.raw_size is None


def test_control_characters_that_json_escapes_sixfold_are_kept_as_base64() -> None:
    raw = b"\x01" * 350_000
    letter = DeadLetter.from_bytes(raw, reason=DlqReason.INVALID_JSON, detail="x",
                                   source_topic="t", partition=0, offset=0, service="s",
                                   failed_at=datetime(2026, 12, 4, tzinfo=UTC),
                                   max_raw_bytes=1024 * 1024)
    assert letter.raw_encoding == "base64" and letter.raw_bytes() == raw
    assert len(orjson.dumps(letter.model_dump(mode="json"))) < 1024 * 1024
