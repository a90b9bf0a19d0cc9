"""A role service's capacity decisions through whole batches, on the in-memory store:
decided on the batch's board, reserved atomically per shop, republished on redelivery,
decided again when another replica took the capacity first."""

from __future__ import annotations

import gc

from services.roles.memory_store import MemoryRoleStore
from tests.unit.role_harness import Role, assignments


async def online(role: Role, *agents: str, max_concurrent: int = 1) -> None:
    await role.send(*(role.status(a, "online", max_concurrent=max_concurrent) for a in agents))


def load_of(store: MemoryRoleStore, shop: str = "s1") -> dict[str, int]:
    return {a: len(held) for a, held in store.shop(shop).held.items()}


async def test_least_loaded_then_queued_then_drained_when_a_conversation_closes() -> None:
    role = Role()
    await online(role, "a1")
    out = await role.send(role.buyer("c1", 0), role.buyer("c2", 1))
    assert assignments(out) == [("c1", "a1", "least_loaded"), ("c2", None, "queued_no_capacity")]
    out = await role.send(role.close("c1", 30))
    assert assignments(out) == [("c2", "a1", "least_loaded")]
    assert load_of(role.store) == {"a1": 1}


async def test_the_queue_is_served_by_priority_then_age() -> None:
    role = Role()
    await online(role, "a1")
    await role.send(role.buyer("c0", 0))
    await role.send(role.buyer("old", 1), role.buyer("urgent", 2, routing=("complaint", "urgent")))
    out = await role.send(role.close("c0", 30))
    assert assignments(out) == [("urgent", "a1", "least_loaded")]


async def test_a_queued_conversation_keeps_its_place_when_its_buyer_writes_again() -> None:
    """Same priority: the queue is served by when each conversation's session began, not
    by its latest message nor by its id."""
    role = Role()
    await online(role, "a1")
    await role.send(role.buyer("c0", 0))
    await role.send(role.buyer("z-first", 1), role.buyer("a-second", 2))
    out = await role.send(role.buyer("z-first", 3))  # writes again: still first in line
    assert assignments(out) == [], "already queued: nothing new to announce"
    out = await role.send(role.close("c0", 30))
    assert assignments(out) == [("z-first", "a1", "least_loaded")]
    out = await role.send(role.close("z-first", 40))
    assert assignments(out) == [("a-second", "a1", "least_loaded")]


async def test_a_closed_conversation_is_never_queued_or_assigned_again() -> None:
    role = Role()
    await online(role, "a1")
    await role.send(role.buyer("c1", 0))
    await role.send(role.close("c1", 10))
    out = await role.send(role.buyer("c2", 20))
    assert assignments(out) == [("c2", "a1", "least_loaded")]
    out = await role.send(role.close("c2", 30))
    assert assignments(out) == [], "nothing is waiting: c1 was closed"
    assert load_of(role.store) == {"a1": 0}


async def test_an_agent_coming_online_drains_the_queue_up_to_capacity() -> None:
    role = Role()
    out = await role.send(*(role.buyer(f"c{i}", i) for i in range(3)))
    assert [a for _, a, _ in assignments(out)] == [None, None, None]
    out = await role.send(role.status("a1", "online", max_concurrent=2))
    assert assignments(out) == [("c0", "a1", "least_loaded"), ("c1", "a1", "least_loaded")]


async def test_an_agent_going_offline_hands_conversations_back_to_others_or_the_queue() -> None:
    role = Role()
    await online(role, "a1", max_concurrent=2)
    await role.send(role.buyer("c1", 0), role.buyer("c2", 1))
    await online(role, "a2")
    out = await role.send(role.status("a1", "offline"))
    placed = sorted(assignments(out))
    assert placed == [("c1", "a2", "least_loaded"), ("c2", None, "queued_no_capacity")]
    assert load_of(role.store) == {"a1": 0, "a2": 1}


async def test_the_buyers_previous_agent_is_preferred() -> None:
    role = Role()
    await online(role, "a1", "a2", max_concurrent=3)
    await role.send(role.buyer("c1", 0), role.reply("c1", 5, agent="a2"))
    await role.send(role.close("c1", 6))
    again = role.buyer("c9", 60)
    again.payload.buyer_id = "b-c1"
    assert assignments(await role.send(again)) == [("c9", "a2", "sticky")]


