"""The soak's check of every escalation against its traffic (benchmarks.soak.sla_check)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from benchmarks.soak.sla_check import SlaCheck, SlaPolicy

T0 = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
MIN3 = timedelta(minutes=3)
POLICY = SlaPolicy({("presale", "first_response"): MIN3, ("presale", "next_response"): MIN3,
                    ("aftersale", "first_response"): MIN3,
                    ("aftersale", "next_response"): timedelta(minutes=5)}, 0.8, 2.0)


def event(kind: str, conv: str, seconds: float, event_id: str) -> dict:
    return {"event_type": kind, "event_id": event_id, "payload": {"conversation_id": conv},
            "occurred_at": (T0 + timedelta(seconds=seconds)).isoformat()}


def escalation(conv: str, sla: str, deadline: datetime, state: str, level: int,
               role: str = "presale", eid: str | None = None) -> dict:
    return {"escalation_id": eid or f"{conv}-{sla}-{state}-{level}", "role": role,
            "subject": {"kind": "conversation", "id": conv}, "sla": sla, "state": state,
            "level": level, "deadline": deadline.isoformat()}


def check_with(*events: dict) -> SlaCheck:
    check = SlaCheck(POLICY)
    for e in events:
        check.sent(e)
        check.routed(e["event_id"], "presale")
    return check


def test_a_breach_of_a_round_answered_in_time_is_false_and_a_late_one_is_not() -> None:
    check = check_with(event("buyer.message", "ok", 0, "b1"),
                       event("agent.message", "ok", 60, "r1"),
                       event("buyer.message", "late", 0, "b2"),
                       event("agent.message", "late", 200, "r2"))
    check.observe(escalation("ok", "first_response", T0 + MIN3, "breached", 2))
    check.observe(escalation("late", "first_response", T0 + MIN3, "breached", 2))
    check.observe(escalation("late", "first_response", T0 + MIN3, "warning", 1))
    summary = check.summary(T0 + timedelta(hours=1))
    assert summary["false"] == 1 and check.false[0]["subject"]["id"] == "ok"
    assert (summary["owed_breaches"], summary["missing_breaches"]) == (1, 0)


def test_a_warning_after_a_reply_is_false_but_a_warning_before_it_is_not() -> None:
    check = check_with(event("buyer.message", "c", 0, "b1"), event("agent.message", "c", 150, "r1"))
    check.observe(escalation("c", "first_response", T0 + MIN3, "warning", 1))  # at 144 s
    assert check.false == []
    check = check_with(event("buyer.message", "c", 0, "b1"), event("agent.message", "c", 100, "r1"))
    check.observe(escalation("c", "first_response", T0 + MIN3, "warning", 1))
    assert len(check.false) == 1


def test_unanswered_rounds_owe_one_breach_each_missing_and_repeats_are_counted() -> None:
    check = check_with(event("buyer.message", "a", 0, "b1"), event("buyer.message", "a", 30, "b2"),
                       event("agent.message", "a", 400, "r1"),
                       event("buyer.message", "a", 500, "b3"),  # next_response, never answered
                       event("buyer.message", "z", 0, "b4"), event("conversation.closed", "z", 10,
                                                                   "c1"))
    next_deadline = T0 + timedelta(seconds=500) + MIN3
    check.observe(escalation("a", "first_response", T0 + MIN3, "breached", 2, eid="x"))
    check.observe(escalation("a", "first_response", T0 + MIN3, "breached", 2, eid="y"))
    summary = check.summary(T0 + timedelta(hours=1))
    assert summary["owed_breaches"] == 2
    assert summary["missing_breaches"] == 1 and next_deadline.isoformat() in \
        summary["missing_sample"][0]
    assert summary["repeated_breach_ids"] == 1 and summary["false"] == 0


def test_the_drain_waits_for_owed_breaches_until_each_is_published() -> None:
    check = check_with(event("buyer.message", "a", 0, "b1"))
    horizon = T0 + MIN3 + timedelta(seconds=1)  # sending ended just after the deadline
    assert [(c, s) for c, s, _ in check.missing(horizon)] == [("a", "first_response")]
    check.observe(escalation("a", "first_response", T0 + MIN3, "breached", 2, eid="x"))
    assert check.missing(horizon) == []


def test_deadlines_after_the_horizon_are_not_owed_yet_and_corrections_are_counted() -> None:
    check = check_with(event("buyer.message", "a", 0, "b1"))
    assert check.summary(T0 + MIN3)["owed_breaches"] == 0
    check.observe(escalation("a", "first_response", T0 + MIN3, "retracted", 2))
    check.observe(escalation("a", "first_response", T0 + MIN3, "resolved", 2))
    summary = check.summary(T0 + MIN3 + timedelta(seconds=1))
    assert (summary["retracted"], summary["resolved"], summary["owed_breaches"]) == (1, 1, 1)


def test_an_escalation_no_round_of_the_traffic_explains_is_reported() -> None:
    check = check_with(event("buyer.message", "a", 0, "b1"))
    check.observe(escalation("a", "first_response", T0 + MIN3 + timedelta(seconds=7),
                             "breached", 2))
    assert check.summary(T0)["unexplained"] == 1


def handed_over(*events: dict, to_aftersale: set[str]) -> SlaCheck:
    check = SlaCheck(POLICY)
    for e in events:
        check.sent(e)
        check.routed(e["event_id"], "aftersale" if e["event_id"] in to_aftersale else "presale")
    return check


def test_a_handover_to_aftersale_ends_presales_round_and_starts_a_new_session() -> None:
    """Pre-sale answered once; the buyer's next message goes to after-sale, whose agent
    answers it late: after-sale owes a first_response breach (a new session there), and
    pre-sale owes nothing, nor may it warn after the handover."""
    check = handed_over(event("buyer.message", "c", 0, "b1"), event("agent.message", "c", 30, "r1"),
                        event("buyer.message", "c", 60, "b2"),
                        event("buyer.message", "c", 70, "b3"),
                        event("agent.message", "c", 400, "r2"), to_aftersale={"b3"})
    owed = check.owed_breaches(T0 + timedelta(hours=1))
    assert owed == {("c", "first_response", T0 + timedelta(seconds=70) + MIN3):
                    T0 + timedelta(seconds=70) + MIN3}
    check.observe(escalation("c", "next_response", T0 + timedelta(seconds=60) + MIN3,
                             "warning", 1))  # pre-sale's clock after the handover
    assert len(check.false) == 1


def test_a_round_that_ran_out_before_the_handover_still_owes_its_breach() -> None:
    check = handed_over(event("buyer.message", "c", 0, "b1"),
                        event("buyer.message", "c", 200, "b2"),
                        event("agent.message", "c", 210, "r1"), to_aftersale={"b2"})
    assert set(check.owed_breaches(T0 + timedelta(hours=1))) == {("c", "first_response", T0 + MIN3)}
