"""Stopping a clock on event time (services.roles.clock_state): what was published and
turned out false is retracted, a breach that was real is resolved, a milestone that was
real but never published (it waited for the watermark) is published now."""

from __future__ import annotations

import dataclasses

from services.roles.clock_state import ClockState, Notice, fire, stop

W, D, L3 = 80, 100, 200  # warning, deadline, level 3 (µs; only their order matters)


def clock(fired: int = 0, warn: int = W) -> ClockState:
    return ClockState("first_response", "e1", 0, (warn, D, L3), "kefu.role.presale:0",
                      fired=fired)


def states(notices: list[Notice]) -> list[tuple[str, int]]:
    return [(n.state.value, n.level) for n in notices]


def test_a_stop_before_anything_was_due_owes_nothing() -> None:
    c = clock()
    assert stop(c, 50) == [] and not c.running and c.next_index() is None


def test_a_published_breach_before_the_stop_is_resolved() -> None:
    c = clock(fired=0b011)  # warning and level 2 published
    assert states(stop(c, 150)) == [("resolved", 2)]


def test_a_published_breach_after_the_stop_is_retracted_and_a_true_warning_stays() -> None:
    c = clock(fired=0b011)
    assert states(stop(c, 90)) == [("retracted", 2)]


def test_everything_published_after_the_stop_is_retracted() -> None:
    c = clock(fired=0b111)
    assert states(stop(c, 10)) == [("retracted", 1), ("retracted", 2), ("retracted", 3)]


def test_real_milestones_never_published_are_published_then_resolved() -> None:
    c = clock()  # the watermark held every timer back (a backlog)
    assert states(stop(c, 250)) == [("warning", 1), ("breached", 2), ("breached", 3),
                                    ("resolved", 2), ("resolved", 3)]
    assert c.fired == 0b111, "published now: a late timer fires nothing more"


def test_a_stop_exactly_at_the_deadline_is_a_breach() -> None:
    assert states(stop(clock(fired=0b001), D)) == [("breached", 2), ("resolved", 2)]
    assert states(stop(clock(fired=0b011), D)) == [("resolved", 2)], "published: not false"


def test_a_clock_without_a_warning_never_publishes_one() -> None:
    c = clock(warn=0)
    assert c.next_index() == 1
    assert states(stop(c, 250)) == [("breached", 2), ("breached", 3), ("resolved", 2),
                                    ("resolved", 3)]


def test_fire_publishes_each_milestone_once_and_nothing_after_a_stop() -> None:
    c = clock()
    assert c.next_index() == 0
    assert states([fire(c, 0)]) == [("warning", 1)] and fire(c, 0) is None
    assert c.next_index() == 1
    stop(c, 90)
    assert fire(c, 1) is None and c.next_index() is None


def test_a_clock_round_trips_through_its_stored_form() -> None:
    c = ClockState("ship_by", "o1@2026-12-01T00:00:00+00:00", 5, (0, 7, 9), "kefu.orders:2",
                   fired=2, running=False, trace="t1", action="ship_as_ordered")
    assert ClockState.decode(c.encode()) == c


def test_a_copy_carries_every_field_and_changes_apart() -> None:
    clock = ClockState("first_response", "e1", 1, (2, 3, 4), "kefu.orders:1", fired=3,
                       running=False, trace="t", action="a", acked=True)
    assert all(getattr(clock, f.name) != f.default for f in dataclasses.fields(ClockState)
               if f.default is not dataclasses.MISSING), "every field set apart from its default"
    copied = clock.copy()
    assert copied == clock and copied is not clock
    copied.fired, copied.running = 0, True
    assert (clock.fired, clock.running) == (3, False)
