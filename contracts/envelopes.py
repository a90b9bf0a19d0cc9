"""Inbound envelope models on `kefu.inbound`: one per event type, discriminated by `event_type`."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import Field, TypeAdapter

from . import payloads as p
from .base import Id, OpenModel, Timestamp
from .enums import EventType, Platform

SCHEMA_VERSION = 1


class Envelope(OpenModel):
    """Fields every inbound event carries; `payload` depends on `event_type`."""

    event_id: Id = Field(max_length=128, description="producer-unique; the idempotency key")
    event_type: EventType
    schema_version: int = Field(
        strict=True, ge=SCHEMA_VERSION, le=SCHEMA_VERSION, json_schema_extra={"const": 1}
    )
    occurred_at: Timestamp = Field(description="when it happened at the source")
    shop_id: Id = Field(max_length=64, description="tenant")
    platform: Platform
    payload: OpenModel = Field(description="an object; its fields depend on `event_type`")
    trace_id: str | None = Field(None, description="carried through every derived event")


class BuyerMessageEvent(Envelope):
    """`buyer.message`: a buyer wrote in chat."""

    event_type: Literal[EventType.BUYER_MESSAGE]
    payload: p.BuyerMessage


class AgentMessageEvent(Envelope):
    """`agent.message`: an agent replied (stops response clocks)."""

    event_type: Literal[EventType.AGENT_MESSAGE]
    payload: p.AgentMessage


class AgentStatusEvent(Envelope):
    """`agent.status`: presence and capacity of an agent."""

    event_type: Literal[EventType.AGENT_STATUS]
    payload: p.AgentStatusChange


class ConversationClosedEvent(Envelope):
    """`conversation.closed`: a conversation finished."""

    event_type: Literal[EventType.CONVERSATION_CLOSED]
    payload: p.ConversationClosed


class OrderCreatedEvent(Envelope):
    """`order.created`: an order was placed."""

    event_type: Literal[EventType.ORDER_CREATED]
    payload: p.OrderCreated


class OrderPaidEvent(Envelope):
    """`order.paid`: an order was paid; starts the ship-by clock."""

    event_type: Literal[EventType.ORDER_PAID]
    payload: p.OrderPaid


class OrderChangedEvent(Envelope):
    """`order.changed`: an order modification."""

    event_type: Literal[EventType.ORDER_CHANGED]
    payload: p.OrderChanged


class OrderShippedEvent(Envelope):
    """`order.shipped`: the parcel left the warehouse."""

    event_type: Literal[EventType.ORDER_SHIPPED]
    payload: p.OrderShipped


class OrderDelayedEvent(Envelope):
    """`order.delayed`: the shop knows it will ship late."""

    event_type: Literal[EventType.ORDER_DELAYED]
    payload: p.OrderDelayed


class OrderCancelledEvent(Envelope):
    """`order.cancelled`: an order was cancelled."""

    event_type: Literal[EventType.ORDER_CANCELLED]
    payload: p.OrderCancelled


class LogisticsUpdateEvent(Envelope):
    """`logistics.update`: a carrier scan."""

    event_type: Literal[EventType.LOGISTICS_UPDATE]
    payload: p.LogisticsUpdate


class AftersaleRequestedEvent(Envelope):
    """`aftersale.requested`: the buyer opened an after-sale case."""

    event_type: Literal[EventType.AFTERSALE_REQUESTED]
    payload: p.AftersaleRequested


class AftersaleUpdatedEvent(Envelope):
    """`aftersale.updated`: progress of an after-sale case."""

    event_type: Literal[EventType.AFTERSALE_UPDATED]
    payload: p.AftersaleUpdated


class ReviewPostedEvent(Envelope):
    """`review.posted`: a rating; 1-2 stars is a negative review."""

    event_type: Literal[EventType.REVIEW_POSTED]
    payload: p.ReviewPosted


class EscalationAcknowledgedEvent(Envelope):
    """`escalation.acknowledged`: a supervisor took charge of an escalation."""

    event_type: Literal[EventType.ESCALATION_ACKNOWLEDGED]
    payload: p.EscalationAcknowledged


class ConversationReassignedEvent(Envelope):
    """`conversation.reassigned`: a supervisor moved a conversation to another agent."""

    event_type: Literal[EventType.CONVERSATION_REASSIGNED]
    payload: p.ConversationReassigned


class ReplyScriptPublishedEvent(Envelope):
    """`reply_script.published`: a shop's unified reply script, published or retired."""

    event_type: Literal[EventType.REPLY_SCRIPT_PUBLISHED]
    payload: p.ReplyScriptPublished


InboundEvent = Annotated[
    BuyerMessageEvent
    | AgentMessageEvent
    | AgentStatusEvent
    | ConversationClosedEvent
    | OrderCreatedEvent
    | OrderPaidEvent
    | OrderChangedEvent
    | OrderShippedEvent
    | OrderDelayedEvent
    | OrderCancelledEvent
    | LogisticsUpdateEvent
    | AftersaleRequestedEvent
    | AftersaleUpdatedEvent
    | ReviewPostedEvent
    | EscalationAcknowledgedEvent
    | ConversationReassignedEvent
    | ReplyScriptPublishedEvent,
    Field(discriminator="event_type"),
]
"""Any inbound event, discriminated by `event_type`."""

INBOUND_ADAPTER: TypeAdapter[InboundEvent] = TypeAdapter(InboundEvent)

EVENT_MODELS: dict[EventType, type[Envelope]] = {
    get_args(model.model_fields["event_type"].annotation)[0]: model
    for model in get_args(get_args(InboundEvent)[0])
}
"""The envelope model of each event type."""
