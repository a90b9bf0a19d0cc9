"""Records of the consumed topics -> contract models, by topic. Anything invalid raises
`InvalidEvent` with its DLQ reason (the handler dead-letters it)."""

from __future__ import annotations

from functools import partial
from typing import Any, NamedTuple

from pydantic import BaseModel, ValidationError

from contracts import (
    Assignment,
    DeadLetter,
    Escalation,
    InvalidEvent,
    Notification,
    parse_inbound,
    parse_routed,
    topics,
)
from contracts.codec import decode_object, invalid_from
from contracts.enums import DlqReason

ROLE_TOPICS = {topics.ROLE_PRESALE: "presale", topics.ROLE_AFTERSALE: "aftersale"}
OUTPUT_MODELS: dict[str, type[BaseModel]] = {
    topics.ASSIGNMENTS: Assignment,
    topics.ESCALATIONS: Escalation,
    topics.NOTIFICATIONS: Notification,
    topics.DLQ: DeadLetter,
}
CONSUMED = (*ROLE_TOPICS, topics.ORDERS, *OUTPUT_MODELS)
"""Every topic analytics reads."""


class Parsed(NamedTuple):
    topic: str
    model: Any  # a routed event, an inbound order event or an output message


def parse_record(topic: str, raw: bytes) -> Parsed:
    if topic in ROLE_TOPICS:
        return Parsed(topic, parse_routed(raw))
    if topic == topics.ORDERS:
        event = parse_inbound(raw)
        if event.event_type not in topics.ORDER_EVENT_TYPES:
            raise InvalidEvent(DlqReason.UNKNOWN_EVENT_TYPE,
                               f"event_type: {event.event_type} does not belong on {topic}")
        return Parsed(topic, event)
    model = OUTPUT_MODELS.get(topic)
    if model is None:
        raise InvalidEvent(DlqReason.PROCESSING_ERROR, f"analytics does not read {topic}")
    try:
        return Parsed(topic, model.model_validate(decode_object(raw)))
    except ValidationError as exc:
        raise invalid_from(exc) from None


PARSERS = {topic: partial(parse_record, topic) for topic in CONSUMED}
"""How each consumed topic is read (`InputStage.read_batch`)."""
