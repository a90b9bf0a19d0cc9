"""The assignment ledger's Lua scripts on the real Valkey: capacity is never over-assigned
however many replicas race, a cause's decision is replayed rather than taken twice, and
presence, hand-back and release keep the agents' sets consistent."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from services.roles.keys import RoleKeys
from services.roles.ledger import Ledger
from tests.conftest import unique

pytestmark = pytest.mark.e2e
HOUR_MS = 3_600_000


@pytest.fixture
async def ledgers(stack):
    """Two ledgers on two connections: two replicas of one role."""
    clients = [Redis.from_url(stack.redis.url) for _ in range(2)]
    yield [Ledger(c, RoleKeys("presale"), key_ttl_ms=HOUR_MS) for c in clients]
    for client in clients:
        await client.aclose()


def assign(ledger: Ledger, shop: str, conv: str, target: str, cause: str, expect="free"):
    return ledger.assign(shop, conv, target, cause=cause, reason="least_loaded", now_ms=1_000,
                         expect=expect, sticky_ttl_ms=HOUR_MS, score=5, buyer="b-" + conv)


async def test_racing_replicas_never_exceed_max_concurrent(ledgers) -> None:
    shop = unique("shop")
    await ledgers[0].presence(shop, "a1", "online", 3, 0)
    convs = [unique("c") for _ in range(20)]
    results = await asyncio.gather(*(
        assign(ledgers[i % 2], shop, conv, "a1", unique("e")) for i, conv in enumerate(convs)))
    assert sorted(r.status for r in results) == ["full"] * 17 + ["ok"] * 3
    [agent] = (await ledgers[1].agents(shop)).values()
    assert (agent.load, agent.max_concurrent, agent.idle_since) == (3, 3, 1_000)


async def test_same_cause_replays_its_decision(ledgers) -> None:
    shop, conv, cause = unique("shop"), unique("c"), unique("e")
    await ledgers[0].presence(shop, "a1", "online", 5, 0)
    await ledgers[0].presence(shop, "a2", "online", 5, 0)
    first = await assign(ledgers[0], shop, conv, "a1", cause)
    again = await assign(ledgers[1], shop, conv, "a2", cause)  # a redelivery choosing otherwise
    assert (first.status, again.status) == ("ok", "replay")
    assert again.agent == "a1" and again.at == first.at
    assert await ledgers[0].cause_members(shop, cause) == [conv]
    loads = {a.agent_id: a.load for a in (await ledgers[0].agents(shop)).values()}
    assert loads == {"a1": 1, "a2": 0}
    sticky = await ledgers[0].stickies([(shop, "b-" + conv)])
    assert sticky[(shop, "b-" + conv)].agent_id == "a1"


async def test_expectations_guard_concurrent_moves(ledgers) -> None:
    shop, conv = unique("shop"), unique("c")
    for agent in ("a1", "a2"):
        await ledgers[0].presence(shop, agent, "online", 5, 0)
    assert (await assign(ledgers[0], shop, conv, "a1", unique("e"))).status == "ok"
    assert (await assign(ledgers[1], shop, conv, "a2", unique("e"))).status == "stale"  # taken
    moved = await assign(ledgers[1], shop, conv, "a2", unique("e"), expect="=a1")
    assert moved.status == "ok"
    stale = await assign(ledgers[0], shop, conv, "a1", unique("e"), expect="=a1")
    assert (stale.status, stale.agent) == ("stale", "a2")
    loads = {a.agent_id: a.load for a in (await ledgers[0].agents(shop)).values()}
    assert loads == {"a1": 0, "a2": 1}


async def test_queue_hand_back_and_release(ledgers) -> None:
    shop, c1, c2 = unique("shop"), unique("c"), unique("c")
    ledger = ledgers[0]
    assert (await assign(ledger, shop, c1, "", unique("e"))).status == "ok"  # queued
    assert await ledger.queue_heads(shop, 0, 10) == [c1]
    await ledger.presence(shop, "a1", "online", 1, 0)
    assert (await assign(ledger, shop, c1, "a1", unique("e"), expect="queued")).status == "ok"
    assert await ledger.queue_heads(shop, 0, 10) == []
    assert (await assign(ledger, shop, c2, "a1", unique("e"))).status == "full"
    assert await ledger.presence(shop, "a1", "away", 1, 0) == [c1]
    assert (await assign(ledger, shop, c2, "a1", unique("e"))).status == "full", "away"
    assert await ledger.release(shop, c1, unique("e")) == "a1"
    assert await ledger.release(shop, c1, unique("e")) == ""
    assert await ledger.presence(shop, "a1", "online", 1, 0) == []
    assert (await assign(ledger, shop, c2, "a1", unique("e"))).status == "ok"


async def test_agents_whose_presence_expired_are_pruned(ledgers) -> None:
    shop = unique("shop")
    ledger = ledgers[0]
    await ledger.presence(shop, "gone", "online", 2, 0)
    await ledger.presence(shop, "here", "online", 2, 0)
    await ledger.redis.delete(ledger.keys.agent(shop, "gone"))
    assert set(await ledger.agents(shop)) == {"here"}
    assert await ledger.redis.smembers(ledger.keys.agents(shop)) == {b"here"}
