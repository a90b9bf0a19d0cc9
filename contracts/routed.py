"""Messages on the role topics `kefu.role.presale` and `kefu.role.aftersale`:
an inbound envelope plus the router's optional `routing` block.
"""

from __future__ import annotations

from typing import Annotated, get_args

from pydantic import Field, TypeAdapter, ValidationError

from . import envelopes as e
from .base import Id, OpenModel, Timestamp
from .codec import decode_object, invalid_from
from .enums import EventType, Intent, Priority, Role
from .inbound import check_envelope_header


class SuggestedReply(OpenModel):
    """A shop's current reply script for the message's intent, in the buyer's language."""

    script_id: Id
    text: str


class Routing(OpenModel):
    """The router's decision for a buyer message."""

    intent: Intent = Field(description="the most actionable intent found")
    role: Role
    priority: Priority
    confidence: float = Field(strict=True, ge=0, le=1)
    reason: str = Field(description="why, for humans: matched keywords, sticky role, ...")
    routed_at: Timestamp
    suggested_replies: list[SuggestedReply] | None = Field(
        None, max_length=3, description="up to 3 of the shop's reply scripts (统一回复口径) for "
        "the intent, in the buyer's language, newest first; absent when the shop has none")


class RoutedBuyerMessage(e.BuyerMessageEvent):
    """A `buyer.message` envelope plus the router's `routing`."""

    routing: Routing | None = None


class RoutedAgentMessage(e.AgentMessageEvent):
    """An `agent.message` envelope forwarded to the conversation's current role."""

    routing: Routing | None = None


class RoutedAgentStatus(e.AgentStatusEvent):
    """An `agent.status` envelope forwarded to each role the agent serves."""

    routing: Routing | None = None


class RoutedConversationClosed(e.ConversationClosedEvent):
    """A `conversation.closed` envelope forwarded to the conversation's current role."""

    routing: Routing | None = None


class RoutedEscalationAcknowledged(e.EscalationAcknowledgedEvent):
    """An `escalation.acknowledged` forwarded to the role that owns the deadline."""

    routing: Routing | None = None


class RoutedConversationReassigned(e.ConversationReassignedEvent):
    """A `conversation.reassigned` forwarded to the conversation's role."""

    routing: Routing | None = None


RoutedEvent = Annotated[
    RoutedBuyerMessage | RoutedAgentMessage | RoutedAgentStatus | RoutedConversationClosed
    | RoutedEscalationAcknowledged | RoutedConversationReassigned,
    Field(discriminator="event_type"),
]
"""A message on a role topic: an inbound envelope plus optional `routing`."""

ROUTED_ADAPTER: TypeAdapter[RoutedEvent] = TypeAdapter(RoutedEvent)
ROUTED_MODELS: dict[EventType, type[e.Envelope]] = {
    get_args(model.model_fields["event_type"].annotation)[0]: model
    for model in get_args(get_args(RoutedEvent)[0])
}
"""The routed model of each event type that goes to a role topic."""


def with_routing(event: e.Envelope, routing: Routing | None = None) -> RoutedEvent:
    """The routed form of a role-topic event (extra fields kept); no re-validation."""
    values = {**(event.model_extra or {}), **event.__dict__, "routing": routing}
    return ROUTED_MODELS[event.event_type].model_construct(**values)  # type: ignore[return-value]


def parse_routed(raw: bytes) -> RoutedEvent:
    """Decode and validate a role-topic message. Raises InvalidEvent like parse_inbound."""
    data = decode_object(raw)
    check_envelope_header(data, ROUTED_MODELS)
    try:
        return ROUTED_ADAPTER.validate_python(data)
    except ValidationError as exc:
        raise invalid_from(exc, skip=1) from None
