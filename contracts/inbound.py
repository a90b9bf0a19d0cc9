"""Parsing inbound messages from `kefu.inbound`, and their Kafka keys."""

from __future__ import annotations

from collections.abc import Container
from typing import Any

from pydantic import ValidationError

from .codec import InvalidEvent, decode_object, invalid_from
from .codec import to_json_bytes as to_json_bytes  # re-exported
from .enums import DlqReason, EventType
from .envelopes import EVENT_MODELS, INBOUND_ADAPTER, SCHEMA_VERSION, Envelope, InboundEvent
from .topics import ROLE_EVENT_TYPES


def check_envelope_header(data: dict[str, Any], known: Container[str]) -> None:
    """Checks made before validation, in this order: a newer `schema_version`
    (unsupported_schema_version), a missing or non-string `event_type` (schema_violation),
    an unknown `event_type` (unknown_event_type).
    """
    version = data.get("schema_version")
    if type(version) is int and version > SCHEMA_VERSION:
        raise InvalidEvent(
            DlqReason.UNSUPPORTED_SCHEMA_VERSION,
            f"schema_version: {version} is not supported (this service knows {SCHEMA_VERSION})",
        )
    if "event_type" not in data:
        raise InvalidEvent(DlqReason.SCHEMA_VIOLATION, "event_type: Field required")
    event_type = data["event_type"]
    if not isinstance(event_type, str):
        raise InvalidEvent(DlqReason.SCHEMA_VIOLATION, "event_type: Input should be a string")
    if event_type not in known:
        raise InvalidEvent(DlqReason.UNKNOWN_EVENT_TYPE, f"event_type: unknown {event_type!r}")


def parse_inbound(raw: bytes) -> InboundEvent:
    """Decode and validate one inbound message. Raises InvalidEvent with a DLQ reason."""
    return parse_inbound_document(raw)[0]


def parse_inbound_document(raw: bytes) -> tuple[InboundEvent, dict[str, Any]]:
    """Like `parse_inbound`, also returning the decoded JSON object exactly as sent, so
    a valid event can be passed on without re-serialising it."""
    data = decode_object(raw)
    check_envelope_header(data, EVENT_MODELS)
    try:
        return INBOUND_ADAPTER.validate_python(data), data
    except ValidationError as exc:
        raise invalid_from(exc, skip=1) from None  # skip the union tag in error locations


def event_key(event: Envelope) -> str:
    """Kafka key of an inbound event (docs/contract.md, "Kafka keys and partitions"):
    `agent_id` for agent.status, `conversation_id` for other conversation events,
    `order_id` for order, logistics, after-sale and review events (`case_id` for an
    aftersale.updated without order_id); the subject's id for escalation.acknowledged,
    `script_id` for reply_script.published.
    """
    payload = event.payload
    if event.event_type == EventType.AGENT_STATUS:
        return payload.agent_id
    if event.event_type == EventType.ESCALATION_ACKNOWLEDGED:
        return payload.subject.id
    if event.event_type == EventType.REPLY_SCRIPT_PUBLISHED:
        return payload.script_id
    if event.event_type == EventType.CONVERSATION_REASSIGNED:
        return payload.conversation_id
    if event.event_type in ROLE_EVENT_TYPES:
        return payload.conversation_id
    if event.event_type == EventType.AFTERSALE_UPDATED:
        return payload.order_id or payload.case_id
    return payload.order_id
