"""Agent choice, as Taobao's 千牛 does it (pure, no I/O).

1. the buyer's previous agent in this role, within the sticky window, if online with
   free capacity (`sticky`);
2. else the online agent with the most free capacity, ties to the longest idle
   (`least_loaded`); `idle` is when the agent last got a conversation or came online;
3. else none: the conversation is queued (`queued_no_capacity`) and served highest
   priority first, then oldest first, when capacity frees.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from contracts import AgentStatus, AssignmentReason, Priority

QUEUED = AssignmentReason.QUEUED_NO_CAPACITY.value
_ONLINE = AgentStatus.ONLINE.value
_PRIORITY_STEP = 10**13  # > any epoch-ms until the year 2286; 3 * step < 2**53


@dataclass(slots=True)
class AgentView:
    """An agent as one batch sees it; `load` is the number of conversations held."""

    agent_id: str
    status: str
    max_concurrent: int
    load: int = 0
    idle_since: int = 0  # epoch ms

    @property
    def free(self) -> int:
        return max(0, self.max_concurrent - self.load) if self.status == AgentStatus.ONLINE else 0


@dataclass(frozen=True, slots=True)
class Sticky:
    """The agent who last served a buyer in this role, and when (epoch ms)."""

    agent_id: str
    at: int


@dataclass(frozen=True, slots=True)
class Choice:
    agent_id: str
    reason: AssignmentReason


def choose_agent(
    agents: Iterable[AgentView], *, sticky: Sticky | None, now: datetime, window: timedelta,
    exclude: frozenset[str] = frozenset(),
) -> Choice | None:
    """The agent for a conversation, or None when nobody has free capacity. One pass over
    the board (it runs for every conversation placed, over every agent of the shop)."""
    sticky_id = sticky.agent_id if sticky is not None and _within(sticky, now, window) else None
    best: AgentView | None = None
    best_free = 0
    for agent in agents:
        if agent.status != _ONLINE:
            continue
        free = agent.max_concurrent - agent.load
        if free <= 0 or agent.agent_id in exclude:
            continue
        if agent.agent_id == sticky_id:
            return Choice(agent.agent_id, AssignmentReason.STICKY)
        if best is None or free > best_free or (free == best_free and (
                agent.idle_since, agent.agent_id) < (best.idle_since, best.agent_id)):
            best, best_free = agent, free
    return Choice(best.agent_id, AssignmentReason.LEAST_LOADED) if best is not None else None


def _within(sticky: Sticky, now: datetime, window: timedelta) -> bool:
    age_ms = now.timestamp() * 1000 - sticky.at
    return age_ms <= window.total_seconds() * 1000


def queue_score(priority: str, queued_at_ms: int) -> int:
    """Redis ZSET score: lower is served first (urgent before high before normal, then the
    oldest). Integers below 2**53, so exact as a Redis double."""
    rank = Priority(priority).rank if priority in Priority.__members__.values() else 0
    return (2 - rank) * _PRIORITY_STEP + max(0, queued_at_ms)


def queued_at(score: int) -> int:
    """The epoch ms a conversation joined the queue, from its queue score."""
    return score % _PRIORITY_STEP


def queue_order(entries: Iterable[tuple[str, str, int]]) -> list[str]:
    """Conversation ids of (conv_id, priority, queued_at_ms) entries in serving order."""
    ordered = sorted(entries, key=lambda e: (queue_score(e[1], e[2]), e[0]))
    return [conv for conv, _priority, _at in ordered]
