"""docs/contract.md stays true to `contracts/`: every wire value and every field the code
defines is named in it (in backticks), so a new event type, topic, reason, state or field
cannot ship undocumented."""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts import (
    EVENT_MODELS,
    AssignmentReason,
    DlqReason,
    EscalationState,
    EventType,
    Intent,
    NotificationKind,
    SlaKind,
    topics,
)
from contracts.outputs import Assignment, DeadLetter, Escalation, Notification
from contracts.payloads import Attachment, OrderItem
from contracts.routed import Routing, SuggestedReply

DOC = (Path(__file__).resolve().parents[2] / "docs" / "contract.md").read_text(encoding="utf-8")

VALUES = {
    "EventType": [e.value for e in EventType],
    "topics.ALL_TOPICS": list(topics.ALL_TOPICS),
    "DlqReason": [r.value for r in DlqReason],
    "EscalationState": [s.value for s in EscalationState],
    "AssignmentReason": [r.value for r in AssignmentReason],
    "SlaKind": [s.value for s in SlaKind],
    "NotificationKind": [k.value for k in NotificationKind],
    "Intent": [i.value for i in Intent],
}

MODELS = [Assignment, Escalation, Notification, DeadLetter, Routing, SuggestedReply,
          Attachment, OrderItem, *EVENT_MODELS.values()]


@pytest.mark.parametrize("source", VALUES)
def test_every_value_is_in_the_contract(source):
    missing = [value for value in VALUES[source] if f"`{value}`" not in DOC]
    assert not missing, f"docs/contract.md does not name these {source} values: {missing}"


def test_every_field_is_in_the_contract():
    """Envelope, payload and output fields, as written on the wire."""
    fields = {name for model in MODELS for name in model.model_fields}
    fields |= {name for model in EVENT_MODELS.values()
               for name in model.model_fields["payload"].annotation.model_fields}
    missing = sorted(name for name in fields if f"`{name}`" not in DOC)
    assert not missing, f"docs/contract.md does not name these fields: {missing}"
