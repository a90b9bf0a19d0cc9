"""One batch of a role service, decided on its snapshot (pure: no Redis, no broker).

Inputs are the batch's events, in order, and due timers. The decider produces the
outputs in order (an assignment's position is reserved when it is decided and filled
once the store has applied it), the capacity reservations per shop, and the changes to
write once the outputs were acked."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from contracts import (
    ASSIGNMENTS,
    ESCALATIONS,
    AgentStatus,
    Assignment,
    Escalation,
    EventType,
    SlaKind,
)
from contracts import AssignmentReason as Why
from contracts.topics import ORDER_EVENT_TYPES
from services.core.outputs import Outgoing
from services.core.policy import ShopPolicy
from services.roles.board import Placer
from services.roles.clock_state import ClockState, Notice, fire, us_to_ms
from services.roles.conversation import ConvState, on_agent_message, on_buyer_message, on_closed
from services.roles.escalation import (
    RESPONSE_SLOT,
    Subjects,
    TimerPayload,
    assignment,
    clock_escalation,
    escalation_id,
    raised,
    timer_id,
)
from services.roles.reservations import Assign, Presence, Reservation, ShopResult
from services.roles.rules import Rules
from services.roles.store import Changes, Decision, Snapshot, TimerWrite
from services.roles.subject_clocks import on_order_event, subject_clocks
from services.roles.supervision import on_acknowledged, on_reassigned

CONV = "conversation"
MAX_ROUNDS = 3


class Decider:
    def __init__(self, *, role: str, snapshot: Snapshot, rules: Rules,
                 policy_for: Callable[[str], ShopPolicy], now: datetime) -> None:
        self.role, self.snapshot, self.policy_for, self.now = role, snapshot, policy_for, now
        self.rules = rules
        self.outputs: list[Outgoing | None] = []
        self.traces: dict[int, str | None] = {}  # slot -> trace of its decision
        self.reservations: dict[str, list[Reservation]] = {}
        self.changes = Changes()
        self.placers: dict[str, Placer] = {}
        self.had_timer: dict[str, bool] = {}
        self.cause_traces: dict[tuple[str, str], str | None] = {}
        self._sent: dict[str, list[Reservation]] = {}
        self.rounds = 0

    # --- shared pieces ---------------------------------------------------------------
    def publish(self, model: Escalation | Assignment) -> None:
        self.outputs.append(Outgoing.of(
            ESCALATIONS if isinstance(model, Escalation) else ASSIGNMENTS, model.kafka_key,
            model))

    def fired_at(self, shop: str) -> datetime:
        return self.now.astimezone(self.policy_for(shop).timezone)

    def conv(self, shop: str, conv_id: str) -> ConvState:
        key = (shop, conv_id)
        conv = self.changes.convs.get(key)
        if conv is None:
            conv = self.snapshot.convs.get(key) or ConvState(conv_id)
            self.changes.convs[key] = conv
            tid = timer_id(shop, self.role, CONV, conv_id, RESPONSE_SLOT)
            self.had_timer.setdefault(tid, conv.running is not None)
        return conv

    def placer(self, shop: str) -> Placer:
        placer = self.placers.get(shop)
        if placer is None:
            # The placer's callbacks must not hold the decider: a cycle through it would
            # keep the batch's whole state alive until the garbage collector walked it.
            outputs, convs = self.outputs, self.changes.convs

            def slot() -> int:
                outputs.append(None)
                return len(outputs) - 1

            placer = self.placers[shop] = Placer(
                self.snapshot.boards[shop], self.now,
                self.policy_for(shop).assignment.sticky_window, slot,
                lambda conv_id: convs.get((shop, conv_id)))
        return placer

    def reserve(self, shop: str, ops: list[Reservation], trace: str | None) -> None:
        for op in ops:
            self.cause_traces[(shop, op.cause)] = trace
            if isinstance(op, Assign):
                self.traces[op.slot] = trace
        if ops:
            self.reservations.setdefault(shop, []).extend(ops)

    def replay(self, shop: str, cause: str, trace: str | None) -> bool:
        """Republish what `cause` decided before (its outputs may not have been acked);
        True if it had decided anything, so it decides nothing again."""
        decisions = self.snapshot.decisions.get((shop, cause))
        if not decisions:
            return False
        for d in decisions:
            self.publish(self._assignment(shop, d, trace))
        self.changes.causes_done.add((shop, cause))
        return True

    def _assignment(self, shop: str, d: Decision, trace: str | None) -> Assignment:
        at = datetime.fromtimestamp(d.at / 1000, self.now.tzinfo) if d.at else self.now
        return assignment(shop, self.role, d.conv, d.agent or None, d.reason,
                          at.astimezone(self.policy_for(shop).timezone), trace)

    def notices(self, who: Subjects, clock: ClockState, notices: list[Notice],
                stopped_at: datetime | None = None) -> None:
        fired_at = self.fired_at(who.shop)
        for notice in notices:
            self.publish(clock_escalation(who, clock, notice, fired_at, stopped_at))

    def set_timer(self, who: Subjects, slot: str, clock: ClockState) -> None:
        """Point the clock's one timer at its next milestone (or cancel it)."""
        tid = timer_id(who.shop, self.role, who.kind, who.subject_id, slot)
        index = clock.next_index()
        if index is not None:
            payload = TimerPayload(who.shop, who.kind, who.subject_id, slot, clock.cause, index)
            self.changes.timers[tid] = TimerWrite(clock.shard, us_to_ms(clock.due[index]),
                                                  payload.encode())
        elif self.had_timer.get(tid, True):
            self.changes.timers[tid] = TimerWrite(clock.shard)
        else:
            self.changes.timers.pop(tid, None)

    def raise_now(self, who: Subjects, sla, cause: str, trace: str | None) -> None:
        self.publish(raised(who, sla, cause, self.fired_at(who.shop), trace))

    # --- inputs ----------------------------------------------------------------------
    def event(self, event, shard: str) -> None:
        shop, event_id = event.shop_id, event.event_id
        key = (shop, event_id)
        if key in self.snapshot.seen:
            return
        self.snapshot.seen.add(key)
        self.changes.seen.append(key)
        decided = self.replay(shop, event_id, event.trace_id)
        HANDLERS[event.event_type](self, event, shard, decided)

    def _agent_status(self, event, _shard: str, decided: bool) -> None:
        p = event.payload
        status = p.status if self.role in p.roles else AgentStatus.OFFLINE
        if decided:
            return
        placer = self.placer(event.shop_id)
        op = placer.presence(p.agent_id, status, p.max_concurrent, event.event_id)
        ops: list[Reservation] = [op]
        if status == AgentStatus.ONLINE:
            ops += placer.drain(event.event_id)
        self.reserve(event.shop_id, ops, event.trace_id)

    def _chat(self, event, shard: str, decided: bool) -> None:
        shop, kind, trace = event.shop_id, event.event_type, event.trace_id
        conv = self.conv(shop, event.payload.conversation_id)
        self.changes.shards[(shop, conv.conv_id)] = shard
        who = Subjects(shop, self.role, CONV, conv.conv_id)
        if kind == EventType.BUYER_MESSAGE:
            change = on_buyer_message(conv, event, self.role, self.policy_for(shop), shard)
            if change.started:
                self.set_timer(who, RESPONSE_SLOT, conv.clock)
            if change.complaint:
                self.raise_now(who, SlaKind.COMPLAINT, conv.complained, trace)
            if change.wants_agent and not decided and conv.assignment_cause != event.event_id:
                op = self.placer(shop).place(conv, cause=event.event_id, expect="free")
                self.reserve(shop, [op] if op else [], trace)
            return
        if kind == EventType.AGENT_MESSAGE:
            change = on_agent_message(conv, event)
            if conv.buyer:
                self.changes.served[(shop, conv.buyer)] = (event.payload.agent_id,
                                                           round(self.now.timestamp() * 1000))
        else:
            change = on_closed(conv, event)
            if not decided:
                placer = self.placer(shop)
                self.reserve(shop, [placer.release(conv, event.event_id),
                                    *placer.drain(event.event_id)], trace)
        if change.stopped is not None:
            self.notices(who, change.stopped, change.notices, event.occurred_at)
            self.set_timer(who, RESPONSE_SLOT, change.stopped)

    def timer(self, claimed, payload: TimerPayload) -> None:
        """A due timer whose milestone the watermark has passed."""
        self.changes.fired.append(claimed)
        who = Subjects(payload.shop, self.role, payload.kind, payload.subject_id)
        key = (payload.shop, payload.subject_id) if payload.kind == CONV else (
            payload.shop, payload.kind, payload.subject_id)
        self.changes.shards[key] = claimed.shard
        if payload.kind == CONV:
            conv = self.conv(payload.shop, payload.subject_id)
            clock = conv.running
        else:
            conv, clock = None, subject_clocks(self, who).get(payload.slot)
        if clock is None or clock.cause != payload.cause:
            return  # an older clock's timer: its clock stopped or restarted
        notice = fire(clock, payload.index)
        if notice is not None:
            self.notices(who, clock, [notice])
            if conv is not None and notice.level == 2 and clock.sla == SlaKind.FIRST_RESPONSE:
                self._reassign_after_breach(who.shop, conv, clock, notice)
        if clock.next_index() is not None:
            self.set_timer(who, payload.slot, clock)

    def _reassign_after_breach(self, shop: str, conv: ConvState, clock: ClockState,
                               notice: Notice) -> None:
        """A breached first response moves the conversation to another free agent."""
        cause = escalation_id(shop, self.role, CONV, conv.conv_id, clock.sla, clock.cause,
                              notice.state.value, notice.level)
        if self.replay(shop, cause, clock.trace or None) or not conv.agent:
            return
        op = self.placer(shop).place(conv, cause=cause, expect=f"={conv.agent}", queue=False,
                                     exclude=frozenset({conv.agent}),
                                     reason=Why.REASSIGNED_AFTER_BREACH)
        self.reserve(shop, [op] if op else [], clock.trace or None)

    # --- after the store answered ---------------------------------------------------
    def take_reservations(self) -> dict[str, list[Reservation]]:
        sent, self.reservations = self.reservations, {}
        self._sent = sent
        return sent

    def resolve(self, results: dict[str, ShopResult], *, counted: bool = True) -> None:
        """Fill the assignment outputs from the store's answers; decide again what came
        back `full` and hand back the conversations of agents who left (next round).
        `counted`: False for a batch's first half, reserved early (`batches.py`): its
        second half has not had its first round yet."""
        self.rounds += counted
        for shop, result in results.items():
            placer = self.placer(shop)
            if result.board is not None:
                placer.board.agents = result.board
            for op, answer in zip(self._sent[shop], result.answers, strict=True):
                self._resolve_one(shop, placer, op, answer)

    def _resolve_one(self, shop: str, placer: Placer, op: Reservation, answer) -> None:
        if isinstance(op, Presence):
            if answer:
                self.reserve(shop, placer.hand_back(op.agent, answer, op.cause),
                             self.cause_traces.get((shop, op.cause)))
            return
        if not isinstance(op, Assign):
            return
        self.changes.causes_done.add((shop, op.cause))
        if answer.status in ("ok", "replay"):
            d = Decision(op.conv, answer.agent, answer.reason, answer.at)
            model = self._assignment(shop, d, self.traces.get(op.slot))
            self.outputs[op.slot] = Outgoing.of(ASSIGNMENTS, model.kafka_key, model)
        elif answer.status == "full":
            conv = placer.known(op.conv) or ConvState(op.conv, op.buyer)
            again = placer.again(op, conv, last_round=self.rounds >= MAX_ROUNDS - 1)
            if again is not None:
                self.reserve(shop, [again], self.traces.get(op.slot))

    def finish(self) -> tuple[list[Outgoing], Changes]:
        return [o for o in self.outputs if o is not None], self.changes


Handler = Callable[[Decider, object, str, bool], None]
"""(decider, event, shard of its partition, whether its cause had decided before)."""
HANDLERS: dict[EventType, Handler] = {
    EventType.AGENT_STATUS: Decider._agent_status,
    EventType.BUYER_MESSAGE: Decider._chat,
    EventType.AGENT_MESSAGE: Decider._chat,
    EventType.CONVERSATION_CLOSED: Decider._chat,
    EventType.ESCALATION_ACKNOWLEDGED: lambda d, event, _shard, _decided: on_acknowledged(
        d, event),
    EventType.CONVERSATION_REASSIGNED: lambda d, event, _shard, decided: on_reassigned(
        d, event, decided),
    **dict.fromkeys(ORDER_EVENT_TYPES, lambda d, event, shard, _decided: on_order_event(
        d, event, shard)),
}
"""The decider's input handlers, by event type: every type a role service consumes."""
