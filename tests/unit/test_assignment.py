"""Agent choice and queue order (services.roles.assignment), without I/O."""

from datetime import UTC, datetime, timedelta

from contracts import AssignmentReason
from services.roles.assignment import (
    AgentView,
    Choice,
    Sticky,
    choose_agent,
    queue_order,
    queue_score,
)

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
WINDOW = timedelta(hours=72)


def ms(at: datetime) -> int:
    return round(at.timestamp() * 1000)


def agent(agent_id, load=0, max_concurrent=5, status="online", idle=0) -> AgentView:
    return AgentView(agent_id, status, max_concurrent, load, idle)


def choose(agents, sticky=None, exclude=frozenset()):
    return choose_agent(agents, sticky=sticky, now=NOW, window=WINDOW, exclude=exclude)


def test_sticky_agent_within_the_window_wins_even_when_busier() -> None:
    agents = [agent("a", load=4), agent("b", load=0)]
    sticky = Sticky("a", ms(NOW - timedelta(hours=71)))
    assert choose(agents, sticky) == Choice("a", AssignmentReason.STICKY)


def test_sticky_agent_outside_the_window_is_not_preferred() -> None:
    agents = [agent("a", load=4), agent("b", load=0)]
    sticky = Sticky("a", ms(NOW - timedelta(hours=72, seconds=1)))
    assert choose(agents, sticky) == Choice("b", AssignmentReason.LEAST_LOADED)


def test_sticky_agent_exactly_at_the_window_edge_still_counts() -> None:
    sticky = Sticky("a", ms(NOW - WINDOW))
    assert choose([agent("a", load=1), agent("b")], sticky).reason == AssignmentReason.STICKY


def test_sticky_agent_offline_away_or_full_falls_back_to_least_loaded() -> None:
    sticky = Sticky("a", ms(NOW))
    for a in (agent("a", status="offline"), agent("a", status="away"), agent("a", load=5)):
        assert choose([a, agent("b", load=3)], sticky) == Choice("b", AssignmentReason.LEAST_LOADED)


def test_most_free_capacity_wins_not_lowest_load() -> None:
    agents = [agent("a", load=1, max_concurrent=2), agent("b", load=3, max_concurrent=8)]
    assert choose(agents).agent_id == "b"  # 5 free beats 1 free


def test_ties_go_to_the_longest_idle() -> None:
    agents = [agent("a", load=1, idle=300), agent("b", load=1, idle=100),
              agent("c", load=1, idle=200), agent("d", load=2, idle=0)]
    assert choose(agents) == Choice("b", AssignmentReason.LEAST_LOADED)


def test_full_tie_is_broken_by_agent_id_deterministically() -> None:
    assert choose([agent("z"), agent("m")]).agent_id == "m"


def test_no_capacity_anywhere_gives_none() -> None:
    agents = [agent("a", load=5), agent("b", status="away"), agent("c", status="offline")]
    assert choose(agents) is None
    assert choose([]) is None


def test_excluded_agents_are_never_chosen() -> None:
    sticky = Sticky("a", ms(NOW))
    assert choose([agent("a"), agent("b", load=4)], sticky, frozenset({"a"})).agent_id == "b"
    assert choose([agent("a")], exclude=frozenset({"a"})) is None


def test_free_capacity_counts_only_online_agents() -> None:
    assert agent("a", load=2).free == 3
    assert agent("a", load=7).free == 0  # max_concurrent lowered below the load
    assert agent("a", status="away").free == 0


def test_queue_serves_highest_priority_then_oldest() -> None:
    entries = [("n-old", "normal", 1_000), ("h-new", "high", 9_000), ("u-new", "urgent", 8_000),
               ("h-old", "high", 2_000), ("n-new", "normal", 5_000), ("u-old", "urgent", 7_000)]
    assert queue_order(entries) == ["u-old", "u-new", "h-old", "h-new", "n-old", "n-new"]


def test_queue_score_orders_like_the_redis_zset_and_stays_exact() -> None:
    now = ms(NOW)
    assert queue_score("urgent", now + 10**9) < queue_score("high", 0) < queue_score("normal", 0)
    assert queue_score("normal", now) < queue_score("normal", now + 1)
    assert queue_score("normal", now) < 2**53
    assert queue_score("unknown", now) == queue_score("normal", now)
