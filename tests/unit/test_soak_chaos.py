"""The soak's chaos mode on fakes: the seeded fault plan and the invariant checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from benchmarks.soak.accounting import Ledger
from benchmarks.soak.chaos import invariants
from benchmarks.soak.chaos.history import ChaosHistory
from benchmarks.soak.chaos.plan import (
    BROKER_RESTART,
    KILL,
    REDIS_REFUSE_WRITES,
    STOP,
    most_down_at_once,
    plan_faults,
)
from benchmarks.soak.chaos.receiver import WebhookReceiver
from benchmarks.soak.sla_check import SlaCheck, SlaPolicy
from contracts import topics
from services.notifier.decide import notification_id
from services.notifier.signing import signed_headers

REPLICAS = [f"{service}{suffix}" for service in ("router", "presale", "aftersale", "notifier")
            for suffix in ("", "-2")]
RUN = "-r1-"
T0 = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
MIN3 = timedelta(minutes=3)


# -- the plan -----------------------------------------------------------------------------

def test_the_same_seed_gives_the_same_plan_and_another_seed_another() -> None:
    assert plan_faults(7, 600, REPLICAS) == plan_faults(7, 600, REPLICAS)
    assert plan_faults(7, 600, REPLICAS) != plan_faults(8, 600, REPLICAS)


@pytest.mark.parametrize("seed", range(30))
def test_never_more_than_one_replica_of_a_service_is_down(seed: int) -> None:
    plan = plan_faults(seed, 600, REPLICAS)
    assert all(down <= 1 for down in most_down_at_once(plan).values())
    assert sum(f.kind in (KILL, STOP) for f in plan) >= 5
    assert all(f.at + f.seconds <= 600 for f in plan)
    assert [f.kind for f in plan].count(BROKER_RESTART) == 1


def test_every_write_refusal_kills_a_replica_halfway_and_waits_for_it() -> None:
    faults = [f for seed in range(10) for f in plan_faults(seed, 600, REPLICAS)]
    refusals = [f for f in faults if f.kind == REDIS_REFUSE_WRITES]
    assert len(refusals) >= 10
    assert all(f.also_kill in REPLICAS for f in refusals)
    assert all(f.window > f.seconds for f in refusals)  # the restart is in its window
    assert all(f.also_kill is None for f in faults if f.kind != REDIS_REFUSE_WRITES)


def test_faults_never_overlap_in_time() -> None:
    plan = [f for f in plan_faults(3, 600, REPLICAS) if f.kind != BROKER_RESTART]
    assert all(a.at + a.window <= b.at for a, b in zip(plan, plan[1:], strict=False))


# -- the invariants -----------------------------------------------------------------------

def routed_history(*outputs: tuple[str, str, float]) -> Ledger:
    ledger = Ledger("evt-r1-", track_repeats=True)
    for eid in ("evt-r1-1", "evt-r1-2"):
        ledger.sent(eid, (topics.ORDERS,), 0.0)
    for eid, topic, at in outputs:
        ledger.observe(eid, topic, at)
    return ledger


def test_every_input_routed_once_passes_and_a_lost_input_fails() -> None:
    clean = routed_history(("evt-r1-1", topics.ORDERS, 1), ("evt-r1-2", topics.ORDERS, 1))
    assert invariants.routed_once(clean.summary(), clean.repeats, [])["ok"]
    lost = routed_history(("evt-r1-1", topics.ORDERS, 1))
    result = invariants.routed_once(lost.summary(), lost.repeats, [])
    assert not result["ok"] and "evt-r1-2" in result["violations"][0]


def test_a_repeated_output_is_explained_only_by_a_fault_between_its_sightings() -> None:
    ledger = routed_history(("evt-r1-1", topics.ORDERS, 100), ("evt-r1-2", topics.ORDERS, 100),
                            ("evt-r1-1", topics.ORDERS, 160))
    assert invariants.routed_once(ledger.summary(), ledger.repeats, [120])["ok"]
    result = invariants.routed_once(ledger.summary(), ledger.repeats, [10, 200])
    assert not result["ok"] and "without a fault" in result["violations"][0]


def escalation(eid: str, conv: str, state: str = "breached", level: int = 2,
               deadline: datetime = T0 + MIN3) -> dict:
    return {"escalation_id": eid, "shop_id": "s1", "role": "presale",
            "subject": {"kind": "conversation", "id": conv}, "sla": "first_response",
            "level": level, "state": state, "deadline": deadline.isoformat(),
            "fired_at": (deadline + timedelta(seconds=1)).isoformat()}


def notification(nid: str, conv: str, kind: str = "escalation_alert") -> dict:
    return {"notification_id": nid, "shop_id": "s1", "audience": "supervisor", "kind": kind,
            "channel": "webhook", "conversation_id": conv}


def alert_id(eid: str) -> str:
    return notification_id("s1", eid, "escalation_alert", "supervisor")


def test_clean_ids_pass() -> None:
    history = ChaosHistory(RUN)
    history.output(topics.ESCALATIONS, escalation("e1", "c-r1-1"), 1)
    history.output(topics.NOTIFICATIONS, notification(alert_id("e1"), "c-r1-1"), 2)
    assert invariants.ids_unique_or_explained(history, [])["ok"]


def test_two_ids_for_one_escalation_cause_fail() -> None:
    history = ChaosHistory(RUN)
    history.output(topics.ESCALATIONS, escalation("e1", "c-r1-1"), 1)
    history.output(topics.ESCALATIONS, escalation("e2", "c-r1-1"), 2)
    result = invariants.ids_unique_or_explained(history, [1.5])
    assert not result["ok"]
    assert "escalation causes with two or more ids" in result["violations"][0]


def test_one_id_for_two_causes_and_an_underived_notification_id_fail() -> None:
    history = ChaosHistory(RUN)
    history.output(topics.ESCALATIONS, escalation("e1", "c-r1-1"), 1)
    history.output(topics.ESCALATIONS, escalation("e1", "c-r1-2"), 2)
    history.output(topics.NOTIFICATIONS, notification("made-up", "c-r1-1"), 3)
    violations = invariants.ids_unique_or_explained(history, [1.5])["violations"]
    assert any("escalation ids naming two causes" in v for v in violations)
    assert any("not derived from any cause" in v and "made-up" in v for v in violations)


def test_a_repeated_raised_escalation_is_by_design() -> None:
    history = ChaosHistory(RUN)
    raised = {**escalation("e9", "c-r1-1", state="raised"), "deadline": None}
    history.output(topics.ESCALATIONS, raised, 1)
    history.output(topics.ESCALATIONS, raised, 50)
    assert invariants.ids_unique_or_explained(history, [])["ok"]


def test_a_false_breach_fails_and_a_true_one_passes() -> None:
    check = SlaCheck(SlaPolicy({("presale", "first_response"): MIN3,
                                ("presale", "next_response"): MIN3}, 0.8, 2.0))
    for kind, conv, seconds, eid in (("buyer.message", "answered", 0, "b1"),
                                     ("agent.message", "answered", 60, "a1"),
                                     ("buyer.message", "ignored", 0, "b2")):
        check.sent({"event_type": kind, "event_id": eid, "payload": {"conversation_id": conv},
                    "occurred_at": (T0 + timedelta(seconds=seconds)).isoformat()})
        check.routed(eid, "presale")
    check.observe(escalation("true", "ignored"))
    assert invariants.breaches_true_and_once(check.summary(T0 + 2 * MIN3))["ok"]
    check.observe(escalation("false", "answered"))
    result = invariants.breaches_true_and_once(check.summary(T0 + 2 * MIN3))
    assert not result["ok"] and "1 false" in result["violations"][0]


def test_webhooks_delivered_and_acted_once_pass() -> None:
    assert invariants.webhooks_once({"n1", "n2"}, {"n1": 1, "n2": 3}, {"n1": 1, "n2": 1},
                                    0)["ok"]


@pytest.mark.parametrize(("deliveries", "acted", "rejected", "found"), [
    ({"n1": 1}, {"n1": 1}, 0, "never delivered: n2"),
    ({"n1": 1, "n2": 2}, {"n1": 1, "n2": 2}, 0, "n2 x2"),
    ({"n1": 1, "n2": 1, "n3": 1}, {"n1": 1, "n2": 1, "n3": 1}, 0, "never recorded"),
    ({"n1": 1, "n2": 1}, {"n1": 1, "n2": 1}, 1, "failed verification"),
])
def test_webhook_violations_are_reported(deliveries, acted, rejected, found) -> None:
    result = invariants.webhooks_once({"n1", "n2"}, deliveries, acted, rejected)
    assert not result["ok"] and any(found in v for v in result["violations"])


async def test_the_receiver_counts_signed_deliveries_and_acts_once() -> None:
    receiver = WebhookReceiver("s3cret")
    await receiver.start()
    body = b'{"notification_id": "n1"}'
    try:
        async with aiohttp.ClientSession() as http:
            for attempt in (1, 2):
                headers = signed_headers("s3cret", body, "n1", attempt)
                async with http.post(receiver.url, data=body, headers=headers) as resp:
                    assert resp.status == 200
            forged = signed_headers("other", body, "n1", 3)
            async with http.post(receiver.url, data=body, headers=forged) as resp:
                assert resp.status == 401
    finally:
        await receiver.stop()
    assert receiver.deliveries == {"n1": 2} and receiver.acted == {"n1": 1}
    assert receiver.rejected == 1


def test_the_webhook_check_judges_the_run_as_it_ended_not_what_came_after() -> None:
    """Escalations due after the end are still alerted while the stack stops, after the
    soak's reader stopped: such a delivery is not one 'never recorded'."""
    from types import SimpleNamespace

    from benchmarks.soak.chaos.faults import FaultRunner
    from benchmarks.soak.chaos.run import ChaosRun

    chaos = ChaosRun(seed=1, seconds=60, receiver=WebhookReceiver("s3cret"), marker=RUN)
    chaos.runner = FaultRunner([], SimpleNamespace(children=[]), [], {})
    chaos.history.webhook_ids.add("n1")
    chaos.receiver.deliveries["n1"] += 1
    chaos.receiver.acted["n1"] += 1
    chaos.freeze()
    chaos.receiver.deliveries["late"] += 1  # after the end: the reader never sees it
    chaos.receiver.acted["late"] += 1
    delivery = {"lost_outputs": 0, "lost_events": 0, "lost_sample": [], "misrouted": 0,
                "unknown": 0}
    checks = chaos.report(delivery, [], None)["invariants"]
    assert checks["webhooks_delivered_acted_once"]["ok"]
    assert checks["webhooks_delivered_acted_once"]["figures"]["delivered_ids"] == 1
