"""One shop's agents and queue as a batch sees them, and the capacity decisions made on
it (pure). Each decision changes the board in memory at once, so the batch's next
decision sees it, and becomes a reservation for the assignment script."""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from contracts import AgentStatus, AssignmentReason
from services.roles.assignment import QUEUED, AgentView, Sticky, choose_agent, queue_score
from services.roles.conversation import ConvState
from services.roles.reservations import Assign, HeldConversation, Presence, Release


@dataclass(slots=True)
class Queued:
    """A queued conversation: its queue score and its buyer (for the sticky agent)."""

    score: int
    conv: str
    buyer: str = ""


@dataclass(slots=True)
class ShopBoard:
    """`queue` holds the head of the shop's queue, in serving order: as many entries as
    the shop had free capacity when loaded, and more as conversations are queued."""

    agents: dict[str, AgentView] = field(default_factory=dict)
    queue: list[Queued] = field(default_factory=list)
    stickies: dict[str, Sticky] = field(default_factory=dict)

    def free(self) -> int:
        return sum(a.free for a in self.agents.values())


@dataclass(slots=True)
class Placer:
    """Makes one shop's decisions of one batch. `slot` hands out output positions;
    `known` finds a conversation the batch loaded (so its state follows the decision)."""

    board: ShopBoard
    now: datetime
    sticky_window: timedelta
    slot: Callable[[], int]
    known: Callable[[str], ConvState | None]
    now_ms: int = 0

    def __post_init__(self) -> None:
        self.now_ms = round(self.now.timestamp() * 1000)

    def place(self, conv: ConvState, *, cause: str, expect: str, queue: bool = True,
              exclude: frozenset[str] = frozenset(), reason: AssignmentReason | None = None,
              slot: int | None = None) -> Assign | None:
        """Give `conv` an agent, else queue it (when `queue`); None if nothing to decide."""
        board = self.board
        choice = choose_agent(board.agents.values(), sticky=board.stickies.get(conv.buyer),
                              now=self.now, window=self.sticky_window, exclude=exclude)
        if choice is None and (not queue or conv.queued):
            return None
        target = choice.agent_id if choice else ""
        why = (reason or choice.reason).value if choice else QUEUED
        op = Assign(conv.conv_id, target, cause, why, expect,
                    queue_score(conv.priority, conv.opened or self.now_ms), conv.buyer,
                    self.slot() if slot is None else slot, exclude, queue,
                    reason.value if reason else "", (conv.agent, conv.reason))
        self.assume(op, conv)
        return op

    def move(self, conv: ConvState, agent_id: str, *, cause: str) -> Assign | None:
        """A supervisor moves `conv` (held or queued) to `agent_id`; None when that agent
        is not online with free capacity on this board."""
        view = self.board.agents.get(agent_id)
        if view is None or view.free <= 0:
            return None
        why = AssignmentReason.REASSIGNED_BY_SUPERVISOR.value
        op = Assign(conv.conv_id, agent_id, cause, why,
                    f"={conv.agent}" if conv.agent else "queued",
                    queue_score(conv.priority, conv.opened or self.now_ms), conv.buyer,
                    self.slot(), may_queue=False, forced_reason=why,
                    previous=(conv.agent, conv.reason), pinned=True)
        self.assume(op, conv)
        return op

    def again(self, op: Assign, conv: ConvState, last_round: bool) -> Assign | None:
        """Decide a `full` answer again, on the board as the script left it; in the last
        round only the queue is left (it cannot be full)."""
        conv.agent, conv.reason = op.previous
        if op.pinned:
            return None
        exclude = op.exclude | {op.target}
        if last_round:
            exclude = frozenset(self.board.agents)
        reason = AssignmentReason(op.forced_reason) if op.forced_reason else None
        return self.place(conv, cause=op.cause, expect=op.expect, queue=op.may_queue,
                          exclude=exclude, reason=reason, slot=op.slot)

    def assume(self, op: Assign, conv: ConvState) -> None:
        """Change the board and the conversation as if `op` succeeds."""
        agents = self.board.agents
        if conv.agent in agents and conv.agent != op.target:
            agents[conv.agent].load = max(0, agents[conv.agent].load - 1)
        self._dequeue(conv.conv_id)
        if op.target:
            agents[op.target].load += 1
            agents[op.target].idle_since = self.now_ms
            if conv.buyer:
                self.board.stickies[conv.buyer] = Sticky(op.target, self.now_ms)
        else:
            bisect.insort(self.board.queue, Queued(op.score, conv.conv_id, conv.buyer),
                          key=lambda q: (q.score, q.conv))
        conv.agent, conv.reason, conv.assignment_cause, conv.at = op.target, op.reason, op.cause, \
            self.now_ms

    def release(self, conv: ConvState, cause: str) -> Release:
        if conv.agent in self.board.agents:
            view = self.board.agents[conv.agent]
            view.load = max(0, view.load - 1)
        self._dequeue(conv.conv_id)
        conv.agent, conv.reason, conv.assignment_cause = "", "", cause
        return Release(conv.conv_id, cause)

    def presence(self, agent_id: str, status: str, max_concurrent: int, cause: str) -> Presence:
        view = self.board.agents.get(agent_id)
        if view is None:
            view = self.board.agents[agent_id] = AgentView(agent_id, status, max_concurrent)
        if status == AgentStatus.ONLINE and view.status != AgentStatus.ONLINE:
            view.idle_since = self.now_ms
        view.status, view.max_concurrent = status, max_concurrent
        if status != AgentStatus.ONLINE:
            view.load = 0  # its conversations are handed back
        return Presence(agent_id, status, max_concurrent, cause)

    def drain(self, cause: str) -> list[Assign]:
        """Serve queued conversations, highest priority then oldest, while capacity is free."""
        out = []
        while self.board.queue and self.board.free() > 0:
            head = self.board.queue[0]
            conv = self.known(head.conv) or ConvState(head.conv, head.buyer, reason=QUEUED)
            op = self.place(conv, cause=cause, expect="queued", queue=False)
            if op is None:
                break
            out.append(op)
        return out

    def hand_back(self, agent_id: str, held: list[HeldConversation], cause: str) -> list[Assign]:
        """Reassign (or queue) the conversations `agent_id` held, most urgent first."""
        out = []
        for h in sorted(held, key=lambda h: (queue_score(h.priority, h.opened), h.conv)):
            conv = self.known(h.conv) or ConvState(h.conv, h.buyer, agent_id, priority=h.priority,
                                                   opened=h.opened)
            op = self.place(conv, cause=cause, expect=f"={agent_id}",
                            exclude=frozenset({agent_id}))
            if op is not None:
                out.append(op)
        return out

    def _dequeue(self, conv_id: str) -> None:
        self.board.queue = [q for q in self.board.queue if q.conv != conv_id]
