"""A role service's clocks through whole batches, on the in-memory store: judged on event
time, fired only where the watermark allows, corrected when a late stop proves them
wrong. The presale SLA here is 3 min (warning at 2:24, level 3 at 6:00)."""

from __future__ import annotations

import asyncio

from tests.unit.role_harness import SHARD, Role, escalations

DEADLINE, LEVEL3 = 180, 360


async def test_a_conversation_answered_in_time_never_escalates() -> None:
    role = Role()
    await role.send(role.buyer("c1", 0), role.reply("c1", 2))
    assert escalations(await role.fire(LEVEL3 + 60)) == []
    assert role.store.timers == {}, "the stop cancelled the clock's timer"


async def test_escalations_carry_the_trace_of_the_message_that_started_the_clock() -> None:
    """The contract carries `trace_id` through every derived event: an integrator follows
    one buyer message from its platform to the supervisor's alert."""
    role = Role()
    await role.send(role.buyer("c1", 0, trace="trace-first"))
    await role.send(role.buyer("c1", 5, trace="trace-again"))  # the clock already runs
    fired = [o for o in await role.fire(DEADLINE + 1) if o["topic"] == "kefu.escalations"]
    assert [(o["state"], o["trace_id"]) for o in fired] == [
        ("warning", "trace-first"), ("breached", "trace-first")]


async def test_an_order_deadline_carries_the_trace_of_the_event_that_set_it() -> None:
    role = Role()
    await role.send(role.event("order.paid", 0, order_id="o1", buyer_id="b1", trace="pay-1"))
    fired = [o for o in await role.fire(3700) if o["topic"] == "kefu.escalations"]
    assert [(o["state"], o["trace_id"]) for o in fired] == [
        ("warning", "pay-1"), ("breached", "pay-1")]


async def test_a_timer_claimed_before_its_clock_restarted_fires_nothing() -> None:
    """The firing loop claims a warning; before that claim is handled, the reply stops the
    clock and the buyer's next message starts a new one. The old claim must not fire the
    new clock's milestone early."""
    role = Role()
    await role.send(role.buyer("c1", 0))
    claimed = role.claim(150)
    assert [payload.index for _, payload in claimed] == [0], "the warning"
    await role.send(role.reply("c1", 2), role.buyer("c1", 10))
    assert await role.run_timers(claimed) == []
    assert escalations(await role.fire(150)) == [], "the new clock warns at 2:34"
    assert escalations(await role.fire(155)) == [("c1", "warning", 1)]


async def test_an_unanswered_conversation_escalates_each_level_once() -> None:
    role = Role()
    await role.send(role.buyer("c1", 0))
    assert escalations(await role.fire(140)) == [], "the watermark is before the warning"
    assert escalations(await role.fire(150)) == [("c1", "warning", 1)]
    assert escalations(await role.fire(DEADLINE + 1)) == [("c1", "breached", 2)]
    assert escalations(await role.fire(DEADLINE + 2)) == []
    assert escalations(await role.fire(LEVEL3 + 1)) == [("c1", "breached", 3)]
    assert role.store.timers == {}


async def test_a_reply_read_late_but_sent_in_time_retracts_what_was_published() -> None:
    role = Role()
    await role.send(role.buyer("c1", 0))
    assert escalations(await role.fire(DEADLINE + 1)) == [("c1", "warning", 1),
                                                          ("c1", "breached", 2)]
    out = await role.send(role.reply("c1", 120))  # sent at 2:00, published after 3:01
    assert escalations(out) == [("c1", "retracted", 1), ("c1", "retracted", 2)]
    assert escalations(await role.fire(LEVEL3 + 60)) == []


async def test_a_reply_after_the_deadline_resolves_the_breach_when_it_happened() -> None:
    role = Role()
    await role.send(role.buyer("c1", 0))
    await role.fire(DEADLINE + 1)
    [resolved] = [o for o in await role.send(role.reply("c1", 200))
                  if o["topic"] == "kefu.escalations"]
    assert (resolved["state"], resolved["level"]) == ("resolved", 2)
    assert resolved["resolved_at"].startswith("2026-11-23T10:03:20")


async def test_a_backlog_publishes_no_false_breach_and_every_true_one_once() -> None:
    """The service was paused: a reply in time and a late one are read only after both
    deadlines passed on the wall clock. No timer fired meanwhile (the watermark stayed
    behind): the answered one owes nothing, the late one its breach, at once."""
    role = Role()
    await role.send(role.buyer("ok", 0), role.buyer("late", 0))
    role.now = role.now.replace(minute=30)  # the wall clock is far ahead: it decides nothing
    out = await role.send(role.reply("ok", 2), role.reply("late", DEADLINE + 20))
    assert escalations(out) == [("late", "warning", 1), ("late", "breached", 2),
                                ("late", "resolved", 2)]
    assert escalations(await role.fire(LEVEL3 + 60)) == [], "nothing published twice"


