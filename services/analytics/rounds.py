"""Rounds (pure): a buyer's first unanswered message up to the first agent reply; later
buyer messages before that reply join the round. Decided at ingest from event times
with the shop's business hours of that time, following the role services' response
clocks (`services/roles/conversation.py`):

- a round opens at a buyer message when none is open: `first_response` until an agent
  has replied in the conversation's session, `next_response` after;
- an agent message ends the open round (`reply`), `conversation.closed` ends it unanswered
  (`closed`) and ends the session;
- its SLA deadline is the role clock's deadline (`services/roles/clocks.py`: the role's
  budget of business time added to the start), and `due_3m_at` is when 180 business
  seconds have elapsed since it opened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from contracts import EventType, SlaKind
from services.analytics.facts import Row
from services.analytics.memo import Seen
from services.analytics.timefmt import ch_time, ch_time_us, local_fields, to_ms
from services.core.business_hours import MICROSECOND, epoch_us
from services.core.policy import ShopPolicy

THREE_MINUTES_US = 180_000_000
OPEN, REPLY, CLOSED = "", "reply", "closed"


@dataclass(slots=True)
class ConversationMemo:
    """The open round of a conversation, if any, and whether its session was answered."""

    seen: Seen = field(default_factory=Seen)
    answered: bool = False
    round: dict[str, Any] | None = None  # the open round's row (version 1)
    start_ms: int = 0  # when the open round started

    def to_json(self) -> dict[str, Any]:
        return {"seen": self.seen.recent, "answered": self.answered, "round": self.round,
                "start_ms": self.start_ms}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ConversationMemo:
        return cls(Seen(list(data.get("seen", []))), bool(data.get("answered")),
                   data.get("round"), int(data.get("start_ms", 0)))


def apply_chat(memo: ConversationMemo, event, role: str, policy: ShopPolicy) -> Row | None:
    """Apply a chat event; the round row it wrote (opened or ended), if any."""
    kind = event.event_type
    if kind == EventType.BUYER_MESSAGE:
        if memo.round is not None:
            return None
        memo.round, memo.start_ms = _open(memo, event, role, policy), to_ms(event.occurred_at)
        return memo.round
    if kind == EventType.AGENT_MESSAGE:
        memo.answered = True
        return _end(memo, event, REPLY, policy)
    if kind == EventType.CONVERSATION_CLOSED:
        ended = _end(memo, event, CLOSED, policy)
        memo.answered = False
        return ended
    return None


def _open(memo: ConversationMemo, event, role: str, policy: ShopPolicy) -> Row:
    sla = SlaKind.NEXT_RESPONSE if memo.answered else SlaKind.FIRST_RESPONSE
    start = event.occurred_at
    budget_us = getattr(getattr(policy.sla, role), sla.value) // MICROSECOND
    start_us = epoch_us(start)
    # the role clock's deadline (services/roles/clocks.py) and 180 business seconds
    if budget_us <= THREE_MINUTES_US:
        deadline, due_3m = policy.calendar.add_business_us(start_us, (budget_us, THREE_MINUTES_US))
    else:
        due_3m, deadline = policy.calendar.add_business_us(start_us, (THREE_MINUTES_US, budget_us))
    routing = getattr(event, "routing", None)
    return {
        "shop_id": event.shop_id,
        "started_at": ch_time_us(start_us),
        "round_id": event.event_id,
        "conversation_id": event.payload.conversation_id,
        "role": role,
        "sla": sla.value,
        "intent": routing.intent.value if routing is not None else "",
        "item_id": event.payload.item_id or "",
        "buyer_id": event.payload.buyer_id,
        "agent_id": "",
        "end_reason": OPEN,
        "ended_at": None,
        "response_ms": None,
        "business_ms": None,
        "deadline": ch_time_us(deadline),
        "due_3m_at": ch_time_us(due_3m),
        **local_fields(start, policy.timezone),
        "version": 1,
    }


def _end(memo: ConversationMemo, event, reason: str, policy: ShopPolicy) -> Row | None:
    opened, memo.round = memo.round, None
    if opened is None:
        return None
    end = event.occurred_at
    row = {**opened, "end_reason": reason, "ended_at": ch_time(end), "version": 2}
    if reason == REPLY:
        business = policy.calendar.business_us_between(memo.start_ms * 1000, epoch_us(end))
        row.update(agent_id=event.payload.agent_id,
                   response_ms=max(0, to_ms(end) - memo.start_ms),
                   business_ms=max(0, round((business * MICROSECOND).total_seconds() * 1000)))
    return row
