"""Kafka topic names of the kefu wire contract (docs/contract.md, "Topics")."""

from __future__ import annotations

from .enums import EventType, Role

INBOUND = "kefu.inbound"
"""Every inbound event from shops and platform integrators."""
ROLE_PRESALE = "kefu.role.presale"
ROLE_AFTERSALE = "kefu.role.aftersale"
ORDERS = "kefu.orders"
"""Validated order, logistics, after-sale and review envelopes."""
ASSIGNMENTS = "kefu.assignments"
ESCALATIONS = "kefu.escalations"
NOTIFICATIONS = "kefu.notifications"
DLQ = "kefu.dlq"
"""Dead letters: every message that could not be processed, with a reason."""

ALL_TOPICS: tuple[str, ...] = (
    INBOUND,
    ROLE_PRESALE,
    ROLE_AFTERSALE,
    ORDERS,
    ASSIGNMENTS,
    ESCALATIONS,
    NOTIFICATIONS,
    DLQ,
)

ROLE_EVENT_TYPES: frozenset[EventType] = frozenset(
    {
        EventType.BUYER_MESSAGE,
        EventType.AGENT_MESSAGE,
        EventType.AGENT_STATUS,
        EventType.CONVERSATION_CLOSED,
    }
)
"""Inbound types the router forwards to the role topics."""

SUPERVISOR_EVENT_TYPES: frozenset[EventType] = frozenset(
    {EventType.ESCALATION_ACKNOWLEDGED, EventType.CONVERSATION_REASSIGNED}
)
"""Supervisor actions the router forwards to the role topic their payload's `role` names."""

ROUTER_EVENT_TYPES: frozenset[EventType] = frozenset({EventType.REPLY_SCRIPT_PUBLISHED})
"""Inbound types the router keeps itself (a shop's reply scripts): forwarded nowhere."""

ORDER_EVENT_TYPES: frozenset[EventType] = frozenset(
    set(EventType) - ROLE_EVENT_TYPES - SUPERVISOR_EVENT_TYPES - ROUTER_EVENT_TYPES
)
"""Inbound types the router forwards to `kefu.orders` (order.*, logistics, after-sale, review)."""


def role_topic(role: Role | str) -> str:
    """Topic of a role: `role_topic("presale") == "kefu.role.presale"`.

    Raises ValueError for a role that is not a `Role`.
    """
    return f"kefu.role.{Role(role).value}"
