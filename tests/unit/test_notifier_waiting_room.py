"""Which handed-back notification a freed slot calls back (pure, no outbox)."""

from __future__ import annotations

from services.notifier.lanes import Lane
from services.notifier.waiting_room import WaitingRoom

BIG, SMALL, FULL = Lane("big", "hooks"), Lane("small", "hooks"), Lane("full", "hooks")


def test_a_freed_slot_calls_back_its_own_lanes_oldest_first():
    room = WaitingRoom(per_lane=8)
    for i in range(3):
        room.wait(BIG, f"big-{i}")
    room.wait(SMALL, "small-0")
    assert room.call_back(BIG, lambda lane: True) == "big-0"
    assert room.call_back(BIG, lambda lane: True) == "big-1"


def test_else_the_first_waiting_lane_admitted_now_and_none_when_none_is():
    room = WaitingRoom(per_lane=8)
    room.wait(FULL, "full-0")
    room.wait(SMALL, "small-0")
    admitted = {SMALL}
    assert room.call_back(BIG, admitted.__contains__) == "small-0", "full is skipped"
    assert room.call_back(BIG, admitted.__contains__) is None, "nothing admitted waits"
    assert room.call_back(FULL, lambda lane: True) == "full-0"
    assert room.lanes == {}, "an emptied lane is dropped"


def test_an_id_claimed_again_no_longer_waits_and_a_lane_keeps_at_most_per_lane():
    room = WaitingRoom(per_lane=2)
    for i in range(5):
        room.wait(BIG, f"big-{i}")
    room.forget(BIG, "big-0")
    assert room.call_back(BIG, lambda lane: True) == "big-1"
    assert room.call_back(BIG, lambda lane: True) is None
