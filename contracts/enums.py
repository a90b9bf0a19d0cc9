"""Closed vocabularies of the kefu wire contract. Values are the strings on the wire."""

from __future__ import annotations

from enum import StrEnum


class Platform(StrEnum):
    TAOBAO = "taobao"
    TMALL = "tmall"
    JD = "jd"
    DOUYIN = "douyin"
    PDD = "pdd"
    OTHER = "other"


class EventType(StrEnum):
    """Every inbound event type accepted on `kefu.inbound`."""

    BUYER_MESSAGE = "buyer.message"
    AGENT_MESSAGE = "agent.message"
    AGENT_STATUS = "agent.status"
    CONVERSATION_CLOSED = "conversation.closed"
    ORDER_CREATED = "order.created"
    ORDER_PAID = "order.paid"
    ORDER_CHANGED = "order.changed"
    ORDER_SHIPPED = "order.shipped"
    ORDER_DELAYED = "order.delayed"
    ORDER_CANCELLED = "order.cancelled"
    LOGISTICS_UPDATE = "logistics.update"
    AFTERSALE_REQUESTED = "aftersale.requested"
    AFTERSALE_UPDATED = "aftersale.updated"
    REVIEW_POSTED = "review.posted"
    ESCALATION_ACKNOWLEDGED = "escalation.acknowledged"
    CONVERSATION_REASSIGNED = "conversation.reassigned"
    REPLY_SCRIPT_PUBLISHED = "reply_script.published"


class Role(StrEnum):
    PRESALE = "presale"
    AFTERSALE = "aftersale"


class AgentStatus(StrEnum):
    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


class Intent(StrEnum):
    """Buyer intents, declared from least to most actionable: the highest `rank` wins."""

    GREETING = "greeting"
    PRODUCT_INQUIRY = "product_inquiry"
    BARGAINING = "bargaining"
    ORDER_CHANGE = "order_change"
    URGE_SHIPMENT = "urge_shipment"
    LOGISTICS_INQUIRY = "logistics_inquiry"
    RETURN_REFUND = "return_refund"
    QUALITY_ISSUE = "quality_issue"
    COMPLAINT = "complaint"

    @property
    def rank(self) -> int:
        """Actionability: 0 for greeting up to 8 for complaint."""
        return _INTENT_RANK[self]


class ScriptLocale(StrEnum):
    """Languages of a reply script (and of the buyer it is suggested to)."""

    ZH_CN = "zh-CN"
    EN = "en"


class Priority(StrEnum):
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"

    @property
    def rank(self) -> int:
        """0 normal, 1 high, 2 urgent."""
        return _PRIORITY_RANK[self]


class SlaKind(StrEnum):
    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    SHIP_BY = "ship_by"
    ORDER_CHANGE_CONFIRMATION = "order_change_confirmation"
    AFTERSALE_RESPONSE = "aftersale_response"
    LOGISTICS_STALLED = "logistics_stalled"
    COMPLAINT = "complaint"
    NEGATIVE_REVIEW = "negative_review"
    PLATFORM_INTERVENED = "platform_intervened"


class EscalationState(StrEnum):
    WARNING = "warning"  # before the deadline
    BREACHED = "breached"  # at or after the deadline
    RAISED = "raised"  # escalates at once: complaint, negative review, platform intervention
    RETRACTED = "retracted"  # a published warning or breach was false: the clock had stopped
    RESOLVED = "resolved"  # the clock stopped after its breach (`resolved_at` says when)


class SubjectKind(StrEnum):
    CONVERSATION = "conversation"
    ORDER = "order"
    CASE = "case"


class AssignmentReason(StrEnum):
    STICKY = "sticky"
    LEAST_LOADED = "least_loaded"
    REASSIGNED_AFTER_BREACH = "reassigned_after_breach"
    QUEUED_NO_CAPACITY = "queued_no_capacity"
    REASSIGNED_BY_SUPERVISOR = "reassigned_by_supervisor"


class NotificationKind(StrEnum):
    SHIPPED = "shipped"
    LOGISTICS_UPDATE = "logistics_update"
    DELAY_NOTICE = "delay_notice"
    STALLED_PARCEL = "stalled_parcel"
    DELIVERED = "delivered"
    ESCALATION_ALERT = "escalation_alert"
    ESCALATION_RETRACTED = "escalation_retracted"


class Audience(StrEnum):
    BUYER = "buyer"
    SUPERVISOR = "supervisor"


class OrderStage(StrEnum):
    """Where an order is in its life (service state, not a wire field)."""

    CREATED = "created"
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    AFTERSALE_OPEN = "aftersale_open"


class LogisticsStatus(StrEnum):
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    EXCEPTION = "exception"
    RETURNED = "returned"


class AftersaleKind(StrEnum):
    REFUND_ONLY = "refund_only"
    RETURN_REFUND = "return_refund"
    EXCHANGE = "exchange"
    REISSUE = "reissue"


class AftersaleStatus(StrEnum):
    AGREED = "agreed"
    REJECTED = "rejected"
    RETURNED_GOODS_RECEIVED = "returned_goods_received"
    REFUNDED = "refunded"
    CLOSED = "closed"
    PLATFORM_INTERVENED = "platform_intervened"


class OrderChangeKind(StrEnum):
    ADDRESS = "address"
    ITEMS = "items"
    QUANTITY = "quantity"
    OTHER = "other"


class DlqReason(StrEnum):
    """Machine code of a dead letter on `kefu.dlq`."""

    INVALID_JSON = "invalid_json"
    INVALID_ENCODING = "invalid_encoding"
    SCHEMA_VIOLATION = "schema_violation"
    UNSUPPORTED_SCHEMA_VERSION = "unsupported_schema_version"
    UNKNOWN_EVENT_TYPE = "unknown_event_type"
    NAIVE_TIMESTAMP = "naive_timestamp"
    OVERSIZE = "oversize"
    DELIVERY_FAILED = "delivery_failed"
    PROCESSING_ERROR = "processing_error"


_INTENT_RANK = {intent: rank for rank, intent in enumerate(Intent)}
_PRIORITY_RANK = {priority: rank for rank, priority in enumerate(Priority)}
