"""Pre-sale and after-sale SIGKILLed mid-stream (real `kefu run` children) and restarted:
no assignment and no escalation is lost, order and case timers scheduled before the kill
all fire after it, and each effect keeps one identity: one escalation_id per cause
(subject, sla, state, level), one decision (agent, reason, at) per conversation. Repeats
are only of the same identity, bounded by the work in flight at the kill."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import UTC, datetime

import orjson
import pytest
from redis.asyncio import Redis

from contracts import example, topics
from services.core.timers.partitioned import PartitionTimers
from services.roles.keys import RoleKeys
from tests.conftest import TEST_PARTITIONS, unique
from tests.support.faults import FirstSeen, ends_of, group_committed_through, repeats
from tests.support.kafka_io import wait_until
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.e2e

CONVS, ORDERS, CASES, REVIEWS = 240, 80, 80, 40
BATCH = 100
POLICY = """shops:
  default:
    business_hours: {mon-sun: [["00:00", "24:00"]]}
    warn_at: 0.5
    level3_after: 1.5
    sla:
      presale: {first_response: 1h, next_response: 1h}
      aftersale: {first_response: 1h, next_response: 1h}
      ship_by: 6s
      aftersale_response: 6s
      order_change_confirmation: 1h
      logistics_stalled: 1h
    notify: {quiet_hours: []}
