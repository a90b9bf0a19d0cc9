"""What Redis holds, after the run, for each owed breach that was never published: the
conversation's stored state in each role (its response clock) and where its timer is
(waiting, in flight, or gone), with the shard's fence. It tells a clock that never
started from a timer that never fired, and a timer stuck in flight from one waiting."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

from services.core.redis import reply_text
from services.core.timers.keys import TimerKeys
from services.roles.clock_state import ClockState
from services.roles.escalation import RESPONSE_SLOT, timer_id
from services.roles.keys import RoleKeys

ROLES = ("presale", "aftersale")
CONVERSATION = "conversation"


async def _shards(redis: Redis, role: str) -> list[str]:
    """The names of a role's timer shards (its input partitions, `kefu.role.presale:3`)."""
    layout, names, cursor = TimerKeys(role), set(), 0
    while True:
        cursor, keys = await redis.scan(cursor, match=layout.scan_pattern(), count=1000)
        names.update(layout.shard_name(reply_text(k)) for k in keys)
        if cursor == 0:
            return sorted(names)


async def _timer(redis: Redis, role: str, shards: list[str], tid: str) -> list[dict[str, Any]]:
    """Every shard that knows the timer, with its due score, lease and owner."""
    layout, pipe = TimerKeys(role), redis.pipeline(transaction=False)
    for shard in shards:
        keys = layout.named(shard)
        pipe.zscore(keys.due, tid)
        pipe.zscore(keys.inflight, tid)
        pipe.hget(keys.owner, tid)
        pipe.hexists(keys.data, tid)
        pipe.get(keys.fence)
    replies = await pipe.execute()
    found = []
    for i, shard in enumerate(shards):
        due, lease, owner, data, fence = replies[5 * i: 5 * i + 5]
        if due is not None or lease is not None or owner is not None or data:
            found.append({"shard": shard, "due_ms": due, "lease_ms": lease,
                          "owner": reply_text(owner), "payload": bool(data),
                          "fence": reply_text(fence)})
    return found


async def probe_missing(redis: Redis, missing: list[tuple[str, str, Any]],
                        shops: dict[str, str | None], most: int = 10) -> list[dict[str, Any]]:
    """One entry per missing breach (the first `most`)."""
    if not missing:
        return []
    shards = {role: await _shards(redis, role) for role in ROLES}
    out = []
    for conv, sla, deadline in missing[:most]:
        shop = shops.get(conv)
        entry: dict[str, Any] = {"conversation": conv, "sla": sla,
                                 "deadline": deadline.isoformat(), "shop": shop}
        if shop is not None:
            for role in ROLES:
                state = await redis.hgetall(RoleKeys(role).conv(shop, conv))
                tid = timer_id(shop, role, CONVERSATION, conv, RESPONSE_SLOT)
                entry[role] = {"conv": {reply_text(k): reply_text(v) for k, v in state.items()},
                               "timer": await _timer(redis, role, shards[role], tid)}
        out.append(entry)
    return out


def describe_probe(entry: dict[str, Any]) -> str:
    """One line for a missing breach: its stored clock and where its timer is."""
    head = f"{entry['conversation']} {entry['sla']} due {entry['deadline']}"
    if entry.get("shop") is None:
        return f"{head}: shop unknown"
    parts = []
    for role in ROLES:
        found = entry[role]
        stored = found["conv"].get("clock")
        if not stored and not found["timer"]:
            continue
        where = "; ".join(_where(t) for t in found["timer"]) or "no timer"
        parts.append(f"{role} {_clock(stored)}, {where}")
    return f"{head}: {'; '.join(parts) or 'nothing in Redis'}"


def _clock(stored: str | None) -> str:
    if not stored:
        return "no clock"
    try:
        clock = ClockState.decode(stored)
    except (ValueError, TypeError):
        return "an unreadable clock"
    state = "running" if clock.running else "stopped"
    return f"clock {clock.sla} {state}, milestones fired {clock.fired:#b}"


def _where(timer: dict[str, Any]) -> str:
    if timer["lease_ms"] is not None:
        return f"timer in flight in {timer['shard']} (lease to {int(timer['lease_ms'])} ms)"
    if timer["due_ms"] is not None:
        return f"timer waiting in {timer['shard']} (due {int(timer['due_ms'])} ms)"
    return f"only a timer payload in {timer['shard']}"
