"""A role service's memory seen through one batch: read in bulk at the start, changed in
memory while the batch is handled in order, written back after the outputs were acked:
first the timers (idempotent upserts and cancels, so a crash before the state write
recomputes the same ones), then the state, the dedup marks last."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from redis.asyncio import Redis

from contracts import EventType, SubjectKind
from contracts.topics import ROLE_EVENT_TYPES
from services.core.timers import TimerStore
from services.roles.assigner import Assigner
from services.roles.assignment import queue_score
from services.roles.clocks import Clock
from services.roles.conversation import ConvState
from services.roles.escalation import timer_ids, timer_ops
from services.roles.keys import RoleKeys
from services.roles.ledger import text, text_hash
from services.roles.rules import ClockRecord

SubjectKey = tuple[str, str, str]  # shop, kind, subject id


class RoleContext:
    def __init__(self, redis: Redis, keys: RoleKeys, timers: TimerStore, assigner: Assigner, *,
                 dedup_ttl: int, key_ttl_ms: int) -> None:
        self.redis, self.keys, self.timers, self.assigner = redis, keys, timers, assigner
        self.dedup_ttl, self.key_ttl_ms = dedup_ttl, key_ttl_ms
        self.seen: set[tuple[str, str]] = set()
        self.new_seen: list[tuple[str, str]] = []
        self.clocks: dict[SubjectKey, dict[str, ClockRecord]] = {}
        self.dirty_convs: set[tuple[str, str]] = set()
        self.dirty_clocks: dict[SubjectKey, dict[str, ClockRecord]] = {}
        self.timer_ops: dict[str, tuple[str, datetime, bytes] | None] = {}
        self.last_agent: dict[tuple[str, str], tuple[str, int, int]] = {}

    async def load(self, events: Iterable) -> None:
        events = list(events)
        seen, convs, causes, subjects = [], [], [], []
        for e in events:
            seen.append((e.shop_id, e.event_id))
            if e.event_type in ROLE_EVENT_TYPES:
                causes.append((e.shop_id, e.event_id))
                if e.event_type != EventType.AGENT_STATUS:
                    convs.append((e.shop_id, e.payload.conversation_id))
            for kind in (SubjectKind.ORDER, SubjectKind.CASE):
                subject = getattr(e.payload, f"{kind.value}_id", None)
                if subject and e.event_type not in ROLE_EVENT_TYPES:
                    subjects.append((e.shop_id, kind.value, subject))
        convs, subjects = list(dict.fromkeys(convs)), list(dict.fromkeys(subjects))
        pipe = self.redis.pipeline(transaction=False)
        for shop, event_id in seen:
            pipe.exists(self.keys.seen(shop, event_id))
        for shop, conv in convs:
            pipe.hgetall(self.keys.conv(shop, conv))
        for shop, cause in causes:
            pipe.smembers(self.keys.cause(shop, cause))
        for shop, kind, subject in subjects:
            pipe.hgetall(self.keys.clock(shop, kind, subject))
        replies = await pipe.execute()
        found, replies = replies[: len(seen)], replies[len(seen):]
        self.seen = {key for key, hit in zip(seen, found, strict=True) if hit}
        raws, replies = replies[: len(convs)], replies[len(convs):]
        for (shop, conv), raw in zip(convs, raws, strict=True):
            self.assigner.convs[(shop, conv)] = ConvState.from_hash(conv, text_hash(raw))
        members, replies = replies[: len(causes)], replies[len(causes):]
        for key, items in zip(causes, members, strict=True):
            self.assigner.causes[key] = sorted(text(m) for m in items)
        for key, raw in zip(subjects, replies, strict=True):
            self.clocks[key] = {k: ClockRecord.decode(v) for k, v in text_hash(raw).items()}
        await self.assigner.prefetch_stickies(  # buyers who may need an agent
            (e.shop_id, e.payload.buyer_id) for e in events
            if e.event_type == EventType.BUYER_MESSAGE
            and not self.assigner.convs[(e.shop_id, e.payload.conversation_id)].agent)

    # --- batch-local reads and writes -------------------------------------------------
    def is_duplicate(self, shop: str, event_id: str) -> bool:
        return (shop, event_id) in self.seen

    def mark_seen(self, shop: str, event_id: str) -> None:
        """Remember an event that had an effect (one that has none needs no mark)."""
        self.seen.add((shop, event_id))
        self.new_seen.append((shop, event_id))

    def conv(self, shop: str, conv_id: str) -> ConvState:
        self.dirty_convs.add((shop, conv_id))
        return self.assigner.convs.setdefault((shop, conv_id), ConvState(conv_id))

    def clock(self, shop: str, kind: str, subject: str, sla: str) -> ClockRecord | None:
        return self.clocks.get((shop, kind, subject), {}).get(sla)

    def set_clock(self, shop: str, kind: str, subject: str, sla: str, record: ClockRecord) -> None:
        self.clocks.setdefault((shop, kind, subject), {})[sla] = record
        self.dirty_clocks.setdefault((shop, kind, subject), {})[sla] = record

    def start_timers(self, clock: Clock) -> None:
        self.timer_ops.update(timer_ops(clock))

    def stop_timers(self, shop: str, role: str, kind: str, subject: str, slot: str) -> None:
        self.timer_ops.update(dict.fromkeys(timer_ids(shop, role, kind, subject, slot)))

    def served(self, shop: str, buyer: str, agent: str, at_ms: int, ttl_ms: int) -> None:
        """`agent` served `buyer` now: the sticky agent of the buyer's next conversation."""
        self.last_agent[(shop, buyer)] = (agent, at_ms, ttl_ms)

    # --- after ack ----------------------------------------------------------------------
    async def apply_timers(self) -> None:
        cancels = [tid for tid, spec in self.timer_ops.items() if spec is None]
        schedules = [spec for spec in self.timer_ops.values() if spec is not None]
        if cancels:
            await self.timers.cancel_many(cancels)
        if schedules:
            await self.timers.schedule_many(schedules)

    async def flush(self) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for shop, conv in self.dirty_convs:
            key = self.keys.conv(shop, conv)
            pipe.hset(key, mapping=self.assigner.convs[(shop, conv)].handler_fields())
            pipe.pexpire(key, self.key_ttl_ms)
            state = self.assigner.convs[(shop, conv)]
            if state.queued:  # a more urgent message moves it up (never down)
                score = queue_score(state.priority, state.opened)
                pipe.zadd(self.keys.queue(shop), {conv: score}, xx=True, lt=True)
        for (shop, kind, subject), records in self.dirty_clocks.items():
            key = self.keys.clock(shop, kind, subject)
            pipe.hset(key, mapping={sla: r.encode() for sla, r in records.items()})
            pipe.pexpire(key, self.key_ttl_ms)
        for (shop, buyer), (agent, at_ms, ttl_ms) in self.last_agent.items():
            pipe.hset(self.keys.buyer(shop, buyer), mapping={"agent": agent, "at": at_ms})
            pipe.pexpire(self.keys.buyer(shop, buyer), ttl_ms)
        for shop, cause in self.assigner.used_causes:
            pipe.delete(self.keys.cause(shop, cause))
        for shop, event_id in self.new_seen:
            pipe.set(self.keys.seen(shop, event_id), 1, ex=self.dedup_ttl)
        await pipe.execute()