"""
LEASE = {"KEFU_TIMER_LEASE": "PT3S"}  # timers held by a killed process come back after 3 s
ROLE_TOPIC = {"presale": topics.ROLE_PRESALE, "aftersale": topics.ROLE_AFTERSALE}


def now() -> str:
    return datetime.now(UTC).isoformat()


def envelope(kind: str, shop: str, payload: dict) -> dict:
    body = example(kind, event_id=unique("e"), shop_id=shop, occurred_at=now())
    body["payload"] = payload
    body["trace_id"] = unique("t")
    return body


def buyer(shop: str, role: str, conv: str, complaint: bool) -> dict:
    body = envelope("buyer.message", shop, {"conversation_id": conv, "buyer_id": f"b-{conv}",
                                            "message_id": unique("m"), "text": "在吗"})
    body["routing"] = {"intent": "complaint" if complaint else "product_inquiry", "role": role,
                       "priority": "urgent" if complaint else "normal", "confidence": 0.9,
                       "reason": "test", "routed_at": now()}
    return body


def stream(shop: str) -> list[tuple[str, dict, str]]:
    """(topic, event, key) of both roles, interleaved."""
    out: list[tuple[str, dict, str]] = []
    for i in range(CONVS):
        role = ("presale", "aftersale")[i % 2]
        conv = unique("c")
        out.append((ROLE_TOPIC[role], buyer(shop, role, conv, role == "aftersale" and i % 5 == 1),
                    conv))
        if i < ORDERS:
            order = unique("o")
            out.append((topics.ORDERS, envelope("order.paid", shop, {
                "order_id": order, "buyer_id": f"b-{order}"}), order))
        if i < CASES:
            order = unique("o")
            out.append((topics.ORDERS, envelope("aftersale.requested", shop, {
                "case_id": unique("case"), "order_id": order, "buyer_id": f"b-{order}",
                "kind": "refund_only"}), order))
        if i < REVIEWS:
            order = unique("o")
            out.append((topics.ORDERS, envelope("review.posted", shop, {
                "order_id": order, "buyer_id": f"b-{order}", "rating": 1}), order))
    return out


def expected_escalations(events) -> set[tuple[str, str, str, int]]:
    """(subject id, sla, state, level) of every escalation the stream must cause."""
    want = set()
    for _, e, _ in events:
        p, kind = e["payload"], e["event_type"]
        timed = {"order.paid": (p.get("order_id"), "ship_by"),
                 "aftersale.requested": (p.get("case_id"), "aftersale_response")}.get(kind)
        if timed:
            want |= {(*timed, "warning", 1), (*timed, "breached", 2), (*timed, "breached", 3)}
        elif kind == "review.posted":
            want.add((p["order_id"], "negative_review", "raised", 2))
        elif kind == "buyer.message" and e["routing"]["intent"] == "complaint":
            want.add((p["conversation_id"], "complaint", "raised", 2))
    return want


async def online(kafka, redis: Redis, shop: str, role: str, agent: str) -> None:
    status = envelope("agent.status", shop, {"agent_id": agent, "roles": [role],
                                              "status": "online", "max_concurrent": 1000})
    await kafka.send(ROLE_TOPIC[role], status, agent)
    key = RoleKeys(role).agent(shop, agent)

    async def recorded() -> bool:
        return await redis.hmget(key, "status", "max") == [b"online", b"1000"]

    assert await wait_until(recorded, timeout=30), f"{role} agent {agent} not recorded"


async def test_sigkill_role_services_mid_stream_loses_nothing_and_keeps_ids(stack, kafka,
                                                                           tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    settings = stack.settings(policy_file=policy, roles_max_records=BATCH,
                              consumer_session_timeout_ms=3000)  # a dead member leaves sooner
    shop = unique("shop")
    redis = Redis.from_url(stack.redis.url)
    first = [ServiceProcess(role, settings, tmp_path, **LEASE).start()
             for role in ("presale", "aftersale")]
    second: list[ServiceProcess] = []
    try:
        for proc in first:
            assert await proc.ready(), f"{proc.service} did not become ready"
        for role in ("presale", "aftersale"):
            for agent in ("a1", "a2"):
                await online(kafka, redis, shop, role, f"{role}-{agent}")
        events = stream(shop)
        halfway, produced = asyncio.Event(), []

        async def produce() -> None:  # paced, so the kill lands while input still arrives
            producer = await kafka.producer()
            for start in range(0, len(events), 40):
                chunk = events[start:start + 40]
                for _, body, _ in chunk:  # clocks start when the event is sent
                    body["occurred_at"] = now()
                futures = [await producer.send(topic, orjson.dumps(body), key=key.encode())
                           for topic, body, key in chunk]
                produced.extend(await asyncio.gather(*futures))
                if start >= len(events) // 2:
                    halfway.set()
                await asyncio.sleep(0.1)

        feeding = asyncio.create_task(produce())
        await asyncio.wait_for(halfway.wait(), timeout=30)
        early = await kafka.collect(topics.ASSIGNMENTS, lambda b, _: b["shop_id"] == shop,
                                    count=20, timeout=30)
        assert early, "nothing assigned before the kill"
        for proc in first:
            proc.kill()
        still_feeding = not feeding.done()
        second = [ServiceProcess(p.service, settings, tmp_path, **LEASE).start() for p in first]
        for proc in second:
            assert await proc.ready(), f"restarted {proc.service} did not become ready"
        await feeding

        convs = {key for topic, _, key in events if topic in ROLE_TOPIC.values()}
        causes = expected_escalations(events)
        timers = {role: PartitionTimers(redis, role) for role in ("presale", "aftersale")}
        shards = {role: [f"{topic}:{p}" for topic in (ROLE_TOPIC[role], topics.ORDERS)
                         for p in range(TEST_PARTITIONS)] for role in timers}
        ends = ends_of(produced)

        async def settled() -> bool:
            """Every timer of the stream fired and acked (leases held by the killed
            processes expire and are fired again), all input committed."""
            for role, store in timers.items():
                if (await store.count(shards[role]))["inflight"]:
                    return False
            for proc in second:
                if not await group_committed_through(
                        stack.broker.bootstrap, settings.group_id(proc.service), ends,
                        (ROLE_TOPIC[proc.service], topics.ORDERS)):
                    return False
            return True

        escalations = FirstSeen(lambda b, _: b["shop_id"] == shop,
                                lambda b: (b["subject"]["id"], b["sla"], b["state"], b["level"]))
        await kafka.collect(topics.ESCALATIONS, escalations, count=len(causes), timeout=60)
        assert await wait_until(settled, timeout=60, interval=0.5), "timers or input left over"
        escalations = FirstSeen(escalations.match, escalations.identity)
        await kafka.collect(topics.ESCALATIONS, escalations, count=len(causes), timeout=30,
                            settle=1.0)
        assignments = FirstSeen(lambda b, _: b["shop_id"] == shop, lambda b: b["conversation_id"])
        await kafka.collect(topics.ASSIGNMENTS, assignments, count=len(convs), timeout=30,
                            settle=1.0)
    finally:
        for proc in first:
            proc.kill()
        for proc in second:
            assert proc.terminate() == 0, f"{proc.service}: graceful stop exits 0"
        await redis.aclose()

    lost = causes - escalations.ids
    assert not lost, f"{len(lost)} of {len(causes)} escalations lost, e.g. {sorted(lost)[:3]}"
    assert escalations.ids == causes, f"unexpected escalations: {escalations.ids - causes}"
    ids_per_cause = defaultdict(set)
    for b in escalations.all:
        ids_per_cause[escalations.identity(b)].add(b["escalation_id"])
    forked = {c: i for c, i in ids_per_cause.items() if len(i) > 1}
    assert not forked, f"one cause, several escalation ids: {list(forked.items())[:3]}"

    assert assignments.ids == convs, f"{len(convs - assignments.ids)} conversations unassigned"
    decisions = defaultdict(set)
    for b in assignments.all:
        decisions[b["conversation_id"]].add((b["agent_id"], b["reason"], b["at"]))
    several = {c: d for c, d in decisions.items() if len(d) > 1}
    assert not several, f"one conversation, several decisions: {list(several.items())[:3]}"
    assert all(agent for d in decisions.values() for agent, _, _ in d), "capacity was free"

    bound = 3 * BATCH * 2 + 200  # uncommitted batches of both services, claimed timers
    esc_repeats = repeats(b["escalation_id"] for b in escalations.all)
    asg_repeats = repeats((b["conversation_id"], b["agent_id"], b["reason"], b["at"])
                          for b in assignments.all)
    assert esc_repeats <= bound and asg_repeats <= bound
    print(f"\n{len(causes)} escalations ({esc_repeats} repeats), {len(convs)} assignments "
          f"({asg_repeats} repeats); input {'still' if still_feeding else 'no longer'} "
          f"arriving at the kill")
