"""When capacity moves: an agent goes offline or away (hand back), capacity frees (drain
the queue), a first response is breached (reassign). Each takes its decisions under one
cause, so a replay republishes them (see `Assigner.replay`)."""

from __future__ import annotations

from contracts import AgentStatus, Assignment, AssignmentReason
from services.roles.assigner import Assigner
from services.roles.assignment import queue_order

DRAIN_PAGE = 50  # queue entries read per round trip


async def presence(assigner: Assigner, shop: str, agent_id: str, status: str,
                   max_concurrent: int) -> list[str]:
    """Record the agent's presence in Redis and in the batch's snapshot; returns the
    conversations to hand back."""
    held = await assigner.ledger.presence(shop, agent_id, status, max_concurrent,
                                          assigner.now_ms)
    board = await assigner.board(shop)
    if agent_id in board:
        view = board[agent_id]
        if status == AgentStatus.ONLINE and view.status != AgentStatus.ONLINE:
            view.idle_since = assigner.now_ms
        view.status, view.max_concurrent = status, max_concurrent
    else:
        assigner.boards[shop] = await assigner.ledger.agents(shop)
    return held


async def hand_back(assigner: Assigner, shop: str, agent_id: str, convs: list[str], cause: str,
                    trace: str | None) -> list[Assignment]:
    """Reassign (or queue) every conversation `agent_id` held, highest priority first."""
    states = await assigner.states(shop, convs)
    order = queue_order((s.conv_id, s.priority, s.opened) for s in states)
    by_id = {s.conv_id: s for s in states}
    out = []
    for conv in order:
        placed = await assigner.place(shop, by_id[conv], cause, expect=f"={agent_id}",
                                      exclude=frozenset({agent_id}), trace=trace)
        if placed is not None:
            out.append(placed)
    return out


async def drain(assigner: Assigner, shop: str, cause: str, trace: str | None) -> list[Assignment]:
    """Serve queued conversations (highest priority, then oldest) while capacity is free."""
    out, start = [], 0
    while True:
        heads = await assigner.ledger.queue_heads(shop, start, DRAIN_PAGE)
        if not heads:
            return out
        board = await assigner.board(shop)
        for state in await assigner.states(shop, heads):
            if sum(a.free for a in board.values()) <= 0:
                return out
            placed = await assigner.place(shop, state, cause, expect="queued", queue=False,
                                          trace=trace)
            if placed is not None:
                out.append(placed)
            else:
                start += 1  # still queued (gone ones left the queue)
        if len(heads) < DRAIN_PAGE:
            return out


async def reassign_after_breach(assigner: Assigner, shop: str, conv_id: str, cause: str,
                                trace: str | None) -> list[Assignment]:
    """Move a conversation whose first response was breached to another free agent."""
    replayed = await assigner.replay(shop, cause, trace)
    if replayed:
        return replayed
    [state] = await assigner.states(shop, [conv_id])
    if not state.agent:
        return []
    placed = await assigner.place(
        shop, state, cause, expect=f"={state.agent}", exclude=frozenset({state.agent}),
        reason=AssignmentReason.REASSIGNED_AFTER_BREACH, queue=False, trace=trace)
    return [placed] if placed is not None else []
