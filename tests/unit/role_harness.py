"""A role service's batches on the in-memory store, with a hand-moved clock: send events
as the role topic and kefu.orders deliver them, fire what a watermark allows."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import orjson

from contracts import example, parse_inbound, parse_routed
from services.aftersale.rules import aftersale_rules
from services.core.policy import parse_policy
from services.core.timers import ClaimedTimer
from services.presale.rules import presale_rules
from services.roles.batches import RoleBatches
from services.roles.clock_state import to_us
from services.roles.escalation import TimerPayload
from services.roles.memory_store import MemoryRoleStore

T0 = datetime.fromisoformat("2026-11-23T10:00:00+08:00")
POLICY = parse_policy({"shops": {"default": {
    "business_hours": {"mon-sun": [["00:00", "24:00"]]},
    "sla": {"presale": {"first_response": "3m", "next_response": "3m"},
            "ship_by": "1h", "logistics_stalled": "1h"},
}}}, source="test")
SHARD = "kefu.role.presale:0"
_EVENT_IDS = itertools.count(1)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


class Role:
    def __init__(self, role: str = "presale", store: MemoryRoleStore | None = None) -> None:
        self.role = role
        self.store = store or MemoryRoleStore()
        self.now = T0
        self.restart()
        self.seq = 0

    def restart(self) -> None:
        """A new process: nothing in memory, only what the store holds."""
        self.batches = RoleBatches(
            role=self.role, store=self.store, policy_for=POLICY.for_shop, now=lambda: self.now,
            rules=presale_rules if self.role == "presale" else aftersale_rules)

    def event(self, kind: str, seconds: float, shop: str = "s1", event_id: str | None = None,
              routing: tuple[str, str] | None = None, trace: str | None = None, **payload):
        self.seq = next(_EVENT_IDS)
        body = example(kind, event_id=event_id or f"e{self.seq}", shop_id=shop,
                       occurred_at=at(seconds).isoformat(), payload=payload)
        body["payload"] = payload
        if trace is not None:
            body["trace_id"] = trace
        if routing:
            body["routing"] = {"intent": routing[0], "role": self.role, "priority": routing[1],
                               "confidence": 0.9, "reason": "test",
                               "routed_at": at(seconds).isoformat()}
        raw = orjson.dumps(body)
        return parse_inbound(raw) if "conversation_id" not in payload and kind != \
            "agent.status" else parse_routed(raw)

    def buyer(self, conv: str, seconds: float, **kw):
        return self.event("buyer.message", seconds, conversation_id=conv, buyer_id=f"b-{conv}",
                          message_id=f"m{self.seq}", text="在吗", **kw)

    def reply(self, conv: str, seconds: float, agent: str = "a1"):
        return self.event("agent.message", seconds, conversation_id=conv, agent_id=agent,
                          message_id=f"m{self.seq}", text="在的")

    def close(self, conv: str, seconds: float):
        return self.event("conversation.closed", seconds, conversation_id=conv)

    def status(self, agent: str, state: str, seconds: float = 0, max_concurrent: int = 5):
        return self.event("agent.status", seconds, agent_id=agent, roles=[self.role],
                          status=state, max_concurrent=max_concurrent)

    async def send(self, *events, apply: bool = True) -> list[dict]:
        """Handle one batch; the outputs (topic, body) once 'acked', then its writes
        (without them: the process dies after publishing, and a new one takes over)."""
        outputs, write = await self.batches.run(events=[(e, SHARD) for e in events])
        if apply:
            await write()
        else:
            self.restart()
        return [{"topic": o.topic, **orjson.loads(o.value)} for o in outputs]

    def claim(self, watermark_seconds: float) -> list[tuple[ClaimedTimer, TimerPayload]]:
        """The due timers the watermark at `watermark_seconds` allows, claimed as the
        firing loop claims them (the wall clock is then there too)."""
        self.now = max(self.now, at(watermark_seconds))
        bound_ms = to_us(at(watermark_seconds)) // 1000 - 1
        return [(t, TimerPayload.decode(t.payload)) for t in self.store.claim(bound_ms)]

    async def run_timers(self, claimed: list[tuple[ClaimedTimer, TimerPayload]]) -> list[dict]:
        """Handle claimed timers as one firing batch; its outputs once written."""
        outputs, write = await self.batches.run(timers=claimed)
        await write()
        return [{"topic": o.topic, **orjson.loads(o.value)} for o in outputs]

    async def fire(self, watermark_seconds: float) -> list[dict]:
        """Fire every timer the watermark at `watermark_seconds` allows, as the firing
        loop does, round after round."""
        out = []
        while claimed := self.claim(watermark_seconds):
            out += await self.run_timers(claimed)
        return out


def escalations(outputs: list[dict]) -> list[tuple[str, str, int]]:
    """(subject id, state, level) of the escalations, in order."""
    return [(o["subject"]["id"], o["state"], o["level"]) for o in outputs
            if o["topic"] == "kefu.escalations"]


def assignments(outputs: list[dict]) -> list[tuple[str, str | None, str]]:
    return [(o["conversation_id"], o["agent_id"], o["reason"]) for o in outputs
            if o["topic"] == "kefu.assignments"]
