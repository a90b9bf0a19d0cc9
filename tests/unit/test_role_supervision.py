"""Supervisor actions through whole batches, on the in-memory store: an acknowledged
deadline raises no further level (also after a restart, and for an order's clock); a
reassignment moves the conversation and its capacity, and is never over capacity.
The presale SLA here is 3 min (warning at 2:24, level 3 at 6:00)."""

from __future__ import annotations

from services.roles.memory_store import MemoryRoleStore
from tests.unit.role_harness import Role, assignments, escalations

DEADLINE, LEVEL3 = 180, 360


def ack(role: Role, escalation: dict, seconds: float, *, subject: dict | None = None):
    return role.event("escalation.acknowledged", seconds,
                      escalation_id=escalation["escalation_id"],
                      subject=subject or escalation["subject"], role=role.role, by="sup-wu")


def reassign(role: Role, conv: str, agent: str, seconds: float):
    return role.event("conversation.reassigned", seconds, conversation_id=conv,
                      role=role.role, to_agent_id=agent, by="sup-wu")


def load_of(store: MemoryRoleStore, shop: str = "s1") -> dict[str, int]:
    return {a: len(held) for a, held in store.shop(shop).held.items() if held}


async def breached(role: Role, conv: str = "c1") -> dict:
    await role.send(role.buyer(conv, 0))
    out = await role.fire(DEADLINE + 1)
    return next(o for o in out if o.get("state") == "breached")


async def test_an_acknowledged_breach_never_reaches_level_3() -> None:
    role = Role()
    breach = await breached(role)
    assert escalations(await role.send(ack(role, breach, DEADLINE + 30))) == []
    assert role.store.timers == {}, "the clock's timer is cancelled"
    assert escalations(await role.fire(LEVEL3 + 60)) == []


async def test_the_acknowledgement_survives_a_restart_and_a_redelivery() -> None:
    role = Role()
    breach = await breached(role)
    event = ack(role, breach, DEADLINE + 30)
    await role.send(event, apply=False)  # published nothing, then the process died
    assert escalations(await role.send(event)) == []
    role.restart()
    assert escalations(await role.fire(LEVEL3 + 60)) == []


async def test_an_acknowledged_clock_still_corrects_its_record() -> None:
    role = Role()
    breach = await breached(role)
    await role.send(ack(role, breach, DEADLINE + 30))
    out = await role.send(role.reply("c1", DEADLINE + 40))
    assert escalations(out) == [("c1", "resolved", 2)]


async def test_an_id_of_another_deadline_changes_nothing() -> None:
    role = Role()
    breach = await breached(role)
    stranger = {**breach, "escalation_id": "not-one-of-this-clock"}
    await role.send(ack(role, stranger, DEADLINE + 30))
    assert escalations(await role.fire(LEVEL3 + 1)) == [("c1", "breached", 3)]


async def test_an_acknowledged_order_deadline_never_reaches_level_3() -> None:
    role = Role()
    await role.send(role.event("order.paid", 0, order_id="o1", buyer_id="b1"))
    out = await role.fire(3601)  # ship-by is 1 h here
    breach = next(o for o in out if o.get("state") == "breached")
    assert breach["subject"] == {"kind": "order", "id": "o1"}
    await role.send(ack(role, breach, 3700))
    assert escalations(await role.fire(7300)) == []


async def test_an_id_of_another_deadline_leaves_an_order_deadline_running() -> None:
    role = Role()
    await role.send(role.event("order.paid", 0, order_id="o1", buyer_id="b1"))
    breach = next(o for o in await role.fire(3601) if o.get("state") == "breached")
    await role.send(ack(role, {**breach, "escalation_id": "not-one-of-this-clock"}, 3700))
    assert escalations(await role.fire(7300)) == [("o1", "breached", 3)]


async def two_agents(role: Role) -> None:
    """a2 (room for 2) holds c1, a1 (room for 1) holds c2."""
    await role.send(role.status("a1", "online", max_concurrent=1),
                    role.status("a2", "online", max_concurrent=2))
    out = await role.send(role.buyer("c1", 0), role.buyer("c2", 1))
    assert assignments(out) == [("c1", "a2", "least_loaded"), ("c2", "a1", "least_loaded")]


