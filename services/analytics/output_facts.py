"""One row per fact of the services' output topics (pure): escalations, assignments,
notifications and dead letters."""

from __future__ import annotations

from typing import Any

import orjson

from contracts import Assignment, DeadLetter, Escalation, Notification
from services.analytics.facts import Row, digest
from services.analytics.timefmt import ch_time, ch_time_or_none


def escalation_row(esc: Escalation) -> Row:
    return {
        "shop_id": esc.shop_id,
        "fired_at": ch_time(esc.fired_at),
        "escalation_id": esc.escalation_id,
        "role": esc.role.value,
        "subject_kind": esc.subject.kind.value,
        "subject_id": esc.subject.id,
        "sla": esc.sla.value,
        "level": esc.level,
        "state": esc.state.value,
        "deadline": ch_time_or_none(esc.deadline),
        "resolved_at": ch_time_or_none(esc.resolved_at),
        "action": esc.action or "",
    }


def assignment_row(item: Assignment) -> Row:
    row = {
        "shop_id": item.shop_id,
        "at": ch_time(item.at),
        "conversation_id": item.conversation_id,
        "role": item.role.value,
        "agent_id": item.agent_id or "",
        "reason": item.reason.value,
    }
    return {**row, "assignment_id": digest(*row.values())}


def notification_row(note: Notification) -> Row:
    return {
        "shop_id": note.shop_id,
        "created_at": ch_time(note.created_at),
        "notification_id": note.notification_id,
        "audience": note.audience.value,
        "kind": note.kind.value,
        "channel": note.channel,
        "locale": note.locale,
        "order_id": note.order_id or "",
        "conversation_id": note.conversation_id or "",
    }


def dead_letter_row(letter: DeadLetter) -> Row:
    original = _json_object(letter.raw_bytes()) if letter.raw_encoding is None else {}
    shop = original.get("shop_id")
    event_type = original.get("event_type")
    return {
        "shop_id": shop if isinstance(shop, str) and 0 < len(shop) <= 64 else "",
        "failed_at": ch_time(letter.failed_at),
        "letter_id": digest(letter.service, letter.source_topic, str(letter.partition),
                            str(letter.offset), letter.reason.value, letter.raw),
        "service": letter.service,
        "reason": letter.reason.value,
        "source_topic": letter.source_topic,
        "partition": letter.partition,
        "offset": letter.offset,
        "event_type": event_type if isinstance(event_type, str) else "",
        "detail": letter.detail[:500],
    }


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}
