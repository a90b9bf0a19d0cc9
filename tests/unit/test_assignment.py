"""Agent choice and queue order (services.roles.assignment), without I/O."""

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

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


def reference_choice(agents, sticky, exclude):
    """The rule as the module docstring states it, written the plain way."""
    free = [a for a in agents if a.status == "online" and a.max_concurrent > a.load
            and a.agent_id not in exclude]
    if sticky is not None and ms(NOW) - sticky.at <= WINDOW.total_seconds() * 1000:
        for a in free:
            if a.agent_id == sticky.agent_id:
                return Choice(a.agent_id, AssignmentReason.STICKY)
    if not free:
        return None
    best = min(free, key=lambda a: (-(a.max_concurrent - a.load), a.idle_since, a.agent_id))
    return Choice(best.agent_id, AssignmentReason.LEAST_LOADED)


@settings(max_examples=400, deadline=None)
@given(boards=st.lists(st.tuples(st.sampled_from(["online", "away", "offline"]),
                                 st.integers(0, 6), st.integers(0, 8), st.integers(0, 3)),
                       max_size=12),
       sticky=st.one_of(st.none(), st.tuples(st.integers(0, 14), st.booleans())),
       excluded=st.sets(st.integers(0, 14), max_size=3))
def test_one_pass_choice_equals_the_rule_on_any_board(boards, sticky, excluded) -> None:
    agents = [agent(f"a{i:02d}", load=load, max_concurrent=cap, status=status, idle=idle)
              for i, (status, cap, load, idle) in enumerate(boards)]
    held = None if sticky is None else Sticky(
        f"a{sticky[0]:02d}", ms(NOW - (timedelta(hours=1) if sticky[1] else WINDOW * 2)))
    exclude = frozenset(f"a{i:02d}" for i in excluded)
    assert choose(agents, held, exclude) == reference_choice(agents, held, exclude)
