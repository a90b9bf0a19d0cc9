"""Messages the kefu services publish (docs/contract.md, "Output messages").

Role-topic messages (an envelope plus `routing`) are in `contracts.routed`.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Literal

import orjson
from pydantic import Field

from .base import Id, OpenModel, StrictInt, Timestamp
from .enums import (
    AssignmentReason,
    Audience,
    DlqReason,
    EscalationState,
    NotificationKind,
    Role,
    SlaKind,
    SubjectKind,
)

# --- kefu.assignments / kefu.escalations / kefu.notifications ---------------------------


class Assignment(OpenModel):
    """Who handles a conversation now; `agent_id` null means queued (no capacity)."""

    conversation_id: Id
    shop_id: Id
    role: Role
    agent_id: Id | None
    reason: AssignmentReason
    at: Timestamp
    trace_id: str | None = None

    @property
    def kafka_key(self) -> str:
        return self.conversation_id


class Subject(OpenModel):
    """What an escalation is about."""

    kind: SubjectKind
    id: Id = Field(description="conversation_id, order_id or case_id")


class Escalation(OpenModel):
    """A deadline warning or breach, or an event that escalates at once."""

    escalation_id: Id = Field(description="derived deterministically from its cause")
    shop_id: Id
    role: Role
    subject: Subject
    sla: SlaKind
    level: StrictInt = Field(ge=1, le=3, description="1 agent reminder, 2 supervisor, 3 manager")
    state: EscalationState
    deadline: Timestamp | None = Field(description="null for `raised` (no deadline)")
    fired_at: Timestamp
    trace_id: str | None = None
    action: str | None = Field(
        None, description="what the agent should do now, e.g. `ship_as_ordered` when an "
        "order change was not confirmed in time"
    )
    resolved_at: Timestamp | None = Field(
        None, description="`resolved` only: when the clock stopped (its stop event's "
        "occurred_at), after the deadline"
    )

    @property
    def kafka_key(self) -> str:
        return self.subject.id


class Notification(OpenModel):
    """A message to a buyer or a supervisor."""

    notification_id: Id = Field(description="derived deterministically from its cause")
    shop_id: Id
    audience: Audience
    kind: NotificationKind
    channel: Id = Field(description="delivery channel, e.g. platform_im, sms, webhook")
    locale: Id = Field(description="BCP 47, e.g. zh-CN")
    text: str
    order_id: Id | None = None
    buyer_id: Id | None = None
    created_at: Timestamp
    conversation_id: Id | None = Field(None, description="for alerts about a conversation")
    trace_id: str | None = None

    @property
    def kafka_key(self) -> str:
        return self.order_id or self.conversation_id or self.notification_id


# --- kefu.dlq ------------------------------------------------------------------------------


def _as_text(raw: bytes) -> tuple[str, str | None]:
    """UTF-8 text as is, anything else as base64."""
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError:
        return base64.b64encode(raw).decode("ascii"), "base64"


def _fits(text: str, encoding: str | None, limit: int) -> bool:
    """Does `raw` take at most `limit` bytes in the letter's JSON?"""
    return len(text) + 2 <= limit if encoding else len(orjson.dumps(text)) <= limit


def _text_prefix(raw: bytes, limit: int) -> str | None:
    """The longest UTF-8 prefix of `raw` whose JSON takes at most `limit` bytes, found by
    cutting off what escaping added (a few rounds); None when it is not UTF-8."""
    cut = limit
    for _ in range(4):
        prefix = _utf8_prefix(raw, cut)
        if prefix is None:
            return None
        over = len(orjson.dumps(prefix)) - limit
        if over <= 0:
            return prefix
        cut = len(prefix.encode()) - over
    return None


def _utf8_prefix(raw: bytes, limit: int) -> str | None:
    """The longest UTF-8 text of at most `limit` bytes that `raw` starts with (None when
    it does not start as UTF-8)."""
    for cut in range(min(limit, len(raw)), max(-1, min(limit, len(raw)) - 4), -1):
        try:
            return raw[:cut].decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < cut - 3:  # invalid inside, not a character cut in two
                return None
    return None



class DeadLetter(OpenModel):
    """A message that could not be processed; keyed like its source message."""

    reason: DlqReason
    detail: str = Field(description="human text naming the bad field")
    source_topic: str
    partition: StrictInt | None = None
    offset: StrictInt | None = None
    raw: str = Field(description="the original bytes as text, or base64 (see raw_encoding)")
    raw_encoding: Literal["base64"] | None = None
    raw_truncated: bool | None = Field(
        None,
        description="true when `raw` holds only the first bytes of a huge message; "
        "the whole message stays at source_topic/partition/offset",
    )
    raw_size: StrictInt | None = Field(None, description="size of the original in bytes")
    failed_at: Timestamp
    service: Id

    @classmethod
    def from_bytes(
        cls,
        raw: bytes,
        *,
        reason: DlqReason,
        detail: str,
        source_topic: str,
        partition: int | None,
        offset: int | None,
        service: str,
        failed_at: datetime,
        max_raw_bytes: int | None = None,
    ) -> DeadLetter:
        """Keep `raw` as text when it is UTF-8, else as base64 with `raw_encoding`; keep
        at most `max_raw_bytes` of it as written into the letter's JSON (marked
        `raw_truncated`, with `raw_size`). Text that JSON escapes badly (control
        characters become `\\u0001`, six bytes each) is kept as base64 instead, whose
        size is known (4 bytes per 3): a letter always fits the topic."""
        raw, limit = bytes(raw), max_raw_bytes
        text, encoding = _as_text(raw)
        kept = size = len(raw)
        if limit is not None and not _fits(text, encoding, limit):
            kept = min(size, (limit - 2) // 4 * 3)  # base64 and its quotes fit
            text, encoding = base64.b64encode(raw[:kept]).decode("ascii"), "base64"
            prefix = _text_prefix(raw, limit)
            if prefix is not None and len(prefix.encode()) >= kept:  # text, if it keeps more
                text, encoding, kept = prefix, None, len(prefix.encode())
        truncated = True if kept < size else None
        return cls(
            reason=reason,
            detail=detail,
            source_topic=source_topic,
            partition=partition,
            offset=offset,
            raw=text,
            raw_encoding=encoding,
            failed_at=failed_at,
            service=service,
            raw_truncated=truncated,
            raw_size=size if truncated else None,
        )

    def raw_bytes(self) -> bytes:
        """The original bytes."""
        if self.raw_encoding == "base64":
            return base64.b64decode(self.raw)
        return self.raw.encode("utf-8")
