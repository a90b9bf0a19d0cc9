"""Conversation clocks, escalation ids and timer payloads of the role services (pure)."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import orjson

from contracts import Escalation, SlaKind, SubjectKind, example, parse_routed
from services.core.policy import load_policy
from services.roles.conversation import (
    ConvState,
    on_agent_message,
    on_buyer_message,
    on_closed,
    response_clock,
)
from services.roles.escalation import Due, escalation, raised, timer_ids, timer_ops

POLICY = load_policy(None).for_shop("s1")
T0 = datetime.fromisoformat("2026-11-23T10:00:00+08:00")


def routed(kind: str, event_id: str, at=T0, routing=None, **payload):
    if kind == "buyer.message":
        payload.setdefault("buyer_id", "b1")
    body = example(kind, event_id=event_id, shop_id="s1", occurred_at=at.isoformat(),
                   payload={"conversation_id": "c1", **payload})
    if routing:
        body["routing"] = {"intent": routing[0], "role": "aftersale", "priority": routing[1],
                           "confidence": 0.9, "reason": "test", "routed_at": at.isoformat()}
    return parse_routed(orjson.dumps(body))


def test_first_response_starts_once_then_next_response_after_a_reply() -> None:
    state = ConvState("c1")
    first = on_buyer_message(state, routed("buyer.message", "e1"))
    assert first.started == SlaKind.FIRST_RESPONSE and first.wants_agent
    assert (state.clock, state.cause, state.buyer) == ("first_response", "e1", "b1")
    again = on_buyer_message(state, routed("buyer.message", "e2", T0 + timedelta(seconds=30)))
    assert again.started is None and state.cause == "e1", "a clock runs from the first message"
    assert on_agent_message(state, routed("agent.message", "e3")).stopped
    assert state.clock == "" and state.stopped == "e1" and state.answered
    assert not on_agent_message(state, routed("agent.message", "e4")).stopped
    nxt = on_buyer_message(state, routed("buyer.message", "e5"))
    assert nxt.started == SlaKind.NEXT_RESPONSE and state.cause == "e5"


def test_close_stops_the_clock_and_a_new_session_starts_with_first_response() -> None:
    state = ConvState("c1")
    on_buyer_message(state, routed("buyer.message", "e1"))
    on_agent_message(state, routed("agent.message", "e2"))
    on_buyer_message(state, routed("buyer.message", "e3"))
    assert on_closed(state, routed("conversation.closed", "e4")).stopped
    assert state.stopped == "e3" and not state.answered
    assert on_buyer_message(state, routed("buyer.message", "e5")).started == SlaKind.FIRST_RESPONSE


def test_complaint_priority_only_rises_and_state_round_trips() -> None:
    state = ConvState("c1")
    change = on_buyer_message(state, routed("buyer.message", "e1", routing=("complaint", "urgent")))
    assert change.complaint and state.priority == "urgent"
    on_buyer_message(state, routed("buyer.message", "e2", routing=("greeting", "normal")))
    assert state.priority == "urgent"
    fields = {**state.handler_fields(), "agent": "a1", "reason": "sticky", "acause": "e1",
              "at": "5"}
    assert ConvState.from_hash("c1", fields) == ConvState(
        "c1", buyer="b1", agent="a1", reason="sticky", acause="e1", at=5, priority="urgent",
        opened=state.opened, clock="first_response", cause="e1", started=state.started,
        trace=state.trace)


def test_response_clock_uses_the_role_budget_in_business_time() -> None:
    state = ConvState("c1")
    late = datetime.fromisoformat("2026-11-23T23:59:00+08:00")
    event = routed("buyer.message", "e1", late)
    on_buyer_message(state, event)
    clock = response_clock(state, event, "aftersale", POLICY)
    assert clock.deadline == datetime.fromisoformat("2026-11-24T08:02:00+08:00")
    assert clock.slot == "response" and clock.cause == "e1"


def test_timer_ids_are_per_slot_and_escalation_ids_per_cause() -> None:
    state = ConvState("c1")
    e1, e2 = routed("buyer.message", "e1"), routed("buyer.message", "e2")
    on_buyer_message(state, e1)
    ops1 = timer_ops(response_clock(state, e1, "presale", POLICY))
    state = ConvState("c1", answered=True)
    on_buyer_message(state, e2)
    ops2 = timer_ops(response_clock(state, e2, "presale", POLICY))
    assert list(ops1) == list(ops2) == timer_ids("s1", "presale", "conversation", "c1", "response")
    dues1 = [Due.decode(spec[2]) for spec in ops1.values()]
    dues2 = [Due.decode(spec[2]) for spec in ops2.values()]
    assert len({d.escalation_id for d in dues1 + dues2}) == 6
    assert [d.escalation_id for d in dues1] == [Due.decode(s[2]).escalation_id
                                              for s in ops1.values()], "stable"
    assert timer_ids("s1", "aftersale", "conversation", "c1", "response") != list(ops1)


def test_escalation_message_from_a_timer_payload() -> None:
    e1 = routed("buyer.message", "e1")
    state = ConvState("c1")
    on_buyer_message(state, e1)
    specs = [s for s in timer_ops(response_clock(state, e1, "presale", POLICY)).values()]
    due = Due.decode(specs[2][2])
    fired = datetime(2026, 11, 23, 2, 7, tzinfo=UTC)
    model = escalation(due, fired)
    assert isinstance(model, Escalation) and model.kafka_key == "c1"
    assert (model.sla, model.state, model.level) == ("first_response", "breached", 3)
    assert model.deadline == T0 + timedelta(minutes=3) and model.fired_at == fired
    assert model.escalation_id == due.escalation_id


def test_raised_escalations_have_no_deadline_and_an_extra_action_passes_through() -> None:
    due = raised("s1", "aftersale", SubjectKind.CASE, "k1", SlaKind.PLATFORM_INTERVENED, "ev9",
                 None)
    model = escalation(due, T0)
    assert (model.state, model.level, model.deadline) == ("raised", 2, None)
    assert model.escalation_id == escalation(due, T0 + timedelta(hours=1)).escalation_id
    extra = replace(due, extra={"action": "ship_as_ordered"})
    assert escalation(extra, T0).model_dump()["action"] == "ship_as_ordered"
