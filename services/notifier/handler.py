"""The notifier's batch handler: remember who holds what, decide the notifications,
drop repeats and capped logistics updates, word them, and queue them in the outbox.

Effects run after the (DLQ) outputs were acked and before the offsets are committed:
queue in the outbox first, then the dedup marks and memory. A crash in between only
re-queues the same notification ids, which the marks and the worker drop."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from aiokafka import ConsumerRecord
from pydantic import ValidationError
from redis.asyncio import Redis

from contracts import Assignment, Escalation, EventType, parse_inbound, to_json_bytes
from contracts.codec import invalid_from
from contracts.topics import ASSIGNMENTS, ESCALATIONS
from services.core.dlq import InputStage
from services.core.logging import get_logger
from services.core.metrics import Metrics
from services.core.outputs import BatchOutcome
from services.core.policy import Policy
from services.notifier import keys
from services.notifier.compose import compose
from services.notifier.context import NotifierContext
from services.notifier.decide import Draft, drafts_for_escalation, drafts_for_order_event
from services.notifier.metrics import NotifierMetrics
from services.notifier.outbox import Outbox
from services.notifier.quiet import quiet_until

log = get_logger("kefu.notifier")
REMEMBERED = (EventType.ORDER_CREATED, EventType.ORDER_PAID)


def _model_parser(model):
    def parse(raw: bytes):
        try:
            return model.model_validate_json(raw)
        except ValidationError as exc:
            raise invalid_from(exc) from None
    return parse


PARSERS = {ESCALATIONS: _model_parser(Escalation), ASSIGNMENTS: _model_parser(Assignment)}
"""How each consumed topic is read (kefu.orders: as inbound events)."""


class NotifierHandler:
    def __init__(self, *, redis: Redis, outbox: Outbox, policy: Policy,
                 clock: Callable[[], datetime], metrics: Metrics,
                 notifier_metrics: NotifierMetrics, wake, context_ttl: int, dedup_ttl: int,
                 max_event_bytes: int) -> None:
        self.redis, self.outbox, self.policy, self.clock = redis, outbox, policy, clock
        self.metrics, self.notifier_metrics, self.wake = metrics, notifier_metrics, wake
        self.context_ttl, self.dedup_ttl = context_ttl, dedup_ttl
        self.input = InputStage(service="notifier", metrics=metrics,
                                max_event_bytes=max_event_bytes)

    async def __call__(self, records: Sequence[ConsumerRecord]) -> BatchOutcome:
        outcome = BatchOutcome()
        items = []
        for record in records:
            item = self.input.read(record, PARSERS.get(record.topic, parse_inbound),
                                   outcome.outputs)
            if item is not None:
                kind = getattr(item, "event_type", type(item).__name__.lower())
                self.metrics.events_in.labels(record.topic, kind).inc()
                items.append((item, self._drafts(item)))
        ctx = NotifierContext(self.redis, ttl=self.context_ttl, dedup_ttl=self.dedup_ttl)
        await ctx.load(**_keys_of(items))
        now = self.clock()
        entries = []
        for item, drafts in items:
            self._remember(item, ctx)
            for draft in drafts:
                if self._admit(draft, ctx, now):
                    entries.append(self._entry(draft, ctx, now))
        outcome.after_ack.append(lambda: self._flush(entries, ctx))
        return outcome

    def _drafts(self, item) -> list[Draft]:
        if isinstance(item, Escalation):
            return drafts_for_escalation(item)
        if isinstance(item, Assignment):
            return []
        in_transit = self.policy.for_shop(item.shop_id).notify.logistics_updates.in_transit
        return drafts_for_order_event(item, in_transit=in_transit)

    @staticmethod
    def _remember(item, ctx: NotifierContext) -> None:
        if isinstance(item, Assignment):
            ctx.remember_agent(item.shop_id, item.conversation_id, item.agent_id)
        elif not isinstance(item, Escalation) and item.event_type in REMEMBERED:
            p = item.payload
            locale = getattr(p, "locale", None) or getattr(p, "buyer_locale", None)
            ctx.remember_order(item.shop_id, p.order_id, p.buyer_id,
                               locale if isinstance(locale, str) else None)

    def _admit(self, draft: Draft, ctx: NotifierContext, now: datetime) -> bool:
        shop, kind = draft.shop_id, draft.kind
        if ctx.is_known(shop, draft.notification_id):
            self.notifier_metrics.skipped.labels(kind, "duplicate").inc()
            return False
        if draft.capped:
            cap = self.policy.for_shop(shop).notify.logistics_updates
            now_ms, window_ms = int(now.timestamp() * 1000), int(cap.window.total_seconds() * 1000)
            if ctx.logistics_sent(shop, draft.order_id, now_ms - window_ms) >= cap.max_per_order:
                self.notifier_metrics.skipped.labels(kind, "logistics_cap").inc()
                log.info("logistics update over the cap; skipped", shop_id=shop,
                         order_id=draft.order_id, notification_id=draft.notification_id)
                return False
            ctx.count_logistics(shop, draft.order_id, draft.notification_id, now_ms, window_ms)
        ctx.mark_queued(shop, draft.notification_id)
        return True

    def _entry(self, draft: Draft, ctx: NotifierContext, now: datetime):
        policy = self.policy.for_shop(draft.shop_id)
        who = ctx.recipient(draft.shop_id, draft.order_id, draft.conversation_id)
        notification = compose(draft, who, policy, now)
        due = now
        if draft.audience == "buyer":
            until = quiet_until(now, policy.notify.quiet_hours, policy.timezone)
            if until is not None:
                due = until
                self.notifier_metrics.deferred.labels(draft.kind).inc()
                log.info("buyer notice held for quiet hours", shop_id=draft.shop_id,
                         notification_id=draft.notification_id, until=until.isoformat())
        return draft.notification_id, due, to_json_bytes(notification)

    async def _flush(self, entries, ctx: NotifierContext) -> None:
        if entries:
            await self.outbox.put_many(entries)
        await ctx.flush()
        if entries:
            self.wake.set()


def _keys_of(items) -> dict[str, set[str]]:
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
        if not isinstance(item, Escalation | Assignment) and item.event_type in REMEMBERED:
            orders.add(keys.order_key(item.shop_id, item.payload.order_id))
    return {"orders": orders, "convs": convs, "logistics": logistics, "ids": ids}
