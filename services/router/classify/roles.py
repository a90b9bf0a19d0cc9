"""Role and priority for an intent: the contract's routing table, as a pure function."""

from __future__ import annotations

from contracts.enums import OrderStage, Role

from .lexicon import INTENTS

ROLES = tuple(role.value for role in Role)
ORDER_STAGES = tuple(stage.value for stage in OrderStage)
SHIPPED_STAGES = frozenset({"shipped", "delivered", "aftersale_open"})
AFTERSALE_INTENTS = frozenset({"return_refund", "quality_issue", "complaint"})
_STAGE_DEPENDENT = frozenset({"order_change", "logistics_inquiry"})
_KNOWN = frozenset(INTENTS)
_PRIORITY = {"quality_issue": "high", "complaint": "urgent"}


def decide_role(
    intent: str, order_stage: str | None = None, sticky_role: str | None = None
) -> tuple[str, str]:
    """Return (role, priority) for a buyer message of `intent`.

    - An after-sale conversation (sticky role `aftersale`) stays after-sale.
    - greeting keeps the conversation's sticky role, else presale.
    - return_refund, quality_issue (priority high), complaint (urgent): aftersale.
    - order_change, logistics_inquiry: aftersale once the order is shipped, delivered
      or has an after-sale case open; presale before that or when the stage is unknown.
    - product_inquiry, bargaining, urge_shipment: presale.
    Unknown stages count as unknown; an unknown intent raises ValueError.
    """
    if intent not in _KNOWN:
        raise ValueError(f"unknown intent {intent!r}")
    priority = _PRIORITY.get(intent, "normal")
    if sticky_role == "aftersale":
        return "aftersale", priority
    if intent == "greeting":
        return (sticky_role if sticky_role in ROLES else "presale"), priority
    if intent in AFTERSALE_INTENTS:
        return "aftersale", priority
    if intent in _STAGE_DEPENDENT and order_stage in SHIPPED_STAGES:
        return "aftersale", priority
    return "presale", priority
