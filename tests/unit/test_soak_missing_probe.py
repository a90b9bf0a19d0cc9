"""The soak's one-line account of an owed breach that never came (pure)."""

from __future__ import annotations

from benchmarks.soak.missing_probe import describe_probe
from services.roles.clock_state import ClockState

DEADLINE = "2026-12-06T08:34:00+08:00"


def probed(presale: dict, aftersale: dict | None = None, shop: str | None = "s1") -> dict:
    entry = {"conversation": "c1", "sla": "first_response", "deadline": DEADLINE,
             "shop": shop}
    if shop is not None:
        entry |= {"presale": presale, "aftersale": aftersale or {"conv": {}, "timer": []}}
    return entry


def running_clock(fired: int) -> str:
    return ClockState("first_response", "e1", 1_000, (2_000, 3_000, 4_000),
                      "kefu.role.presale:1", fired=fired).encode().decode()


def test_a_running_clock_without_a_timer_is_named_as_such() -> None:
    line = describe_probe(probed({"conv": {"clock": running_clock(0)}, "timer": []}))
    assert line == (f"c1 first_response due {DEADLINE}: presale clock first_response running, "
                    "milestones fired 0b0, no timer")


def test_a_timer_in_flight_says_where_and_until_when() -> None:
    timer = {"shard": "kefu:{timers:presale:kefu.role.presale:1}", "due_ms": None,
             "lease_ms": 1_796_517_617_486.0, "owner": "x:t", "payload": True, "fence": "4"}
    line = describe_probe(probed({"conv": {"clock": running_clock(1)}, "timer": [timer]}))
    assert line.endswith("milestones fired 0b1, timer in flight in "
                         "kefu:{timers:presale:kefu.role.presale:1} (lease to 1796517617486 ms)")


def test_nothing_stored_and_an_unknown_shop_are_said_plainly() -> None:
    assert describe_probe(probed({"conv": {}, "timer": []})).endswith(": nothing in Redis")
    assert describe_probe(probed({}, shop=None)) == f"c1 first_response due {DEADLINE}: " \
                                                   "shop unknown"
    unreadable = probed({"conv": {"clock": "{"}, "timer": []})
    assert "presale an unreadable clock, no timer" in describe_probe(unreadable)
