"""SLA clocks judged on event time, on the real broker and Redis, with the role service
as a real process: a backlog delays escalations but never makes a false one, a stop read
after its breach corrects it, and a replica that dies behind loses nothing and invents
nothing. The first-response SLA is 3 s (warning at 2.4 s, level 3 at 6 s)."""

from __future__ import annotations

import os
import signal
from datetime import timedelta

import orjson
import pytest

from contracts import topics
from services.core.embedded import free_port
from tests.conftest import unique
from tests.e2e import role_replica as r
from tests.support.faults import FirstSeen, committed_offsets, ends_of
from tests.support.kafka_io import wait_until
from tests.support.processes import ServiceProcess
from tests.support.redis_faults import redis_fault
from tests.support.services import running

pytestmark = pytest.mark.e2e
POLICY = r.THREE_SECONDS
LEVEL3 = 6.0
ANSWERED, UNANSWERED = 300, 30


def of_shop(shop: str):
    return lambda body, _record: body.get("shop_id") == shop


def escalation_key(body: dict) -> tuple[str, str, int]:
    return body["subject"]["id"], body["state"], body["level"]


def full_ladder(convs) -> set[tuple[str, str, int]]:
    return {(c, s, lv) for c in convs for s, lv in (("warning", 1), ("breached", 2),
                                                       ("breached", 3))}


async def produce_conversations(kafka, shop: str, t0) -> tuple[list, list, list]:
    """Buyer messages at t0; 1 s later, replies to the answered ones (sent then, as
    agents reply in real time). Returns the answered and unanswered ids, and what was
    produced (record metadata)."""
    answered = [unique("ok") for _ in range(ANSWERED)]
    unanswered = [unique("late") for _ in range(UNANSWERED)]
    producer = await kafka.producer()
    sent = []
    for conv in answered + unanswered:
        body = r.buyer(shop, conv, at=t0, buyer_id=f"b-{conv}")
        sent.append(await producer.send(topics.ROLE_PRESALE, orjson.dumps(body),
                                        key=conv.encode()))
    await wait_until(lambda: r.now() >= t0 + timedelta(seconds=1), timeout=5, interval=0.02)
    for conv in answered:
        body = r.agent_says(shop, conv, at=r.now())
        sent.append(await producer.send(topics.ROLE_PRESALE, orjson.dumps(body),
                                        key=conv.encode()))
    return answered, unanswered, [await f for f in sent]


async def wall_clock_past(t0, seconds: float) -> None:
    """The scenario needs the deadlines to pass on the wall clock while the service is
    stopped (no event to wait for: time itself is what the test waits for)."""
    assert await wait_until(lambda: r.now() >= t0 + timedelta(seconds=seconds),
                            timeout=seconds + 5, interval=0.05)


def resume(proc: ServiceProcess) -> None:
    if proc.proc is not None and proc.proc.poll() is None:
        os.kill(proc.proc.pid, signal.SIGCONT)


async def settled_escalations(stack, kafka, settings, shop: str, produced,
                              timeout: float) -> FirstSeen:
    """The shop's escalations once every unanswered ladder was published and the service
    has committed all its input: read from the start again then, so that one more than
    was seen would be an escalation that came late."""
    seen = FirstSeen(of_shop(shop), escalation_key)
    await kafka.collect(topics.ESCALATIONS, seen, count=3 * UNANSWERED, timeout=timeout)
    assert await wait_until(lambda: caught_up(stack, settings, ends_of(produced)),
                            timeout=60), "presale did not catch up"
    final = FirstSeen(of_shop(shop), escalation_key)
    await kafka.collect(topics.ESCALATIONS, final, count=len(seen.ids) + 1, timeout=2,
                        at_least=len(seen.ids))
    return final


async def caught_up(stack, settings, ends) -> bool:
    done = await committed_offsets(stack.broker.bootstrap, settings.group_id("presale"),
                                   topics.ROLE_PRESALE)
    return all(done.get(p, 0) >= end for (_t, p), end in ends.items())


@pytest.fixture
def settings(stack, tmp_path):
    return stack.settings(policy_file=r.write_policy(tmp_path, POLICY))


async def test_a_paused_service_publishes_no_false_breach_and_every_true_one(
        stack, kafka, settings, tmp_path) -> None:
    shop = unique("shop")
    presale = ServiceProcess("presale", settings, tmp_path).start()
    try:
        assert await presale.ready(), "presale did not become ready"
        os.kill(presale.proc.pid, signal.SIGSTOP)  # a deploy, a long GC, a rebalance
        t0 = r.now()
        answered, unanswered, produced = await produce_conversations(kafka, shop, t0)
        await wall_clock_past(t0, LEVEL3 + 2)  # every deadline is past on the wall clock
        resume(presale)
        seen = await settled_escalations(stack, kafka, settings, shop, produced, timeout=60)
    finally:
        resume(presale)
        presale.kill()
    false = {key for key in seen.ids if key[0] in set(answered)}
    assert not false, f"{len(false)} escalations for conversations answered in time"
    assert seen.ids == full_ladder(unanswered)
    breaches = [b for b in seen.all if b["state"] == "breached" and b["level"] == 2]
    assert sorted(b["subject"]["id"] for b in breaches) == sorted(unanswered), \
        "exactly one breach for each unanswered conversation"


