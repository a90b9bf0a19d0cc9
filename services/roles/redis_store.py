"""The role store on Redis: a batch's reads in one pipelined round trip, its capacity
reservations in one script call per shop (one round trip), its changes in two (timers,
then state), whatever the batch's size. Layout in `keys.py`, scripts in `scripts.py`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from redis.asyncio import Redis

from services.core.redis_batch import RedisBatch
from services.core.timers.partitioned import PartitionTimers
from services.roles import scripts
from services.roles.assignment import AgentView, Sticky, queue_score
from services.roles.board import Queued, ShopBoard
from services.roles.clock_state import ClockState
from services.roles.conversation import ConvState
from services.roles.keys import CAUSE_TTL_SECONDS, CONV_FIELDS, RoleKeys
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


def text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode() if isinstance(value, bytes) else str(value)


def agents_of(flat: list) -> dict[str, AgentView]:
    """BOARD's agents: [id, status, max, idle, load]..."""
    return {text(flat[i]): AgentView(text(flat[i]), text(flat[i + 1]), int(flat[i + 2]),
                                     int(flat[i + 4]), int(flat[i + 3]))
            for i in range(0, len(flat), 5)}


class RedisRoleStore:
    def __init__(self, redis: Redis, keys: RoleKeys, timers: PartitionTimers, *,
                 key_ttl_ms: int, dedup_ttl_s: int, sticky_ttl_ms: Callable[[str], int]) -> None:
        self.redis, self.keys, self.timers = redis, keys, timers
        self.key_ttl_ms, self.dedup_ttl_s, self.sticky_ttl_ms = key_ttl_ms, dedup_ttl_s, \
            sticky_ttl_ms
        self._board = redis.register_script(scripts.BOARD)
        self._reserve = redis.register_script(scripts.RESERVE)

    # --- load ---------------------------------------------------------------------------
    async def load(self, request: LoadRequest) -> Snapshot:
        batch, keys = RedisBatch(self.redis), self.keys
        seen: dict[str, list[str]] = defaultdict(list)
        for shop, event_id in request.seen:
            seen[shop].append(event_id)
        seen_at = {shop: batch.command("MGET", *(keys.seen(shop, e) for e in ids))
                   for shop, ids in seen.items()}
        convs = list(request.convs)
        conv_at = [batch.command("HMGET", keys.conv(shop, c), *CONV_FIELDS) for shop, c in convs]
        subjects = list(request.subjects)
        subject_at = [batch.command("HGETALL", keys.clock(*s)) for s in subjects]
        board_at = {}
        for shop, wanted in request.boards.items():
            buyers, causes = sorted(wanted.buyers), sorted(wanted.causes)
            board_at[shop] = batch.script(
                self._board, [keys.agents(shop)],
                [keys.prefix(shop), wanted.extra, len(buyers), *buyers, len(causes), *causes])
        replies = await batch.execute()
        snap = Snapshot()
        for shop, ids in seen.items():
            snap.seen |= {(shop, e) for e, hit in zip(ids, replies[seen_at[shop]], strict=True)
                          if hit is not None}
        for (shop, conv_id), at in zip(convs, conv_at, strict=True):
            snap.convs[(shop, conv_id)] = _conv(conv_id, replies[at])
        for key, at in zip(subjects, subject_at, strict=True):
            snap.clocks[key] = {text(sla): ClockState.decode(raw)
                                for sla, raw in replies[at].items()}
        for shop, at in board_at.items():
            snap.boards[shop], decisions = _board(replies[at])
            for cause, found in decisions.items():
                snap.decisions[(shop, cause)] = found
        return snap

    # --- reserve ------------------------------------------------------------------------
    async def reserve(self, reservations: dict[str, list[Reservation]],
                      now_ms: int) -> dict[str, ShopResult]:
        batch, shops = RedisBatch(self.redis), list(reservations)
        for shop in shops:
            args = [self.keys.prefix(shop), now_ms, self.key_ttl_ms, CAUSE_TTL_SECONDS,
                    self.sticky_ttl_ms(shop)]
            for op in reservations[shop]:
                args += _packed(op)
            batch.script(self._reserve, [self.keys.agents(shop)], args)
        replies = await batch.execute()
        return {shop: _result(reservations[shop], reply)
                for shop, reply in zip(shops, replies, strict=True)}

    # --- apply --------------------------------------------------------------------------
    async def apply(self, changes: Changes) -> None:
        await self.timers.run(self._timer_calls(changes))
        batch, keys, ttl = RedisBatch(self.redis), self.keys, self.key_ttl_ms
        for (shop, conv_id), conv in changes.convs.items():
            key = keys.conv(shop, conv_id)
            clock = conv.clock.encode() if conv.clock is not None else b""
            batch.command("HSET", key, "buyer", conv.buyer, "priority", conv.priority,
                          "opened", conv.opened, "answered", "1" if conv.answered else "",
                          "trace", conv.trace, "complained", conv.complained, "clock", clock)
            batch.command("PEXPIRE", key, ttl)
            if conv.queued:  # a more urgent message moves it up (never down)
                batch.command("ZADD", keys.queue(shop), "XX", "LT",
                              queue_score(conv.priority, conv.opened), conv_id)
        for (shop, kind, subject), clocks in changes.clocks.items():
            key = keys.clock(shop, kind, subject)
            batch.command("HSET", key, *(v for sla, c in clocks.items() for v in (sla, c.encode())))
            batch.command("PEXPIRE", key, ttl)
        for (shop, buyer), (agent, at_ms) in changes.served.items():
            batch.command("HSET", keys.buyer(shop, buyer), "agent", agent, "at", at_ms)
            batch.command("PEXPIRE", keys.buyer(shop, buyer), self.sticky_ttl_ms(shop))
        for shop, cause in changes.causes_done:
            batch.command("DEL", keys.cause(shop, cause))
        for shop, event_id in changes.seen:
            batch.command("SET", keys.seen(shop, event_id), 1, "EX", self.dedup_ttl_s)
        if len(batch):
            await batch.execute()

    def _timer_calls(self, changes: Changes) -> list:
        schedules: dict[str, list] = defaultdict(list)
        cancels: dict[str, list[str]] = defaultdict(list)
        for tid, write in changes.timers.items():
            if write.due_ms is None:
                cancels[write.shard].append(tid)
            else:
                schedules[write.shard].append((tid, write.due_ms, write.payload))
        acks: dict[str, list] = defaultdict(list)
        for claimed in changes.fired:
            acks[claimed.shard].append(claimed)
        return ([self.timers.schedule(s, t) for s, t in schedules.items()]
                + [self.timers.cancel(s, ids) for s, ids in cancels.items()]
                + [self.timers.ack(s, c) for s, c in acks.items()])


