"""Operator policy: per-shop SLAs, business hours, notification and routing settings.

``load_policy(path)`` reads and validates a policy file (or the built-in defaults), and
``Policy.for_shop(shop_id)`` gives a shop's effective, fully typed ``ShopPolicy``.
"""

from services.core.policy.errors import PolicyError
from services.core.policy.loader import (
    Policy,
    deep_merge,
    load_policy,
    parse_policy,
)
from services.core.policy.model import (
    INTENTS,
    AnalyticsPolicy,
    AssignmentPolicy,
    IngestPolicy,
    ResponseSla,
    RoutingPolicy,
    ShopPolicy,
    SlaPolicy,
)
from services.core.policy.notify import (
    ChannelsPolicy,
    LogisticsUpdatesPolicy,
    NotifyPolicy,
    WebhookPolicy,
)

__all__ = [
    "INTENTS",
    "AnalyticsPolicy",
    "AssignmentPolicy",
    "ChannelsPolicy",
    "IngestPolicy",
    "LogisticsUpdatesPolicy",
    "NotifyPolicy",
    "Policy",
    "PolicyError",
    "ResponseSla",
    "RoutingPolicy",
    "ShopPolicy",
    "SlaPolicy",
    "WebhookPolicy",
    "deep_merge",
    "load_policy",
    "parse_policy",
]
