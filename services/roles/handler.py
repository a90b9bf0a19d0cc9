"""A role service's batch handler: parse (invalid input to the DLQ), drop duplicates,
hand each event to its flow, and record the batch after its outputs were acked."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from aiokafka import ConsumerRecord

from contracts import InvalidEvent, parse_inbound, parse_routed
from contracts.topics import ORDERS, ROLE_EVENT_TYPES
from services.core.dlq import dead_letter
from services.core.logging import get_logger
from services.core.metrics import Metrics
from services.core.outputs import BatchOutcome
from services.core.policy import ShopPolicy
from services.core.timers import TimerStore
from services.roles.assigner import Assigner
from services.roles.chat import ChatFlow
from services.roles.context import RoleContext
from services.roles.ledger import Ledger
from services.roles.orders import OrderFlow
from services.roles.rules import Rules

log = get_logger("kefu.roles")


class RoleHandler:
    def __init__(
        self, *, role: str, ledger: Ledger, timers: TimerStore, rules: Rules,
        policy_for: Callable[[str], ShopPolicy], metrics: Metrics, dedup_ttl: int,
        key_ttl_ms: int, max_event_bytes: int,
    ) -> None:
        self.role, self.ledger, self.timers, self.policy_for = role, ledger, timers, policy_for
        self.metrics, self.dedup_ttl, self.key_ttl_ms = metrics, dedup_ttl, key_ttl_ms
        self.max_event_bytes = max_event_bytes
        self.chat = ChatFlow(role, policy_for)
        self.orders = OrderFlow(role, rules, policy_for)

    async def __call__(self, records: Sequence[ConsumerRecord]) -> BatchOutcome:
        outcome = BatchOutcome()
        events = [e for e in (self._parse(r, outcome) for r in records) if e is not None]
        now = datetime.now(UTC)
        assigner = Assigner(self.ledger, self.role, self.policy_for, now)
        ctx = RoleContext(self.ledger.redis, self.ledger.keys, self.timers, assigner,
                          dedup_ttl=self.dedup_ttl, key_ttl_ms=self.key_ttl_ms)
        await ctx.load(p.event for p in events)
        for topic, event in ((e.topic, e.event) for e in events):
            self.metrics.events_in.labels(topic, event.event_type).inc()
            if ctx.is_duplicate(event.shop_id, event.event_id):
                log.debug("duplicate dropped", event_id=event.event_id, shop_id=event.shop_id)
                continue
            if event.event_type in ROLE_EVENT_TYPES:
                outcome.outputs.extend(await self.chat.handle(event, ctx))
            elif (acted := self.orders.handle(event, ctx, now)) is None:
                continue  # not this role's event
            else:
                outcome.outputs.extend(acted)
            ctx.mark_seen(event.shop_id, event.event_id)
        outcome.after_ack += [ctx.apply_timers, ctx.flush]
        return outcome

    def _parse(self, record: ConsumerRecord, outcome: BatchOutcome):
        raw = record.value or b""
        try:
            if len(raw) > self.max_event_bytes:
                raise InvalidEvent("oversize", f"{len(raw)} bytes is over {self.max_event_bytes}")
            if record.topic != ORDERS:
                return _Parsed(record.topic, parse_routed(raw))
            event = parse_inbound(raw)
            if event.event_type in ROLE_EVENT_TYPES:
                raise InvalidEvent("unknown_event_type",
                                   f"event_type: {event.event_type} does not belong on {ORDERS}")
            return _Parsed(record.topic, event)
        except InvalidEvent as bad:
            reason = str(bad.reason)
            self.metrics.events_in.labels(record.topic, "invalid").inc()
            self.metrics.dlq.labels(reason).inc()
            log.info("invalid event dead-lettered", reason=reason, detail=bad.detail[:300],
                     topic=record.topic, partition=record.partition, offset=record.offset)
            outcome.outputs.append(
                dead_letter(record, reason=reason, detail=bad.detail, service=self.role))
            return None


class _Parsed:
    __slots__ = ("topic", "event")

    def __init__(self, topic: str, event) -> None:
        self.topic, self.event = topic, event
