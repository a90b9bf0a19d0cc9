"""The inbound events a supervisor's clicks become (pure): contract-valid envelopes for
`kefu.inbound`, checked against the contract before they are published."""

from __future__ import annotations

import uuid
from datetime import datetime

import orjson

from contracts import INBOUND_ADAPTER, EventType, event_key


def _envelope(kind: EventType, shop: str, payload: dict, now: datetime) -> tuple[str, bytes]:
    """(Kafka key, body); raises pydantic's ValidationError on anything off-contract."""
    body = {"event_id": f"console-{uuid.uuid4()}", "event_type": kind.value,
            "schema_version": 1, "occurred_at": now.isoformat(), "shop_id": shop,
            "platform": "other", "payload": payload}
    event = INBOUND_ADAPTER.validate_python(body)
    return event_key(event), orjson.dumps(body)


def acknowledgement(escalation: dict, by: str, now: datetime,
                    note: str | None = None) -> tuple[str, bytes]:
    """Acknowledge an escalation as it was on the topic."""
    return _envelope(EventType.ESCALATION_ACKNOWLEDGED, escalation["shop_id"], {
        "escalation_id": escalation["escalation_id"], "subject": escalation["subject"],
        "role": escalation["role"], "by": by, **({"note": note} if note else {})}, now)


def reassignment(shop: str, conversation_id: str, role: str, to_agent_id: str, by: str,
                 now: datetime) -> tuple[str, bytes]:
    return _envelope(EventType.CONVERSATION_REASSIGNED, shop, {
        "conversation_id": conversation_id, "role": role, "to_agent_id": to_agent_id,
        "by": by}, now)


def script_published(shop: str, script: dict, by: str, now: datetime,
                     retired: bool = False) -> tuple[str, bytes]:
    return _envelope(EventType.REPLY_SCRIPT_PUBLISHED, shop, {
        "script_id": script["script_id"], "intent": script["intent"],
        "locale": script["locale"], "text": script["text"], "by": by, "retired": retired}, now)


def new_script_id() -> str:
    return f"script-{uuid.uuid4().hex[:12]}"
