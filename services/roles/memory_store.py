"""An in-memory role store for fast unit tests of the role services: the same answers
as `RedisRoleStore` (and its scripts) on plain dictionaries, plus a look at the timers.
The e2e tier runs the real one."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from services.core.timers import ClaimedTimer
from services.roles.assignment import AgentView, Sticky
from services.roles.board import Queued, ShopBoard
from services.roles.clock_state import ClockState
from services.roles.conversation import ConvState
from services.roles.reservations import (
    Assign,
    Decided,
    HeldConversation,
    Presence,
    Release,
    Reservation,
    ShopResult,
)
from services.roles.store import Changes, Decision, LoadRequest, Snapshot


@dataclass
class _Shop:
    agents: dict[str, AgentView] = field(default_factory=dict)
    held: dict[str, set[str]] = field(default_factory=dict)
    queue: dict[str, int] = field(default_factory=dict)  # conv -> score
    stickies: dict[str, Sticky] = field(default_factory=dict)
    causes: dict[str, set[str]] = field(default_factory=dict)


class MemoryRoleStore:
    def __init__(self) -> None:
        self.seen: set[tuple[str, str]] = set()
        self.convs: dict[tuple[str, str], ConvState] = {}
        self.clocks: dict[tuple[str, str, str], dict[str, ClockState]] = {}
        self.acks: dict[tuple[str, str, str], dict[str, str]] = {}  # SLA -> cause
        self.shops: dict[str, _Shop] = {}
        self.timers: dict[str, tuple[str, int, bytes]] = {}  # id -> (shard, due ms, payload)
        self.round_trips = 0

    def shop(self, shop: str) -> _Shop:
        return self.shops.setdefault(shop, _Shop())

    def _conv(self, shop: str, conv_id: str) -> ConvState:
        return self.convs.setdefault((shop, conv_id), ConvState(conv_id))

    # --- the port -----------------------------------------------------------------------
    async def load(self, request: LoadRequest) -> Snapshot:
        self.round_trips += 1
        snap = Snapshot(seen={k for k in request.seen if k in self.seen})
        for key in request.convs:  # as Redis answers: every conversation asked for
            snap.convs[key] = copy.deepcopy(self.convs.get(key, ConvState(key[1])))
        for key in request.subjects:
            snap.clocks[key] = copy.deepcopy(self.clocks.get(key, {}))
        snap.acknowledge({k: self.acks[k] for k in request.subjects if k in self.acks})
        for shop_id, wanted in request.boards.items():
            shop = self.shop(shop_id)
            board = ShopBoard(self._board(shop))
            head = sorted(shop.queue.items(), key=lambda kv: (kv[1], kv[0]))
            for conv, score in head[: board.free() + wanted.extra]:
                buyer = self._conv(shop_id, conv).buyer
                board.queue.append(Queued(score, conv, buyer))
                if buyer in shop.stickies:
                    board.stickies[buyer] = shop.stickies[buyer]
            board.stickies |= {b: shop.stickies[b] for b in wanted.buyers if b in shop.stickies}
            snap.boards[shop_id] = board
            for cause in wanted.causes:
                convs = [self._conv(shop_id, c) for c in sorted(shop.causes.get(cause, ()))]
                found = [Decision(c.conv_id, c.agent, c.reason, c.at) for c in convs
                         if c.assignment_cause == cause and c.reason]
                if found:
                    snap.decisions[(shop_id, cause)] = found
        return snap

    async def reserve(self, reservations: dict[str, list[Reservation]],
                      now_ms: int) -> dict[str, ShopResult]:
        self.round_trips += 1
        out = {}
        for shop_id, ops in reservations.items():
            answers = [self._apply_op(shop_id, op, now_ms) for op in ops]
            out[shop_id] = ShopResult(answers, self._board(self.shop(shop_id)))
        return out

    async def apply(self, changes: Changes) -> None:
        self.round_trips += changes.write_round_trips()
        for tid, write in changes.timers.items():
            if write.due_ms is None:
                self.timers.pop(tid, None)
            else:
                self.timers[tid] = (write.shard, write.due_ms, write.payload)
        for claimed in changes.fired:
            if _not_rescheduled(self.timers.get(claimed.timer_id), claimed):
                self.timers.pop(claimed.timer_id, None)
        for key, conv in changes.convs.items():
            stored = self._conv(*key)
            for name in ("buyer", "priority", "opened", "answered", "trace", "complained",
                         "clock"):
                setattr(stored, name, copy.deepcopy(getattr(conv, name)))
        for key, clocks in changes.clocks.items():
            self.clocks.setdefault(key, {}).update(copy.deepcopy(clocks))
        for key, causes in changes.acks.items():
            self.acks.setdefault(key, {}).update(causes)
        for (shop, buyer), (agent, at) in changes.served.items():
            self.shop(shop).stickies[buyer] = Sticky(agent, at)
        for shop, cause in changes.causes_done:
            self.shop(shop).causes.pop(cause, None)
        self.seen.update(changes.seen)

    def claim(self, bound_ms: int) -> list[ClaimedTimer]:
        """The timers due at or before `bound_ms`, as a claim returns them."""
        due = sorted((due_ms, tid) for tid, (_, due_ms, _p) in self.timers.items()
                     if due_ms <= bound_ms)
        return [ClaimedTimer(tid, due_ms / 1000, self.timers[tid][2], "t", self.timers[tid][0])
                for due_ms, tid in due]

    # --- the scripts' semantics -----------------------------------------------------------
    def _board(self, shop: _Shop) -> dict[str, AgentView]:
        return {a: AgentView(a, v.status, v.max_concurrent, len(shop.held.get(a, ())),
                             v.idle_since) for a, v in shop.agents.items()}

    def _apply_op(self, shop_id: str, op: Reservation, now_ms: int):
        shop = self.shop(shop_id)
        if isinstance(op, Presence):
            view = shop.agents.setdefault(op.agent, AgentView(op.agent, op.status, 0))
            if op.status == "online" and view.status != "online":
                view.idle_since = now_ms
            view.status, view.max_concurrent = op.status, op.max_concurrent
            if op.status == "online":
                return []
            return [HeldConversation(c, self._conv(shop_id, c).priority,
                                     self._conv(shop_id, c).opened, self._conv(shop_id, c).buyer)
                    for c in sorted(shop.held.get(op.agent, ()))]
        conv = self._conv(shop_id, op.conv)
        if isinstance(op, Release):
            freed = conv.agent
            shop.held.get(freed, set()).discard(op.conv)
            shop.queue.pop(op.conv, None)
            conv.agent, conv.reason, conv.assignment_cause = "", "", op.cause
            return freed
        return self._assign(shop_id, shop, conv, op, now_ms)

    def _assign(self, shop_id: str, shop: _Shop, conv: ConvState, op: Assign, now_ms: int):
        if conv.assignment_cause == op.cause:
            return Decided("replay", conv.agent, conv.reason, conv.at)
        expect = op.expect
        if ((expect == "free" and conv.agent) or (expect == "queued" and op.conv not in shop.queue)
                or (expect.startswith("=") and conv.agent != expect[1:])):
            if expect.startswith("="):
                shop.held.get(expect[1:], set()).discard(op.conv)
            return Decided("stale", conv.agent, conv.reason, conv.at)
        if op.target:
            view, held = shop.agents.get(op.target), shop.held.setdefault(op.target, set())
            if view is None or view.status != "online" or (
                    op.conv not in held and len(held) >= view.max_concurrent):
                return Decided("full", "", "", 0)
            held.add(op.conv)
            view.idle_since = now_ms
            shop.queue.pop(op.conv, None)
            if conv.buyer or op.buyer:
                shop.stickies[op.buyer or conv.buyer] = Sticky(op.target, now_ms)
        else:
            shop.queue[op.conv] = op.score
        if conv.agent and conv.agent != op.target:
            shop.held.get(conv.agent, set()).discard(op.conv)
        conv.agent, conv.reason = op.target, op.reason
        conv.assignment_cause, conv.at = op.cause, now_ms
        conv.buyer = op.buyer or conv.buyer
        shop.causes.setdefault(op.cause, set()).add(op.conv)
        return Decided("ok", op.target, op.reason, now_ms)


def _not_rescheduled(stored, claimed) -> bool:
    """An acked timer goes unless it was scheduled again (for its next milestone)."""
    return stored is not None and stored[1] == round(claimed.due_at * 1000) \
        and stored[2] == claimed.payload