def _conv(conv_id: str, fields: list) -> ConvState:
    agent, reason, acause, at, buyer, priority, opened, answered, trace, complained = map(
        text, fields[:10])
    clock = fields[10]
    conv = ConvState(conv_id, buyer, agent, reason, acause, int(at) if at else 0)
    if priority:
        conv.priority = priority
    conv.opened = int(opened) if opened else 0
    conv.answered, conv.trace, conv.complained = answered == "1", trace, complained
    conv.clock = ClockState.decode(clock) if clock else None
    return conv


def _board(reply: list) -> tuple[ShopBoard, dict[str, list[Decision]]]:
    agents, queue, stickies, decisions = reply
    board = ShopBoard(agents_of(agents))
    for i in range(0, len(queue), 5):
        conv, score, buyer, agent, at = (text(v) for v in queue[i: i + 5])
        board.queue.append(Queued(int(float(score)), conv, buyer))
        if agent:
            board.stickies[buyer] = Sticky(agent, int(at or 0))
    for i in range(0, len(stickies), 3):
        buyer, agent, at = (text(v) for v in stickies[i: i + 3])
        board.stickies[buyer] = Sticky(agent, int(at or 0))
    found: dict[str, list[Decision]] = defaultdict(list)
    for i in range(0, len(decisions), 5):
        cause, conv, agent, reason, at = (text(v) for v in decisions[i: i + 5])
        found[cause].append(Decision(conv, agent, reason, int(at or 0)))
    return board, {c: sorted(d, key=lambda x: x.conv) for c, d in found.items()}


def _packed(op: Reservation) -> list:
    if isinstance(op, Assign):
        return ["A", op.conv, op.target, op.cause, op.reason, op.expect, op.score, op.buyer]
    if isinstance(op, Release):
        return ["R", op.conv, op.cause]
    return ["P", op.agent, op.status, op.max_concurrent]


def _result(ops: list[Reservation], reply: list) -> ShopResult:
    answers, agents = reply
    out = []
    for op, answer in zip(ops, answers, strict=True):
        if isinstance(op, Assign):
            status, agent, reason, at = (text(v) for v in answer)
            out.append(Decided(status, agent, reason, int(at) if at else 0))
        elif isinstance(op, Presence):
            out.append([HeldConversation(text(answer[i]), text(answer[i + 1]),
                                         int(text(answer[i + 2]) or 0), text(answer[i + 3]))
                        for i in range(0, len(answer), 4)])
        else:
            out.append(text(answer[0]))
    return ShopResult(out, agents_of(agents))
