"""The live board's assembly (pure): queues with the oldest wait, agents merged over
their roles, conversations nearest their deadline with the business time left (paused
outside business hours), escalations with who took them, and the countdown's fixed
point that keeps the page from being re-sent every second."""

from __future__ import annotations

from datetime import datetime, timedelta

from services.console.live.board import assemble
from services.console.live.hub import stable
from services.console.live.reader import AgentRow, RoleBoard, ShopRead
from services.console.view import movable_to
from services.core.policy import parse_policy
from services.roles.clock_state import ClockState, to_us

POLICY = parse_policy({"shops": {"default": {
    "business_hours": {"mon-sun": [["09:00", "18:00"]]}}}}, source="test").for_shop("s1")
NOW = datetime.fromisoformat("2026-11-23T10:00:00+08:00")


def clock(deadline: datetime, acked: bool = False) -> ClockState:
    due = to_us(deadline)
    return ClockState("first_response", "e1", due - 180_000_000, (0, due, due + 1), "p:0",
                      acked=acked)


def read(**boards: RoleBoard) -> ShopRead:
    empty = RoleBoard("presale", [], 0, [], [])
    return ShopRead({"presale": boards.get("presale", empty),
                     "aftersale": boards.get("aftersale", empty)},
                    [{"escalation_id": "x1", "state": "breached", "level": 2}],
                    {"x1": {"by": "sup-wu"}},
                    [{"reason": "naive_timestamp", "failed_at": "2026-11-23T02:00:00+00:00"}])


def test_queues_agents_and_the_nearest_deadline_first() -> None:
    presale = RoleBoard(
        "presale", [AgentRow("lin", "online", 5, 5, ["presale"]),
                    AgentRow("zhou", "away", 5, 1, ["presale"])],
        3, [to_us(NOW - timedelta(seconds=90)) // 1000, to_us(NOW) // 1000],
        [("c-late", "lin", clock(NOW - timedelta(seconds=20))),
         ("c-soon", "", clock(NOW + timedelta(seconds=40), acked=True))])
    aftersale = RoleBoard("aftersale", [AgentRow("lin", "online", 3, 1, ["aftersale"])], 0, [],
                          [])
    board = assemble("s1", read(presale=presale, aftersale=aftersale), POLICY.calendar, NOW)
    assert board["queues"] == {"presale": {"waiting": 3, "oldest_wait_s": 90.0},
                               "aftersale": {"waiting": 0, "oldest_wait_s": None}}
    lin = board["agents"][0]
    assert (lin["agent_id"], lin["roles"], lin["load"], lin["capacity"]) == (
        "lin", ["presale", "aftersale"], 6, 8)
    assert board["agents"][1]["status"] == "away" and board["agents"][1]["capacity"] == 0
    assert [(r["conversation_id"], r["remaining_s"], r["agent_id"], r["acknowledged"])
            for r in board["near_breach"]] == [("c-late", -20.0, "lin", False),
                                               ("c-soon", 40.0, None, True)]
    assert board["escalations"][0]["acknowledged_by"] == "sup-wu"
    assert board["dead_letters"][0]["failed_at"] == "2026-11-23T10:00:00+08:00", "shop time"
    assert movable_to(board, "aftersale", None) == ["lin"]
    assert movable_to(board, "presale", None) == [], "lin is full, zhou away"


def test_time_left_counts_business_hours_only_and_pauses_when_closed() -> None:
    evening = datetime.fromisoformat("2026-11-23T17:59:00+08:00")
    next_day = evening + timedelta(hours=15, minutes=2)  # 09:01 tomorrow
    presale = RoleBoard("presale", [], 1, [], [("c1", "", clock(next_day))])
    open_row = assemble("s1", read(presale=presale), POLICY.calendar, evening)["near_breach"][0]
    assert (open_row["remaining_s"], open_row["counting"]) == (120.0, True)
    night = evening + timedelta(hours=3)
    closed_row = assemble("s1", read(presale=presale), POLICY.calendar, night)["near_breach"][0]
    assert (closed_row["remaining_s"], closed_row["counting"]) == (60.0, False)


def test_the_board_is_the_same_a_second_later_while_nothing_happens() -> None:
    presale = RoleBoard("presale", [], 1, [to_us(NOW) // 1000],
                        [("c1", "", clock(NOW + timedelta(seconds=100)))])
    first = assemble("s1", read(presale=presale), POLICY.calendar, NOW)
    later = assemble("s1", read(presale=presale), POLICY.calendar, NOW + timedelta(seconds=1))
    assert first["near_breach"][0]["remaining_s"] != later["near_breach"][0]["remaining_s"]
    assert stable(first) == stable(later)
