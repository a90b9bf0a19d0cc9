"""Conversation clocks, escalation ids and timer payloads of the role services (pure)."""

from datetime import UTC, datetime, timedelta

import orjson
import pytest

from contracts import Escalation, EscalationState, SlaKind, example, parse_routed
from services.core.policy import load_policy
from services.roles.clock_state import Notice, from_us, to_us
from services.roles.conversation import (
    ConvState,
    on_agent_message,
    on_buyer_message,
    on_closed,
    response_clock,
)
from services.roles.escalation import (
    Subjects,
    TimerPayload,
    clock_escalation,
    escalation_id,
    raised,
    timer_id,
)

POLICY = load_policy(None).for_shop("s1")
T0 = datetime.fromisoformat("2026-11-23T10:00:00.123456+08:00")
SHARD = "kefu.role.presale:1"


def routed(kind: str, event_id: str, at=T0, routing=None, **payload):
    if kind == "buyer.message":
        payload.setdefault("buyer_id", "b1")
    body = example(kind, event_id=event_id, shop_id="s1", occurred_at=at.isoformat(),
                   payload={"conversation_id": "c1", **payload})
    if routing:
        body["routing"] = {"intent": routing[0], "role": "aftersale", "priority": routing[1],
                           "confidence": 0.9, "reason": "test", "routed_at": at.isoformat()}
    return parse_routed(orjson.dumps(body))


def buyer(conv, event_id, at=T0, routing=None):
    return on_buyer_message(conv, routed("buyer.message", event_id, at, routing), "presale",
                            POLICY, SHARD)


def test_first_response_starts_once_then_next_response_after_a_reply() -> None:
    conv = ConvState("c1")
    first = buyer(conv, "e1")
    assert first.started and first.wants_agent
    assert (conv.clock.sla, conv.clock.cause, conv.buyer) == ("first_response", "e1", "b1")
    again = buyer(conv, "e2", T0 + timedelta(seconds=30))
    assert not again.started and conv.clock.cause == "e1", "a clock runs from the first message"
    stopped = on_agent_message(conv, routed("agent.message", "e3", T0 + timedelta(seconds=40)))
    assert stopped.stopped is not None and stopped.notices == [], "answered in time"
    assert conv.running is None and conv.answered
    assert on_agent_message(conv, routed("agent.message", "e4")).stopped is None
    nxt = buyer(conv, "e5", T0 + timedelta(minutes=1))
    assert nxt.started and (conv.clock.sla, conv.clock.cause) == ("next_response", "e5")


def test_a_reply_after_the_deadline_owes_the_breach_it_ran_into() -> None:
    conv = ConvState("c1")
    buyer(conv, "e1")
    late = on_agent_message(conv, routed("agent.message", "e2", T0 + timedelta(minutes=4)))
    assert [(n.state.value, n.level) for n in late.notices] == [
        ("warning", 1), ("breached", 2), ("resolved", 2)]


def test_close_stops_the_clock_and_a_new_session_starts_with_first_response() -> None:
    conv = ConvState("c1")
    buyer(conv, "e1")
    on_agent_message(conv, routed("agent.message", "e2"))
    buyer(conv, "e3")
    assert on_closed(conv, routed("conversation.closed", "e4")).stopped is not None
    assert not conv.answered and conv.opened == 0
    buyer(conv, "e5")
    assert conv.clock.sla == "first_response"


def test_complaint_priority_only_rises() -> None:
    conv = ConvState("c1")
    change = buyer(conv, "e1", routing=("complaint", "urgent"))
    assert change.complaint and conv.priority == "urgent"
    buyer(conv, "e2", routing=("greeting", "normal"))
    assert conv.priority == "urgent"


def test_response_clock_counts_the_role_budget_in_business_time_to_the_microsecond() -> None:
    late = datetime.fromisoformat("2026-11-23T23:59:00.000250+08:00")
    clock = response_clock(SlaKind.FIRST_RESPONSE, routed("buyer.message", "e1", late),
                           "aftersale", POLICY, SHARD)
    assert from_us(clock.deadline) == datetime.fromisoformat("2026-11-24T08:02:00.000250+08:00")
    assert clock.start == to_us(late) and clock.shard == SHARD and clock.cause == "e1"
    ontime = response_clock(SlaKind.FIRST_RESPONSE, routed("buyer.message", "e1", T0),
                            "presale", POLICY, SHARD)
    assert from_us(ontime.deadline) == T0 + timedelta(minutes=3)


def test_timer_ids_are_per_slot_and_escalation_ids_per_cause_state_and_level() -> None:
    assert timer_id("s1", "presale", "conversation", "c1", "response") == \
        timer_id("s1", "presale", "conversation", "c1", "response")
    assert timer_id("s1", "presale", "conversation", "c1", "response") != \
        timer_id("s1", "aftersale", "conversation", "c1", "response")
    ids = {escalation_id("s1", "presale", "conversation", "c1", "first_response", cause, s, lv)
           for cause in ("e1", "e5") for s, lv in (("breached", 2), ("retracted", 2),
                                                   ("resolved", 2), ("breached", 3))}
    assert len(ids) == 8


def test_timer_payload_round_trips_and_rejects_foreign_data() -> None:
    payload = TimerPayload("s1", "conversation", "c1", "response", "e1", 1)
    assert TimerPayload.decode(payload.encode()) == payload
    for bad in (b"[1,2]", b'{"a": 1}', b'["s","k","i","r","c","x"]'):
        with pytest.raises((ValueError, TypeError)):
            TimerPayload.decode(bad)


def test_escalation_messages_of_a_clock_and_its_corrections() -> None:
    clock = response_clock(SlaKind.FIRST_RESPONSE, routed("buyer.message", "e1"), "presale",
                           POLICY, SHARD)
    who = Subjects("s1", "presale", "conversation", "c1")
    fired = datetime(2026, 11, 23, 2, 7, tzinfo=UTC)
    breach = clock_escalation(who, clock, Notice(2, EscalationState.BREACHED), fired)
    assert isinstance(breach, Escalation) and breach.kafka_key == "c1"
    assert (breach.sla, breach.state, breach.level) == ("first_response", "breached", 3)
    assert breach.deadline == T0 + timedelta(minutes=3) and breach.fired_at == fired
    assert breach.resolved_at is None
    stopped = T0 + timedelta(minutes=7)
    resolved = clock_escalation(who, clock, Notice(1, EscalationState.RESOLVED), fired, stopped)
    assert (resolved.state, resolved.level, resolved.resolved_at) == ("resolved", 2, stopped)
    retracted = clock_escalation(who, clock, Notice(1, EscalationState.RETRACTED), fired, stopped)
    assert retracted.resolved_at is None and retracted.deadline == breach.deadline
    assert len({breach.escalation_id, resolved.escalation_id, retracted.escalation_id}) == 3


def test_raised_escalations_have_no_deadline_and_a_stable_id() -> None:
    who = Subjects("s1", "aftersale", "case", "k1")
    model = raised(who, SlaKind.PLATFORM_INTERVENED, "ev9", T0, None)
    assert (model.state, model.level, model.deadline) == ("raised", 2, None)
    assert model.escalation_id == raised(who, SlaKind.PLATFORM_INTERVENED, "ev9",
                                         T0 + timedelta(hours=1), None).escalation_id
