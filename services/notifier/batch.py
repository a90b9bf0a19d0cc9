"""One batch of the notifier's input -> the notifications to queue (pure, no I/O).

Remember who holds what (order buyers and locales, conversation agents), decide the
drafts each record causes, drop repeats (a notification id already queued or sent) and
logistics updates over the shop's cap, word the rest and say when each is due: now,
or for a buyer notice inside the shop's quiet hours, when they end."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import ValidationError

from contracts import Assignment, Escalation, EventType, parse_inbound, to_json_bytes
from contracts.codec import invalid_from
from contracts.topics import ASSIGNMENTS, ESCALATIONS, ORDERS
from services.core.policy import Policy
from services.notifier import keys
from services.notifier.compose import compose
from services.notifier.decide import Draft, drafts_for_escalation, drafts_for_order_event
from services.notifier.quiet import quiet_until
from services.notifier.state import NotifierState

REMEMBERED = (EventType.ORDER_CREATED, EventType.ORDER_PAID)
Entry = tuple[str, datetime, bytes]
"""An outbox entry: (notification id, due at, the Notification's JSON)."""


def _model_parser(model):
    def parse(raw: bytes):
        try:
            return model.model_validate_json(raw)
        except ValidationError as exc:
            raise invalid_from(exc) from None
    return parse


PARSERS = {ORDERS: parse_inbound, ESCALATIONS: _model_parser(Escalation),
           ASSIGNMENTS: _model_parser(Assignment)}
"""How each consumed topic is read."""


def kind_of(item) -> str:
    """An input's kind, as counted: its event type, `escalation` or `assignment`."""
    return getattr(item, "event_type", type(item).__name__.lower())


@dataclass(slots=True)
class Planned:
    """A batch's decisions: the outbox entries in order, the drafts skipped with the
    reason (`duplicate`, `logistics_cap`) and the buyer notices held until quiet hours
    end."""

    entries: list[Entry] = field(default_factory=list)
    skipped: list[tuple[Draft, str]] = field(default_factory=list)
    deferred: list[tuple[Draft, datetime]] = field(default_factory=list)


def drafts_for(item, policy: Policy) -> list[Draft]:
    if isinstance(item, Escalation):
        return drafts_for_escalation(item)
    if isinstance(item, Assignment):
        return []
    in_transit = policy.for_shop(item.shop_id).notify.logistics_updates.in_transit
    return drafts_for_order_event(item, in_transit=in_transit)


def keys_to_load(items: Sequence[tuple[object, list[Draft]]]) -> dict[str, set[str]]:
    """The keys of the state `plan` reads for these inputs and their drafts, by kind
    (`NotifierContext.load`)."""
    orders, convs, logistics, ids = set(), set(), set(), set()
    for item, drafts in items:
        for d in drafts:
            ids.add(keys.notification_key(d.shop_id, d.notification_id))
            if d.order_id and d.audience == "buyer":
                orders.add(keys.order_key(d.shop_id, d.order_id))
            if d.conversation_id:
                convs.add(keys.conversation_key(d.shop_id, d.conversation_id))
            if d.capped:
                logistics.add(keys.logistics_key(d.shop_id, d.order_id))
        if _remembered(item):
            orders.add(keys.order_key(item.shop_id, item.payload.order_id))
    return {"orders": orders, "convs": convs, "logistics": logistics, "ids": ids}


def plan(items: Sequence[tuple[object, list[Draft]]], state: NotifierState, policy: Policy,
         now: datetime) -> Planned:
    """Each input in order: what it tells of who holds what, then its drafts, queued
    unless refused. Updates `state` (marks, memory, cap counts) as their effect."""
    planned = Planned()
    for item, drafts in items:
        _remember(item, state)
        for draft in drafts:
            refused = _refusal(draft, state, policy, now)
            if refused:
                planned.skipped.append((draft, refused))
            else:
                planned.entries.append(_entry(draft, state, policy, now, planned))
    return planned


def _remembered(item) -> bool:
    return not isinstance(item, Escalation | Assignment) and item.event_type in REMEMBERED


def _remember(item, state: NotifierState) -> None:
    if isinstance(item, Assignment):
        state.remember_agent(item.shop_id, item.conversation_id, item.agent_id)
    elif _remembered(item):
        p = item.payload
        locale = getattr(p, "locale", None) or getattr(p, "buyer_locale", None)
        state.remember_order(item.shop_id, p.order_id, p.buyer_id,
                             locale if isinstance(locale, str) else None)


def _refusal(draft: Draft, state: NotifierState, policy: Policy, now: datetime) -> str | None:
    """Why the draft is not queued, or None: it is, and marked queued."""
    shop = draft.shop_id
    if state.is_known(shop, draft.notification_id):
        return "duplicate"
    if draft.capped:
        cap = policy.for_shop(shop).notify.logistics_updates
        now_ms, window_ms = int(now.timestamp() * 1000), int(cap.window.total_seconds() * 1000)
        if state.logistics_sent(shop, draft.order_id, now_ms - window_ms) >= cap.max_per_order:
            return "logistics_cap"
        state.count_logistics(shop, draft.order_id, draft.notification_id, now_ms, window_ms)
    state.mark_queued(shop, draft.notification_id)
    return None


def _entry(draft: Draft, state: NotifierState, policy: Policy, now: datetime,
           planned: Planned) -> Entry:
    shop_policy = policy.for_shop(draft.shop_id)
    who = state.recipient(draft.shop_id, draft.order_id, draft.conversation_id)
    notification = compose(draft, who, shop_policy, now)
    due = now
    if draft.audience == "buyer":
        until = quiet_until(now, shop_policy.notify.quiet_hours, shop_policy.timezone)
        if until is not None:
            due = until
            planned.deferred.append((draft, until))
    return draft.notification_id, due, to_json_bytes(notification)