async def test_a_reassignment_moves_the_conversation_and_its_capacity() -> None:
    role = Role()
    await two_agents(role)
    out = await role.send(reassign(role, "c2", "a2", 10))
    assert assignments(out) == [("c2", "a2", "reassigned_by_supervisor")]
    assert load_of(role.store) == {"a2": 2}
    out = await role.send(role.buyer("c3", 20))
    assert assignments(out) == [("c3", "a1", "least_loaded")], "a1's place was freed"


async def test_a_reassignment_to_an_agent_without_room_leaves_the_conversation() -> None:
    role = Role()
    await two_agents(role)
    out = await role.send(reassign(role, "c1", "a1", 10))
    assert assignments(out) == [], "a1 is full: nobody goes over capacity"
    assert load_of(role.store) == {"a1": 1, "a2": 1}
    assert role.store.convs[("s1", "c1")].agent == "a2"


async def test_a_reassignment_to_the_agent_who_holds_it_changes_nothing() -> None:
    role = Role()
    await two_agents(role)
    assert await role.send(reassign(role, "c1", "a2", 10)) == []
    assert load_of(role.store) == {"a1": 1, "a2": 1}


async def test_a_redelivered_reassignment_republishes_its_decision() -> None:
    role = Role()
    await two_agents(role)
    event = reassign(role, "c2", "a2", 10)
    first = await role.send(event, apply=False)
    again = await role.send(event)
    assert assignments(again) == assignments(first) == [("c2", "a2", "reassigned_by_supervisor")]
    assert load_of(role.store) == {"a2": 2}


def test_every_event_type_a_role_topic_or_kefu_orders_carries_has_one_handler() -> None:
    from contracts.topics import ORDER_EVENT_TYPES, ROLE_EVENT_TYPES, SUPERVISOR_EVENT_TYPES
    from services.roles.decider import HANDLERS

    assert set(HANDLERS) == ROLE_EVENT_TYPES | SUPERVISOR_EVENT_TYPES | ORDER_EVENT_TYPES


async def order_breach(owner: Role) -> dict:
    """Order o1 paid at 0 and not shipped within its hour: its ship-by breach."""
    await owner.send(owner.event("order.paid", 0, order_id="o1", buyer_id="b1"))
    out = await owner.fire(3601)
    return next(o for o in out if o.get("state") == "breached")


async def test_an_order_acknowledged_while_its_owner_rewrites_it_stays_acknowledged() -> None:
    """The order's clocks belong to its kefu.orders partition; the acknowledgement comes on
    a role-topic partition, maybe another replica's. The owner's batch read the clocks
    before the acknowledgement was stored and writes them after it: the acknowledgement
    is not lost."""
    store = MemoryRoleStore()
    owner, acker = Role(store=store), Role(store=store)
    breach = await order_breach(owner)
    again = owner.event("order.paid", 10, order_id="o1", buyer_id="b1")  # a producer's resend
    _, owner_write = await owner.batches.run(events=[(again, "kefu.orders:0")])
    await acker.send(ack(acker, breach, 3700))
    await owner_write()
    assert escalations(await owner.fire(7300)) == []


async def test_an_order_acknowledged_while_its_owner_stops_it_stays_stopped() -> None:
    """The acknowledgement was decided on the running clock, and stored after the owner
    stored the shipment that stopped it: the clock stays stopped, and its correction is
    published once."""
    store = MemoryRoleStore()
    owner, acker = Role(store=store), Role(store=store)
    breach = await order_breach(owner)
    acknowledging = ack(acker, breach, 3700)
    _, ack_write = await acker.batches.run(events=[(acknowledging, "kefu.role.presale:0")])
    shipped = await owner.send(owner.event("order.shipped", 3710, order_id="o1",
                                           carrier="SF", tracking_no="SF1"))
    await ack_write()
    assert escalations(shipped) == [("o1", "resolved", 2)]
    assert not store.clocks[("s1", "order", "o1")]["ship_by"].running