@pytest.mark.parametrize("fault", ["down", "refusing_writes"])
async def test_replies_made_while_redis_fails_stop_their_clocks(
        stack, kafka, settings, tmp_path, fault) -> None:
    """Redis down or refusing writes while buyers write and agents answer: once it is
    back, no answered conversation is escalated, and every unanswered one is, once."""
    shop = unique("shop")
    presale = ServiceProcess("presale", settings, tmp_path).start()
    trouble = redis_fault(fault, stack)
    try:
        assert await presale.ready(), "presale did not become ready"
        await kafka.send(topics.ROLE_PRESALE, r.status(shop, "a1", "online",
                                                       max_concurrent=1000), "a1")
        probe = unique("probe")
        await kafka.send(topics.ROLE_PRESALE, r.buyer(shop, probe), probe)
        await kafka.collect(topics.ASSIGNMENTS, lambda b, _: b["conversation_id"] == probe
                            and b.get("agent_id") == "a1", count=1, timeout=30)
        await kafka.send(topics.ROLE_PRESALE, r.closed(shop, probe), probe)
        await trouble.begin()
        try:
            t0 = r.now()
            answered, unanswered, produced = await produce_conversations(kafka, shop, t0)
            await wall_clock_past(t0, LEVEL3 + 2)
        finally:
            await trouble.end()
        seen = await settled_escalations(stack, kafka, settings, shop, produced, timeout=90)
    finally:
        presale.kill()
    false = {key for key in seen.ids if key[0] in set(answered)}
    assert not false, f"{len(false)} escalations for conversations answered in time"
    assert seen.ids - full_ladder([probe]) == full_ladder(unanswered), \
        "a breach was lost while Redis failed"


async def test_a_reply_read_after_its_breach_retracts_it_and_tells_the_supervisor(
        stack, kafka, settings) -> None:
    shop, conv = unique("shop"), unique("c")
    notifier = settings.model_copy(update={"http_port": free_port()})
    async with running("presale", settings), running("notifier", notifier):
        t0 = r.now()
        await kafka.send(topics.ROLE_PRESALE, r.buyer(shop, conv, at=t0), conv)
        breach = FirstSeen(of_shop(shop), escalation_key)
        await kafka.collect(topics.ESCALATIONS, breach, count=2, timeout=30)
        assert breach.ids == {(conv, "warning", 1), (conv, "breached", 2)}
        # the agent answered at 2.6 s (after the warning at 2.4 s, before the deadline at
        # 3 s), but the reply reached kefu only now
        await kafka.send(topics.ROLE_PRESALE, r.agent_says(shop, conv, at=t0 + timedelta(
            seconds=2.6)), conv)
        found = FirstSeen(of_shop(shop), escalation_key)
        await kafka.collect(topics.ESCALATIONS, lambda b, rec: found(b, rec) and (
            b["state"], b["level"]) == ("retracted", 2), count=1, timeout=30)
        notes = await kafka.collect(topics.NOTIFICATIONS, of_shop(shop), count=2, timeout=30)
    assert (conv, "retracted", 2) in found.ids, "the false breach is retracted"
    assert (conv, "retracted", 1) not in found.ids, "the warning was true"
    retraction = next(b for b in found.all if b["state"] == "retracted")
    first = next(b for b in found.all if b["state"] == "breached")
    assert retraction["deadline"] == first["deadline"] and retraction["sla"] == first["sla"]
    assert retraction["escalation_id"] != first["escalation_id"]
    assert sorted(n["kind"] for n, _ in notes) == ["escalation_alert", "escalation_retracted"]


async def test_a_replica_killed_behind_loses_no_breach_and_invents_none(
        stack, kafka, settings, tmp_path) -> None:
    shop = unique("shop")
    settings = settings.model_copy(update={"consumer_session_timeout_ms": 3000})  # dies sooner
    replicas = [ServiceProcess("presale", settings, tmp_path).start() for _ in range(2)]
    try:
        for replica in replicas:
            assert await replica.ready(), "presale replica did not become ready"
        for replica in replicas:
            os.kill(replica.proc.pid, signal.SIGSTOP)
        t0 = r.now()
        answered, unanswered, produced = await produce_conversations(kafka, shop, t0)
        await wall_clock_past(t0, LEVEL3 + 2)
        replicas[0].kill()  # dies holding its partitions' backlog
        resume(replicas[1])  # takes them over once the dead one's session expires
        seen = await settled_escalations(stack, kafka, settings, shop, produced, timeout=90)
    finally:
        for replica in replicas:
            resume(replica)
            replica.kill()
    false = {key for key in seen.ids if key[0] in set(answered)}
    assert not false, f"{len(false)} escalations for conversations answered in time"
    assert seen.ids == full_ladder(unanswered), "a breach was lost with the dead replica"
