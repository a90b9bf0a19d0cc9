"""The role store on Redis: each read of a batch in one pipelined round trip (`reads.py`
sends up to four), its capacity reservations in one script call per shop and round,
its changes in two (timers, then state) and a third for the acks of the timers it
fired, whatever the batch's size. Layout in `keys.py`, scripts in `scripts.py`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from services.core.redis_batch import RedisBatch
from services.core.retry import Fenced
from services.core.timers import ClaimedTimer
from services.core.timers.partitioned import PartitionTimers
from services.roles import scripts
from services.roles.assignment import AgentView, Sticky, queue_score
from services.roles.board import Queued, ShopBoard
from services.roles.clock_state import ClockState
from services.roles.conversation import ConvState
from services.roles.keys import CAUSE_TTL_SECONDS, RoleKeys
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

text = bytes.decode
"""The scripts answer strings as bytes (a missing value as b''), numbers as integers."""


def agents_of(flat: list) -> dict[str, AgentView]:
    """The scripts' board: [id, status, max, idle, load]..."""
    out = {}
    for i in range(0, len(flat), 5):
        agent = flat[i].decode()
        out[agent] = AgentView(agent, flat[i + 1].decode(), flat[i + 2], flat[i + 4],
                               flat[i + 3])
    return out


class RedisRoleStore:
    """Needs a client with `decode_responses=False` (the services' own): the scripts'
    answers are read as bytes."""

    def __init__(self, redis: Redis, keys: RoleKeys, timers: PartitionTimers, *,
                 key_ttl_ms: int, dedup_ttl_s: int, sticky_ttl_ms: Callable[[str], int]) -> None:
        self.redis, self.keys, self.timers = redis, keys, timers
        self.key_ttl_ms, self.dedup_ttl_s, self.sticky_ttl_ms = key_ttl_ms, dedup_ttl_s, \
            sticky_ttl_ms
        self._load = redis.register_script(scripts.LOAD)
        self._reserve = redis.register_script(scripts.RESERVE)
        self._write = redis.register_script(scripts.WRITE)

    # --- load ---------------------------------------------------------------------------
    async def load(self, request: LoadRequest) -> Snapshot:
        by_shop = _by_shop(request)
        batch = RedisBatch(self.redis)
        for shop, (ids, convs, subjects) in by_shop.items():
            board = request.boards.get(shop)
            buyers, causes = (sorted(board.buyers), sorted(board.causes)) if board else ([], [])
            batch.script(self._load, [self.keys.agents(shop)], [
                self.keys.prefix(shop), len(ids), *ids, len(convs), *convs,
                2 * len(subjects), *(part for subject in subjects for part in subject),
                len(buyers), *buyers, len(causes), *causes,
                board.extra if board else ""])
        snap = Snapshot()
        for (shop, (ids, convs, subjects)), reply in zip(by_shop.items(), await batch.execute(),
                                                         strict=True):
            seen, states, clocks, board = reply
            snap.seen |= {(shop, e) for e, hit in zip(ids, seen, strict=True) if hit}
            for n, conv_id in enumerate(convs):
                snap.convs[(shop, conv_id)] = _conv(conv_id, states[11 * n: 11 * n + 11])
            for (kind, subject), flat in zip(subjects, clocks, strict=True):
                snap.clocks[(shop, kind, subject)], acks = _subject_clocks(flat)
                if acks:
                    snap.acknowledge({(shop, kind, subject): acks})
            if board:
                snap.boards[shop], decisions = _board(board)
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
        """The timers' schedules and cancels, the state, then the acks of the timers this
        batch fired: a round trip each (`Changes.write_round_trips`). A claim is let go
        only once what its firing changed is written: Redis refusing writes (OOM) still
        runs a script that begins by deleting, such as an ack, while it refuses the
        schedule of the clock's next milestone and the clock's own write. A process that
        died then, its write refused, would have left a running clock without a timer."""
        await self.timers.run(self._timer_calls(changes))
        await self._write_state(changes)
        await self.timers.run([self.timers.ack(shard, claimed)
                               for shard, claimed in _by_shard(changes.fired).items()])

    async def _write_state(self, changes: Changes) -> None:
        writes: dict[str, _ShopWrite] = defaultdict(_ShopWrite)
        for (shop, conv_id), conv in changes.convs.items():
            clock = conv.clock.encode() if conv.clock is not None else b""
            queued = queue_score(conv.priority, conv.opened) if conv.queued else ""
            writes[shop].convs += [conv_id, self._fence(changes, (shop, conv_id)), conv.buyer,
                                   conv.priority, conv.opened, "1" if conv.answered else "",
                                   conv.trace, conv.complained, clock, queued]
        for key, clocks in changes.clocks.items():
            shop, kind, subject = key
            writes[shop].clocks += [kind, subject, self._fence(changes, key), len(clocks),
                                    *(v for sla, c in clocks.items() for v in (sla, c.encode()))]
            writes[shop].n_clocks += 1
        for (shop, buyer), (agent, at_ms) in changes.served.items():
            writes[shop].served += [buyer, agent, at_ms, self.sticky_ttl_ms(shop)]
        for shop, cause in changes.causes_done:
            writes[shop].causes.append(cause)
        for shop, event_id in changes.seen:
            writes[shop].seen.append(event_id)
        for (shop, kind, subject), causes in changes.acks.items():
            for sla, cause in causes.items():
                writes[shop].acks += [kind, subject, sla, cause]
        if not writes:
            return
        batch = RedisBatch(self.redis)
        for shop, w in writes.items():
            batch.script(self._write, [self.keys.agents(shop)], [
                self.keys.prefix(shop), self.key_ttl_ms, self.dedup_ttl_s,
                len(w.convs) // 10, *w.convs, w.n_clocks, *w.clocks, len(w.served) // 4,
                *w.served, len(w.causes), *w.causes, len(w.seen), *w.seen,
                len(w.acks) // 4, *w.acks])
        try:
            await batch.execute()
        except ResponseError as exc:
            if str(exc).startswith("FENCED"):
                raise Fenced(str(exc)) from None
            raise

    def _fence(self, changes: Changes, key) -> str:
        """"<shard>|<generation>" of the partition a change was decided from ('' none)."""
        shard = changes.shards.get(key)
        generation = self.timers.generation(shard) if shard else ""
        return f"{shard}|{generation}" if generation != "" else ""

    def _timer_calls(self, changes: Changes) -> list:
        schedules: dict[str, list] = defaultdict(list)
        cancels: dict[str, list[str]] = defaultdict(list)
        for tid, write in changes.timers.items():
            if write.due_ms is None:
                cancels[write.shard].append(tid)
            else:
                schedules[write.shard].append((tid, write.due_ms, write.payload))
        return ([self.timers.schedule(s, t) for s, t in schedules.items()]
                + [self.timers.cancel(s, ids) for s, ids in cancels.items()])


def _by_shard(claimed: list[ClaimedTimer]) -> dict[str, list[ClaimedTimer]]:
    shards: dict[str, list[ClaimedTimer]] = defaultdict(list)
    for timer in claimed:
        shards[timer.shard].append(timer)
    return shards


@dataclass(slots=True)
class _ShopWrite:
    """One shop's part of a batch's changes, flattened for the WRITE script."""

    convs: list = field(default_factory=list)
    clocks: list = field(default_factory=list)
    n_clocks: int = 0
    served: list = field(default_factory=list)
    causes: list = field(default_factory=list)
    seen: list = field(default_factory=list)
    acks: list = field(default_factory=list)


def _by_shop(request: LoadRequest) -> dict[str, tuple[list, list, list]]:
    """The request's event ids, conversations and subjects per shop."""
    out: dict[str, tuple[list, list, list]] = defaultdict(lambda: ([], [], []))
    for shop, event_id in request.seen:
        out[shop][0].append(event_id)
    for shop, conv in request.convs:
        out[shop][1].append(conv)
    for shop, kind, subject in request.subjects:
        out[shop][2].append((kind, subject))
    for shop in request.boards:
        out[shop]  # noqa: B018 (a shop with only a board to read)
    return out


ACK_FIELD = b"ack:"


def _subject_clocks(flat: list) -> tuple[dict[str, ClockState], dict[str, str]]:
    """A subject's clock hash: SLA -> clock, and the acknowledged causes (`ack:<sla>`);
    `fence` is the WRITE script's."""
    clocks, acks = {}, {}
    for j in range(0, len(flat), 2):
        name = flat[j]
        if name.startswith(ACK_FIELD):
            acks[text(name[len(ACK_FIELD):])] = text(flat[j + 1])
        elif name != b"fence":
            clocks[text(name)] = ClockState.decode(flat[j + 1])
    return clocks, acks


def _conv(conv_id: str, fields: list) -> ConvState:
    agent, reason, assignment_cause, at, buyer, priority, opened, answered, trace, complained = map(
        text, fields[:10])
    clock = fields[10]
    conv = ConvState(conv_id, buyer, agent, reason, assignment_cause, int(at) if at else 0)
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
    answers, agents = reply[0], reply[1] if len(reply) > 1 else None
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
    return ShopResult(out, agents_of(agents) if agents is not None else None)
