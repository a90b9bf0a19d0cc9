"""Which handed-back notification a freed slot calls back (pure, no outbox)."""

from __future__ import annotations

from services.notifier.lanes import Lane
from services.notifier.waiting_room import WaitingRoom

BIG, SMALL, FULL = Lane("big", "hooks"), Lane("small", "hooks"), Lane("full", "hooks")


def anyone(lane: Lane) -> bool:
    return True


def room_of(per_lane: int, *waiting: tuple[Lane, int]) -> WaitingRoom:
    """A room where each lane's entries `<shop>-0`, `<shop>-1`, ... were handed back."""
    room = WaitingRoom(per_lane=per_lane)
    for lane, count in waiting:
        for i in range(count):
            room.wait(lane, f"{lane.shop}-{i}")
    return room


def test_a_freed_slot_calls_back_its_own_lanes_oldest_first():
    room = room_of(8, (BIG, 3), (SMALL, 1))
    assert [room.call_back(BIG, anyone) for _ in range(2)] == ["big-0", "big-1"]


def test_else_the_first_waiting_lane_admitted_now_and_none_when_none_is():
    room, admitted = room_of(8, (FULL, 1), (SMALL, 1)), {SMALL}
    assert room.call_back(BIG, admitted.__contains__) == "small-0", "full is skipped"
    assert room.call_back(BIG, admitted.__contains__) is None, "nothing admitted waits"
    assert room.call_back(FULL, anyone) == "full-0"
    assert room.lanes == {}, "an emptied lane is dropped"


def test_an_id_claimed_again_no_longer_waits_and_a_lane_keeps_at_most_per_lane():
    room = room_of(2, (BIG, 5))
    room.forget(BIG, "big-0")
    assert room.call_back(BIG, anyone) == "big-1"
    assert room.call_back(BIG, anyone) is None
