"""The role store's capacity scripts on the real Valkey: capacity is never over-assigned
however many replicas race, a cause's decision is replayed rather than taken twice, and
presence, hand-back and release keep the agents' sets consistent."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from services.core.timers.partitioned import PartitionTimers
from services.roles.keys import RoleKeys
from services.roles.redis_store import RedisRoleStore
from services.roles.reservations import Assign, Presence, Release
from services.roles.store import BoardRequest, LoadRequest
from tests.conftest import unique

pytestmark = pytest.mark.e2e
HOUR_MS = 3_600_000
KEYS = RoleKeys("presale")


@pytest.fixture
async def stores(stack):
    """Two stores on two connections: two replicas of one role."""
    clients = [Redis.from_url(stack.redis.url) for _ in range(2)]
    yield [RedisRoleStore(c, KEYS, PartitionTimers(c, "presale"), key_ttl_ms=HOUR_MS,
                          dedup_ttl_s=3600, sticky_ttl_ms=lambda shop: HOUR_MS) for c in clients]
    for client in clients:
        await client.aclose()


def assign(conv: str, target: str, cause: str, expect: str = "free") -> Assign:
    return Assign(conv, target, cause, "least_loaded", expect, 5, "b-" + conv, slot=0)


async def one(store: RedisRoleStore, shop: str, op, now_ms: int = 1_000):
    result = await store.reserve({shop: [op]}, now_ms)
    return result[shop].answers[0]


async def board(store: RedisRoleStore, shop: str, *, buyers=(), causes=()):
    request = LoadRequest(boards={shop: BoardRequest(set(buyers), set(causes), extra=10)})
    snap = await store.load(request)
    return snap.boards[shop], snap.decisions


async def test_racing_replicas_never_exceed_max_concurrent(stores) -> None:
    shop = unique("shop")
    await one(stores[0], shop, Presence("a1", "online", 3, unique("e")), now_ms=0)
    convs = [unique("c") for _ in range(20)]
    results = await asyncio.gather(*(
        one(stores[i % 2], shop, assign(conv, "a1", unique("e"))) for i, conv in enumerate(convs)))
    assert sorted(r.status for r in results) == ["full"] * 17 + ["ok"] * 3
    found, _ = await board(stores[1], shop)
    agent = found.agents["a1"]
    assert (agent.load, agent.max_concurrent, agent.idle_since) == (3, 3, 1_000)


async def test_same_cause_replays_its_decision(stores) -> None:
    shop, conv, cause = unique("shop"), unique("c"), unique("e")
    for agent in ("a1", "a2"):
        await one(stores[0], shop, Presence(agent, "online", 5, unique("e")), now_ms=0)
    first = await one(stores[0], shop, assign(conv, "a1", cause))
    again = await one(stores[1], shop, assign(conv, "a2", cause), now_ms=9_000)  # redelivered
    assert (first.status, again.status) == ("ok", "replay")
    assert again.agent == "a1" and again.at == first.at
    found, decisions = await board(stores[0], shop, buyers=["b-" + conv], causes=[cause])
    assert [(d.conv, d.agent) for d in decisions[(shop, cause)]] == [(conv, "a1")]
    assert {a: v.load for a, v in found.agents.items()} == {"a1": 1, "a2": 0}
    assert found.stickies["b-" + conv].agent_id == "a1"


async def test_expectations_guard_concurrent_moves(stores) -> None:
    shop, conv = unique("shop"), unique("c")
    for agent in ("a1", "a2"):
        await one(stores[0], shop, Presence(agent, "online", 5, unique("e")), now_ms=0)
    assert (await one(stores[0], shop, assign(conv, "a1", unique("e")))).status == "ok"
    assert (await one(stores[1], shop, assign(conv, "a2", unique("e")))).status == "stale"
    moved = await one(stores[1], shop, assign(conv, "a2", unique("e"), expect="=a1"))
    assert moved.status == "ok"
    stale = await one(stores[0], shop, assign(conv, "a1", unique("e"), expect="=a1"))
    assert (stale.status, stale.agent) == ("stale", "a2")
    found, _ = await board(stores[0], shop)
    assert {a: v.load for a, v in found.agents.items()} == {"a1": 0, "a2": 1}


async def test_queue_hand_back_and_release_in_one_script_call(stores) -> None:
    shop, c1, c2 = unique("shop"), unique("c"), unique("c")
    store = stores[0]
    assert (await one(store, shop, assign(c1, "", unique("e")))).status == "ok"  # queued
    found, _ = await board(store, shop)
    assert [q.conv for q in found.queue] == [c1]
    result = await store.reserve({shop: [
        Presence("a1", "online", 1, unique("e")),
        assign(c1, "a1", unique("e"), expect="queued"),
        assign(c2, "a1", unique("e")),
        Presence("a1", "away", 1, unique("e")),
        assign(c2, "a1", unique("e")),
        Release(c1, unique("e")),
        Release(c1, unique("e")),
        Presence("a1", "online", 1, unique("e")),
        assign(c2, "a1", unique("e")),
    ]}, 1_000)
    answers = result[shop].answers
    assert [answers[i].status for i in (1, 2, 4, 8)] == ["ok", "full", "full", "ok"]
    assert [h.conv for h in answers[3]] == [c1], "away hands back what the agent held"
    assert (answers[5], answers[6]) == ("a1", ""), "a release frees its agent once"
    assert answers[7] == [] and result[shop].board["a1"].load == 1


async def test_agents_whose_presence_expired_are_pruned(stores) -> None:
    shop = unique("shop")
    store = stores[0]
    for agent in ("gone", "here"):
        await one(store, shop, Presence(agent, "online", 2, unique("e")), now_ms=0)
    await store.redis.delete(KEYS.agent(shop, "gone"))
    found, _ = await board(store, shop)
    assert set(found.agents) == {"here"}
    assert await store.redis.smembers(KEYS.agents(shop)) == {b"here"}


async def test_dedup_marks_and_recorded_decisions_read_exactly_in_any_mix(stores) -> None:
    """A load answers each event id and cause on its own, whether none, some or all of
    a chunk of them were seen (chunks of 1,000 keys are checked at once)."""
    shop, redis = unique("shop"), stores[0].redis
    ids = [f"e{n:04d}" for n in range(2_500)]
    marked = {*ids[:1_000], *ids[1_000:2_000:7], ids[-1]}  # all, some, then one in three chunks
    await redis.mset({KEYS.seen(shop, event_id): 1 for event_id in marked})
    await one(stores[0], shop, Presence("a1", "online", 9, unique("e")), now_ms=0)
    decided = [unique("e") for _ in range(3)]
    for n, cause in enumerate(decided):
        assert (await one(stores[0], shop, assign(f"c{n}", "a1", cause))).status == "ok"
    causes = [*decided, *(unique("e") for _ in range(1_200))]

    snap = await stores[1].load(LoadRequest(
        seen={(shop, event_id) for event_id in ids},
        boards={shop: BoardRequest(causes=set(causes))}))

    assert snap.seen == {(shop, event_id) for event_id in marked}
    assert {cause: [(d.conv, d.agent) for d in found]
            for (_, cause), found in snap.decisions.items()} == {
        cause: [(f"c{n}", "a1")] for n, cause in enumerate(decided)}