async def test_a_watermark_that_stops_short_of_the_deadline_fires_only_the_warning() -> None:
    role = Role()
    await role.send(role.buyer("c1", 0))
    assert escalations(await role.fire(DEADLINE - 1)) == [("c1", "warning", 1)]
    out = await role.send(role.reply("c1", DEADLINE - 10))
    assert escalations(out) == [], "a true warning stays; the breach never happened"


async def test_a_redelivered_batch_publishes_the_same_corrections() -> None:
    role = Role()
    await role.send(role.buyer("c1", 0))
    await role.fire(DEADLINE + 1)
    reply = role.reply("c1", 120)
    first = await role.send(reply, apply=False)  # crashed before its writes
    again = await role.send(reply)
    assert escalations(first) == escalations(again) != []
    assert [o["escalation_id"] for o in first] == [o["escalation_id"] for o in again]
    assert await role.send(reply) == [], "once written, the event is a duplicate"


async def test_a_complaint_escalates_at_once_and_once_per_unanswered_stretch() -> None:
    role = Role("aftersale")
    first = role.buyer("c1", 0, routing=("complaint", "urgent"))
    second = role.buyer("c1", 10, routing=("complaint", "urgent"))
    out = escalations(await role.send(first, second))
    assert out == [("c1", "raised", 2)]


async def test_ship_by_starts_on_payment_and_a_shipment_in_time_stops_it() -> None:
    role = Role()
    await role.send(role.event("order.paid", 0, order_id="o1", buyer_id="b1"),
                    role.event("order.paid", 0, order_id="o2", buyer_id="b2"),
                    role.event("order.shipped", 600, order_id="o2", carrier="SF",
                               tracking_no="SF1"))
    fired = escalations(await role.fire(3700))
    assert fired == [("o1", "warning", 1), ("o1", "breached", 2)]


async def test_a_delay_moves_the_deadline_as_a_new_cause_and_late_scans_do_not_restart() -> None:
    role = Role()
    await role.send(role.event("order.paid", 0, order_id="o1", buyer_id="b1"))
    new_by = "2026-11-23T13:00:00+08:00"
    await role.send(role.event("order.delayed", 60, order_id="o1", reason="stock",
                               new_ship_by=new_by))
    assert escalations(await role.fire(3700)) == [], "the old deadline is gone"
    fired = await role.fire(3 * 3600 + 1)
    assert {o["deadline"] for o in fired} == {new_by}


async def test_a_parcel_scan_read_late_retracts_a_stall_that_never_was() -> None:
    role = Role("aftersale")
    scan = dict(order_id="o1", tracking_no="t1")
    await role.send(role.event("logistics.update", 0, status="in_transit", **scan))
    assert escalations(await role.fire(3601)) == [("o1", "warning", 1), ("o1", "breached", 2)]
    out = await role.send(role.event("logistics.update", 3000, status="in_transit", **scan))
    assert escalations(out) == [("o1", "retracted", 2)], "the warning at 48 min was true"
    assert escalations(await role.fire(3601 + 600)) == []


async def test_a_batch_decided_before_the_previous_one_is_written_sees_its_changes() -> None:
    """Pipelined: batch 2 is decided while batch 1's writes are on their way."""
    role = Role()
    message = role.buyer("c1", 0)
    outputs1, write1 = await role.batches.run(events=[(message, "kefu.role.presale:0")])
    outputs2, write2 = await role.batches.run(events=[(message, "kefu.role.presale:0"),
                                                      (role.reply("c1", 2), "kefu.role.presale:0")])
    await write1()
    await write2()
    assert outputs2 == [], "the repeat is a duplicate; the reply stops batch 1's clock"
    assert role.store.timers == {} and not role.store.convs[("s1", "c1")].running
    assert escalations(await role.fire(LEVEL3 + 60)) == []


async def test_a_write_that_finishes_while_the_next_batch_reads_is_not_lost() -> None:
    """Pipelined, the race of two connections: batch 2's read is answered as the store
    was before batch 1's write, but that write's reply is handled first. Batch 2 must
    still see batch 1's clock: the buyer's second message does not restart it."""
    role = Role()
    store, answered, release = role.store, asyncio.Event(), asyncio.Event()
    load = store.load

    async def read_then_wait(request):
        snapshot = await load(request)  # the store answers now, without batch 1's write
        answered.set()
        await release.wait()
        return snapshot

    _, write1 = await role.batches.run(events=[(role.buyer("c1", 0), SHARD)])
    store.load = read_then_wait
    second = asyncio.create_task(role.batches.run(events=[(role.buyer("c1", 5), SHARD)]))
    await answered.wait()
    await write1()  # batch 1 is written and forgotten while batch 2's answer is on its way
    release.set()
    _, write2 = await second
    await write2()
    assert escalations(await role.fire(150)) == [("c1", "warning", 1)]
    assert escalations(await role.fire(DEADLINE + 1)) == [("c1", "breached", 2)], \
        "the deadline is 3 min after the first message"
