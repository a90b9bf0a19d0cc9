"""A batch of parsed records -> rows per table, and the memos it changed (pure).

Facts are written on every delivery (the store keeps one row per key). Memos (open
rounds, running clocks) change only the first time an event is applied to them, so a
redelivered batch writes the same rows again and leaves the memos as they were."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from contracts import EventType, topics
from services.analytics import facts, output_facts
from services.analytics.facts import Row, field_of
from services.analytics.ingest.parse import ROLE_TOPICS, Parsed
from services.analytics.platform_clocks import SubjectMemo, apply_order_event, subject_of
from services.analytics.rounds import ConversationMemo, apply_chat
from services.core.policy import ShopPolicy

TABLE_KEYS: dict[str, tuple[str, ...]] = {
    "messages": ("event_id",),
    "commerce": ("event_id",),
    "order_items": ("event_id", "line"),
    "rounds": ("round_id",),
    "clocks": ("clock_id",),
    "escalations": ("escalation_id",),
    "assignments": ("assignment_id",),
    "notifications": ("notification_id",),
    "dead_letters": ("letter_id",),
}
CHAT = frozenset({EventType.BUYER_MESSAGE, EventType.AGENT_MESSAGE,
                  EventType.CONVERSATION_CLOSED})
OUTPUT_ROWS: dict[str, tuple[str, Callable]] = {
    topics.ESCALATIONS: ("escalations", output_facts.escalation_row),
    topics.ASSIGNMENTS: ("assignments", output_facts.assignment_row),
    topics.NOTIFICATIONS: ("notifications", output_facts.notification_row),
    topics.DLQ: ("dead_letters", output_facts.dead_letter_row),
}

MemoKey = tuple[str, str, str]
"""(shop_id, "conversation" | "order" | "case", id); a conversation's id is
`<role>:<conversation_id>`."""


def memo_key(parsed: Parsed) -> MemoKey | None:
    """The memo an event may change: its conversation in the role whose topic carried
    it, or its order or case. A conversation handed over to the other role has a round
    in each (the old role's ends with the router's `conversation.closed`, the new role's
    opens with the buyer message), whichever of the two topics is read first; and the
    two topics' partitions, which may belong to two replicas, never share a memo."""
    event = parsed.model
    if parsed.topic in ROLE_TOPICS:
        if event.event_type in CHAT:  # one per role, as each role service keeps its own
            role = ROLE_TOPICS[parsed.topic]
            return event.shop_id, "conversation", f"{role}:{event.payload.conversation_id}"
        return None
    if parsed.topic == topics.ORDERS:
        kind, subject = subject_of(event)
        return event.shop_id, kind.value, subject
    return None


def order_key(event) -> MemoKey | None:
    """The order memo an event of kefu.orders reads or adds products to."""
    order_id = field_of(event.payload, "order_id")
    return (event.shop_id, "order", order_id) if order_id else None


def memo_keys(parsed: list[Parsed]) -> list[MemoKey]:
    """Every memo `build_rows` needs for these records."""
    keys = [memo_key(p) for p in parsed]
    keys += [order_key(p.model) for p in parsed if p.topic == topics.ORDERS]
    return [k for k in dict.fromkeys(keys) if k is not None]


@dataclass
class BatchRows:
    tables: dict[str, dict[tuple, Row]] = field(default_factory=dict)
    changed: dict[MemoKey, ConversationMemo | SubjectMemo] = field(default_factory=dict)

    def add(self, table: str, row: Row) -> None:
        key = tuple(row[k] for k in TABLE_KEYS[table])
        self.tables.setdefault(table, {})[key] = row  # the batch's last version wins

    def rows(self) -> dict[str, list[Row]]:
        return {table: list(rows.values()) for table, rows in self.tables.items() if rows}


def build_rows(parsed: Iterable[Parsed], memos: dict[MemoKey, dict],
               policy_for: Callable[[str], ShopPolicy]) -> BatchRows:
    """`memos` holds the stored memo JSON of every key of `memo_key` (absent: new)."""
    out = BatchRows()
    for item in parsed:
        event = item.model
        if item.topic in OUTPUT_ROWS:
            table, to_row = OUTPUT_ROWS[item.topic]
            out.add(table, to_row(event))
            continue
        if event.event_type in topics.SUPERVISOR_EVENT_TYPES:
            continue  # a supervisor's action, not the shop's traffic
        policy = policy_for(event.shop_id)
        key = memo_key(item)
        if item.topic in ROLE_TOPICS:
            role = ROLE_TOPICS[item.topic]
            out.add("messages", facts.message_row(event, role, policy.timezone))
            if key is not None:
                memo = _memo(out, memos, key, ConversationMemo)
                if memo.seen.first_time(event.event_id):
                    ended = apply_chat(memo, event, role, policy)
                    if ended is not None:
                        out.add("rounds", ended)
            continue
        order = _memo(out, memos, order_key(event), SubjectMemo) if order_key(event) else None
        if order is not None:
            order.items = list(dict.fromkeys([*order.items, *facts.item_ids(event)]))
        items = order.items if order is not None else []
        out.add("commerce", facts.commerce_row(event, policy.timezone, items))
        for line in facts.order_item_rows(event):
            out.add("order_items", line)
        memo = _memo(out, memos, key, SubjectMemo)
        if memo.seen.first_time(event.event_id):
            for row in apply_order_event(memo, event, policy):
                out.add("clocks", row)
    return out


def _memo(out: BatchRows, stored: dict[MemoKey, dict], key: MemoKey, kind: type):
    memo = out.changed.get(key)
    if memo is None:
        data = stored.get(key)
        memo = kind.from_json(data) if data else kind()
        out.changed[key] = memo
    return memo
