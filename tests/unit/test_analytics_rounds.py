"""Rounds decided at ingest agree with the role services' response clocks on the same
events: the same rounds open with the same SLA kind and deadline, and a reply is within
its SLA by business seconds exactly when it comes before the clock's deadline. Business
time on split shifts, holidays and a closed night, worked out by hand."""

from datetime import datetime, timedelta

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts import example, parse_routed
from services.analytics.rounds import ConversationMemo, apply_chat
from services.core.policy import parse_policy
from services.roles.clock_state import from_us
from services.roles.conversation import ConvState, on_agent_message, on_buyer_message, on_closed

POLICY = parse_policy({"shops": {"s1": {
    "business_hours": {"mon-fri": [["09:00", "12:00"], ["13:00", "18:00"]],
                       "sat": [["10:00", "16:00"]], "sun": []},
    "holidays": ["2026-11-04"],  # a Wednesday
    "sla": {"presale": {"first_response": "3m", "next_response": "2m"}},
}}}).for_shop("s1")
MONDAY = datetime.fromisoformat("2026-11-02T08:30:00+08:00")


def event(kind: str, n: int, at: datetime):
    payload = {"conversation_id": "c1"}
    if kind == "buyer.message":
        payload.update(buyer_id="b1", message_id=f"m{n}", text="?")
    elif kind == "agent.message":
        payload.update(agent_id="a1", message_id=f"m{n}", text="!")
    body = example(kind, event_id=f"e{n}", shop_id="s1", occurred_at=at.isoformat())
    body["payload"] = payload  # exactly these, no example fields
    if kind == "buyer.message":
        body["routing"] = {"intent": "greeting", "role": "presale", "priority": "normal",
                           "confidence": 1.0, "reason": "t", "routed_at": at.isoformat()}
    return parse_routed(orjson.dumps(body))


def business_seconds(start: str, reply: str) -> float:
    memo = ConversationMemo()
    apply_chat(memo, event("buyer.message", 1, datetime.fromisoformat(start)), "presale", POLICY)
    row = apply_chat(memo, event("agent.message", 2, datetime.fromisoformat(reply)), "presale",
                     POLICY)
    return row["business_ms"] / 1000


def test_business_seconds_skip_lunch_the_night_the_weekend_and_holidays():
    assert business_seconds("2026-11-02T11:59:00+08:00", "2026-11-02T13:01:00+08:00") == 120
    assert business_seconds("2026-11-02T17:59:00+08:00", "2026-11-03T09:02:00+08:00") == 180
    assert business_seconds("2026-11-03T17:59:30+08:00", "2026-11-05T09:00:30+08:00") == 60
    assert business_seconds("2026-11-07T15:59:00+08:00", "2026-11-09T09:01:00+08:00") == 120
    assert business_seconds("2026-11-08T20:00:00+08:00", "2026-11-09T08:59:00+08:00") == 0


def test_a_round_keeps_both_its_calendar_and_its_business_duration():
    """A question at 17:59 answered at 09:02 the next morning: 15 h 3 min on the calendar,
    3 business minutes (the shop was closed overnight)."""
    memo = ConversationMemo()
    apply_chat(memo, event("buyer.message", 1, datetime.fromisoformat(
        "2026-11-02T17:59:00+08:00")), "presale", POLICY)
    row = apply_chat(memo, event("agent.message", 2, datetime.fromisoformat(
        "2026-11-03T09:02:00+08:00")), "presale", POLICY)
    assert (row["response_ms"], row["business_ms"]) == ((15 * 3600 + 3 * 60) * 1000, 180_000)


def test_a_round_remembers_the_product_its_question_named():
    memo = ConversationMemo()
    question = event("buyer.message", 1, MONDAY + timedelta(hours=1))
    question.payload.item_id = "sweater-gray-M"
    assert apply_chat(memo, question, "presale", POLICY)["item_id"] == "sweater-gray-M"
    unnamed = apply_chat(ConversationMemo(), event("buyer.message", 2, MONDAY), "presale",
                         POLICY)
    assert unnamed["item_id"] == ""


def test_a_round_runs_from_the_first_unanswered_message_to_the_first_reply():
    memo, at = ConversationMemo(), MONDAY + timedelta(hours=1)  # 09:30
    opened = apply_chat(memo, event("buyer.message", 1, at), "presale", POLICY)
    assert (opened["sla"], opened["end_reason"], opened["version"]) == ("first_response", "", 1)
    assert apply_chat(memo, event("buyer.message", 2, at + timedelta(seconds=20)), "presale",
                      POLICY) is None, "a second message joins the open round"
    ended = apply_chat(memo, event("agent.message", 3, at + timedelta(seconds=50)), "presale",
                       POLICY)
    assert (ended["round_id"], ended["business_ms"], ended["agent_id"]) == ("e1", 50_000, "a1")
    assert apply_chat(memo, event("agent.message", 4, at + timedelta(seconds=60)), "presale",
                      POLICY) is None, "a second reply ends nothing"
    nxt = apply_chat(memo, event("buyer.message", 5, at + timedelta(seconds=90)), "presale",
                     POLICY)
    assert nxt["sla"] == "next_response"
    closed = apply_chat(memo, event("conversation.closed", 6, at + timedelta(seconds=99)),
                        "presale", POLICY)
    assert (closed["end_reason"], closed["business_ms"]) == ("closed", None)
    again = apply_chat(memo, event("buyer.message", 7, at + timedelta(seconds=120)), "presale",
                       POLICY)
    assert again["sla"] == "first_response", "a closed conversation starts a new session"


STEPS = st.lists(st.tuples(st.sampled_from(["buyer.message", "buyer.message", "agent.message",
                                            "conversation.closed"]),
                           st.integers(min_value=1, max_value=20 * 3600)), max_size=25)


@settings(max_examples=150, deadline=None)
@given(STEPS)
def test_rounds_agree_with_the_role_services_response_clocks(steps):
    state, memo, at = ConvState("c1"), ConversationMemo(), MONDAY
    clocks, rounds = [], []
    for n, (kind, gap) in enumerate(steps):
        at += timedelta(seconds=gap)
        ev = event(kind, n, at)
        if kind == "buyer.message":
            change = on_buyer_message(state, ev, "presale", POLICY, "kefu.role.presale:0")
        else:
            change = (on_agent_message if kind == "agent.message" else on_closed)(state, ev)
        if change.started:
            clocks.append((state.clock.sla, ev.occurred_at, from_us(state.clock.deadline)))
        row = apply_chat(memo, ev, "presale", POLICY)
        if row is not None and row["version"] == 1:
            rounds.append((row["sla"], ev.occurred_at, datetime.fromisoformat(
                row["deadline"] + "+00:00")))
        if row is not None and row["end_reason"] == "reply":
            budget = getattr(POLICY.sla.presale, row["sla"]).total_seconds() * 1000
            deadline = clocks[-1][2]
            assert (row["business_ms"] < budget) == (ev.occurred_at < deadline)
    assert rounds == clocks
