"""One payload model per inbound event type (docs/contract.md, "Inbound event types").

Required fields have no default. Every model keeps unknown extra fields.
"""

from __future__ import annotations

from pydantic import Field

from .base import Id, Money, OpenModel, StrictInt, Timestamp
from .enums import (
    AftersaleKind,
    AftersaleStatus,
    AgentStatus,
    Intent,
    LogisticsStatus,
    OrderChangeKind,
    Role,
    ScriptLocale,
    SubjectKind,
)


class Attachment(OpenModel):
    """A file the buyer sent in chat (image, video, ...)."""

    type: str | None = Field(None, description="e.g. image, video, file")
    url: str | None = None


class OrderItem(OpenModel):
    """One line of an order. All fields are optional; send what the platform gives, and
    `item_id` above all: analytics counts products by it."""

    item_id: Id | None = Field(None, description="the product (listing) id on the platform")
    title: str | None = Field(None, description="the product title")
    sku: str | None = None
    name: str | None = None
    quantity: StrictInt | None = Field(None, ge=1)
    price: Money | None = Field(None, description="unit price")


class BuyerMessage(OpenModel):
    """A buyer wrote in chat."""

    conversation_id: Id
    buyer_id: Id
    message_id: Id
    text: str
    order_id: Id | None = Field(None, description="order the chat is about, if known")
    attachments: list[Attachment] = Field(default_factory=list)
    item_id: Id | None = Field(
        None, description="the product the buyer asks about (the chat's product card)"
    )


class AgentMessage(OpenModel):
    """An agent replied; stops the conversation's response clocks."""

    conversation_id: Id
    agent_id: Id
    message_id: Id
    text: str
    script_id: Id | None = Field(None, description="the reply script the agent used, if any")


class AgentStatusChange(OpenModel):
    """Presence and capacity of an agent."""

    agent_id: Id
    roles: list[Role] = Field(min_length=1, description="roles the agent serves")
    status: AgentStatus
    max_concurrent: StrictInt = Field(5, ge=1, description="open conversations at most")


class ConversationClosed(OpenModel):
    """A conversation finished."""

    conversation_id: Id
    closed_by: str | None = Field(None, description="who closed it: buyer, an agent id, system")


class OrderCreated(OpenModel):
    """An order was placed."""

    order_id: Id
    buyer_id: Id
    items: list[OrderItem] = Field(default_factory=list)
    amount: Money | None = Field(None, description="order total")
    promised_ship_by: Timestamp | None = Field(None, description="ship-by deadline promised")


class OrderPaid(OrderCreated):
    """An order was paid; starts the ship-by clock (`promised_ship_by` or the shop default)."""


class OrderChanged(OpenModel):
    """An order modification."""

    order_id: Id
    change: OrderChangeKind
    awaiting_buyer_confirmation: bool | None = Field(None, strict=True)


class OrderShipped(OpenModel):
    """The parcel left the warehouse."""

    order_id: Id
    carrier: Id
    tracking_no: Id


class OrderDelayed(OpenModel):
    """The shop knows it will ship late (out of stock, ...)."""

    order_id: Id
    reason: str
    new_ship_by: Timestamp


class OrderCancelled(OpenModel):
    """An order was cancelled."""

    order_id: Id
    reason: str | None = None


class LogisticsUpdate(OpenModel):
    """A carrier scan."""

    order_id: Id
    tracking_no: Id
    status: LogisticsStatus
    description: str | None = None
    location: str | None = None


class AftersaleRequested(OpenModel):
    """The buyer opened an after-sale case."""

    case_id: Id
    order_id: Id
    buyer_id: Id
    kind: AftersaleKind
    reason: str | None = None
    amount: Money | None = Field(None, description="amount claimed")
    respond_by: Timestamp | None = Field(None, description="the platform's response deadline")
    item_id: Id | None = Field(None, description="the product the case is about")


class AftersaleUpdated(OpenModel):
    """Progress of an after-sale case; `refunded` and `closed` stop its clocks."""

    case_id: Id
    status: AftersaleStatus
    order_id: Id | None = Field(
        None, description="the case's order; send it so the case keeps its order's Kafka key"
    )


class ReviewPosted(OpenModel):
    """A rating; 1-2 stars is a negative review."""

    order_id: Id
    buyer_id: Id
    rating: StrictInt = Field(ge=1, le=5)
    text: str | None = None
    item_id: Id | None = Field(None, description="the product reviewed")


# --- supervisor actions (the console; docs/contract.md, "Inbound event types") ------


class EscalationSubject(OpenModel):
    """What the acknowledged escalation is about (as on `kefu.escalations`)."""

    kind: SubjectKind
    id: Id = Field(description="conversation_id, order_id or case_id")


class EscalationAcknowledged(OpenModel):
    """A supervisor took charge of an escalation: the role service raises no further
    level for its deadline."""

    escalation_id: Id
    subject: EscalationSubject
    role: Role = Field(description="the role service that owns the deadline")
    by: Id = Field(description="who acknowledged it (the console user)")
    note: str | None = None


class ConversationReassigned(OpenModel):
    """A supervisor moved a conversation to another agent of its role."""

    conversation_id: Id
    role: Role
    to_agent_id: Id
    by: Id = Field(description="who reassigned it (the console user)")
    reason: str | None = None


class ReplyScriptPublished(OpenModel):
    """A unified reply script (统一回复口径) for one intent and language, or its retirement."""

    script_id: Id
    intent: Intent
    locale: ScriptLocale
    text: str = Field(min_length=1, max_length=2000)
    by: Id = Field(description="who published it (the console user)")
    retired: bool = Field(False, strict=True, description="true: agents no longer see it")
