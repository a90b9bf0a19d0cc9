"""Assignment decisions of one batch (or one timer firing): the pure choice of
`assignment.py` against a batch-local snapshot of the agents, each decision made atomic
and capacity-guarded by the ledger. A `full` answer (another replica took the capacity)
marks the agent full in the snapshot and chooses again."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from contracts import Assignment, AssignmentReason
from services.core.policy import ShopPolicy
from services.roles.assignment import QUEUED, AgentView, Sticky, choose_agent, queue_score
from services.roles.conversation import ConvState
from services.roles.escalation import assignment
from services.roles.ledger import Ledger, Outcome

ConvCache = dict[tuple[str, str], ConvState]


class Assigner:
    def __init__(self, ledger: Ledger, role: str, policy_for: Callable[[str], ShopPolicy],
                 now: datetime, convs: ConvCache | None = None) -> None:
        self.ledger, self.role, self.policy_for, self.now = ledger, role, policy_for, now
        self.now_ms = round(now.timestamp() * 1000)
        self.convs: ConvCache = convs if convs is not None else {}
        self.boards: dict[str, dict[str, AgentView]] = {}
        self.stickies: dict[tuple[str, str], Sticky | None] = {}
        self.causes: dict[tuple[str, str], list[str]] = {}
        self.used_causes: set[tuple[str, str]] = set()

    async def board(self, shop: str) -> dict[str, AgentView]:
        if shop not in self.boards:
            self.boards[shop] = await self.ledger.agents(shop)
        return self.boards[shop]

    async def states(self, shop: str, ids: Iterable[str]) -> list[ConvState]:
        ids = list(ids)
        missing = [c for c in ids if (shop, c) not in self.convs]
        for conv, state in (await self.ledger.convs(shop, missing)).items():
            self.convs[(shop, conv)] = state
        return [self.convs[(shop, c)] for c in ids]

    async def replay(self, shop: str, cause: str, trace: str | None) -> list[Assignment]:
        """The decisions `cause` already made (its outputs may not have been acked)."""
        if (shop, cause) not in self.causes:
            self.causes[(shop, cause)] = await self.ledger.cause_members(shop, cause)
        members = self.causes[(shop, cause)]
        if members:
            self.used_causes.add((shop, cause))
        states = await self.states(shop, members)
        return [self._message(shop, s.conv_id, s.agent, s.reason, s.at, trace)
                for s in states if s.acause == cause and s.reason]

    async def place(
        self, shop: str, conv: ConvState, cause: str, *, expect: str, trace: str | None,
        exclude: frozenset[str] = frozenset(), reason: AssignmentReason | None = None,
        queue: bool = True,
    ) -> Assignment | None:
        """Give `conv` an agent, else queue it (`queue`); None if nothing was decided."""
        policy = self.policy_for(shop)
        board = await self.board(shop)
        sticky = await self._sticky(shop, conv.buyer)
        tried = set(exclude)
        while True:
            choice = choose_agent(board.values(), sticky=sticky, now=self.now, exclude=frozenset(
                tried), window=policy.assignment.sticky_window)
            if choice is None and (not queue or conv.queued):
                return None
            target = choice.agent_id if choice else ""
            why = (reason or choice.reason).value if choice else QUEUED
            score = queue_score(conv.priority, conv.opened or self.now_ms)
            out = await self.ledger.assign(
                shop, conv.conv_id, target, cause=cause, reason=why, now_ms=self.now_ms,
                expect=expect, score=score, buyer=conv.buyer,
                sticky_ttl_ms=int(policy.assignment.sticky_window.total_seconds() * 1000))
            if out.status == "full":
                board[target].load = max(board[target].load, board[target].max_concurrent)
                tried.add(target)
                continue
            self._apply(shop, conv, out, cause)
            if out.status == "stale":
                return None
            return self._message(shop, conv.conv_id, out.agent, out.reason, out.at, trace)

    def _apply(self, shop: str, conv: ConvState, out: Outcome, cause: str) -> None:
        board = self.boards.get(shop, {})
        if out.status == "ok":
            self.used_causes.add((shop, cause))
            if conv.agent in board and conv.agent != out.agent:
                board[conv.agent].load -= 1
            if out.agent in board and conv.agent != out.agent:
                board[out.agent].load += 1
                board[out.agent].idle_since = self.now_ms
            if out.agent and conv.buyer:
                self.stickies[(shop, conv.buyer)] = Sticky(out.agent, self.now_ms)
        if out.status in ("ok", "replay"):
            conv.acause = cause
        conv.agent, conv.reason, conv.at = out.agent, out.reason, out.at

    async def _sticky(self, shop: str, buyer: str) -> Sticky | None:
        if not buyer:
            return None
        if (shop, buyer) not in self.stickies:
            await self.prefetch_stickies([(shop, buyer)])
        return self.stickies[(shop, buyer)]

    async def prefetch_stickies(self, pairs: Iterable[tuple[str, str]]) -> None:
        pairs = [p for p in pairs if p not in self.stickies]
        found = await self.ledger.stickies(pairs)
        for pair in pairs:
            self.stickies[pair] = found.get(pair)

    def _message(self, shop: str, conv: str, agent: str, reason: str, at_ms: int,
                 trace: str | None) -> Assignment:
        tz = self.policy_for(shop).timezone
        at = datetime.fromtimestamp(at_ms / 1000, tz) if at_ms else self.now.astimezone(tz)
        return assignment(shop, self.role, conv, agent or None, reason, at, trace)