async def test_a_first_response_breach_moves_the_conversation_to_a_free_agent() -> None:
    role = Role()
    await online(role, "a1", "a2")
    await role.send(role.buyer("c1", 0))
    out = await role.fire(181)
    assert assignments(out) == [("c1", "a2", "reassigned_after_breach")]
    assert load_of(role.store) == {"a1": 0, "a2": 1}


async def test_a_redelivered_batch_republishes_the_same_decisions() -> None:
    role = Role()
    await online(role, "a1", "a2")
    events = [role.buyer("c1", 0), role.buyer("c2", 1), role.buyer("c3", 2)]
    first = await role.send(*events, apply=False)  # crashed after publishing
    again = await role.send(*events)
    assert assignments(first) == assignments(again)
    assert [o["at"] for o in first] == [o["at"] for o in again]
    assert load_of(role.store) == {"a1": 1, "a2": 1}


async def test_a_batch_costs_a_bounded_number_of_round_trips_whatever_its_size() -> None:
    costs = []
    for size in (1, 300, 900):
        role = Role()
        await role.send(*(role.status(f"a{s}-{i}", "online", max_concurrent=2) for s in range(5)
                          for i in range(3)))
        before = role.store.round_trips
        events = []
        for i in range(size):
            shop = f"s{i % 5}"
            events += [role.event("buyer.message", i, shop=shop, conversation_id=f"c{i}",
                                  buyer_id=f"b{i}", message_id=f"m{i}", text="hi"),
                       role.event("agent.message", i + 1, shop=shop, conversation_id=f"c{i}",
                                  agent_id="x", message_id=f"n{i}", text="ok")]
            if i % 4 == 0:
                events.append(role.event("conversation.closed", i + 2, shop=shop,
                                         conversation_id=f"c{i}"))
        await role.send(*events)
        costs.append(role.store.round_trips - before)
    assert costs[0] == 4, "load, reserve, timers, state"
    assert costs[1] == costs[2] == 5, "the same, with the first half's reservations sent early"


class RacingStore(MemoryRoleStore):
    """Another replica takes agent capacity between this one's load and its reserve."""

    def __init__(self) -> None:
        super().__init__()
        self.rival: Role | None = None

    async def reserve(self, reservations, now_ms):
        if self.rival is not None:
            rival, self.rival = self.rival, None
            await rival.send(rival.buyer("theirs", 0))
        return await super().reserve(reservations, now_ms)


async def test_two_replicas_never_over_assign_and_the_overtaken_decision_is_made_again() -> None:
    store = RacingStore()
    ours, theirs = Role(store=store), Role(store=store)
    await online(ours, "a1", "a2")
    store.rival = theirs
    out = await ours.send(ours.buyer("mine", 0))
    assert assignments(out) == [("mine", "a2", "least_loaded")], "a1 was taken meanwhile"
    assert load_of(store) == {"a1": 1, "a2": 1}
    store.rival = theirs  # and now nobody is free
    out = await ours.send(ours.buyer("third", 5))
    assert assignments(out) == [("third", None, "queued_no_capacity")]
    assert all(n <= 1 for n in load_of(store).values())


async def test_a_decided_batch_is_freed_without_the_garbage_collector() -> None:
    """A batch's decisions hold nothing in a reference cycle: a cycle through the
    decider kept every batch's state alive until a young collection walked it (a
    tenth of presale's CPU on a backlog, collections of 35-170 ms)."""
    role = Role()
    await online(role, "a1")
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        out = await role.send(role.buyer("c1", 0), role.buyer("c2", 1), role.close("c1", 30))
        gc.collect()
        held = sorted({type(o).__name__ for o in gc.garbage} & {
            "Decider", "Placer", "Snapshot", "Changes", "ShopBoard", "ConvState"})
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert assignments(out) == [("c1", "a1", "least_loaded"), ("c2", None, "queued_no_capacity"),
                                ("c2", "a1", "least_loaded")]
    assert held == [], f"freed only by the collector: {held}"
