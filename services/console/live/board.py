"""One shop's live board (pure): queues, agents, conversations nearest their deadline
with the business time left, the escalation feed and the last hour's dead letters. The
same dict is `GET /api/v1/live` and what the page's panels are rendered from."""

from __future__ import annotations

from datetime import datetime

from services.console.live.reader import AgentRow, ShopRead
from services.core.business_hours import BusinessCalendar
from services.roles.clock_state import from_us

NEAR_BREACH_SHOWN = 20
_STATUS_RANK = {"online": 2, "away": 1}


def assemble(shop: str, read: ShopRead, calendar: BusinessCalendar, now: datetime) -> dict:
    return {
        "shop_id": shop,
        "as_of": now.isoformat(),
        "queues": {role: _queue(board.waiting, board.queued_at_ms, now)
                   for role, board in read.boards.items()},
        "agents": _agents([a for board in read.boards.values() for a in board.agents]),
        "near_breach": _near_breach(read, calendar, now),
        "escalations": [{**e, "acknowledged_by": (read.acks.get(e["escalation_id"]) or {})
                         .get("by")} for e in read.escalations],
        "dead_letters": [{**letter, "failed_at": datetime.fromisoformat(letter["failed_at"])
                          .astimezone(calendar.tz).isoformat()} for letter in read.letters],
    }


def _queue(waiting: int, queued_at_ms: list[int], now: datetime) -> dict:
    oldest = min(queued_at_ms, default=None)
    wait = None if oldest is None else max(0.0, round(now.timestamp() - oldest / 1000, 1))
    return {"waiting": waiting, "oldest_wait_s": wait}


def _agents(rows: list[AgentRow]) -> list[dict]:
    """One row per agent: the roles they serve, their best status, load and capacity
    summed over the roles where they are online (each role service counts its own), and
    each role's own figures in `by_role`."""
    merged: dict[str, dict] = {}
    for row in rows:
        agent = merged.setdefault(row.agent_id, {"agent_id": row.agent_id, "roles": [],
                                                 "status": row.status, "load": 0,
                                                 "capacity": 0, "by_role": {}})
        agent["roles"].extend(row.roles)
        for role in row.roles:
            agent["by_role"][role] = {"status": row.status, "load": row.load,
                                      "capacity": row.capacity}
        if _STATUS_RANK.get(row.status, 0) > _STATUS_RANK.get(agent["status"], 0):
            agent["status"] = row.status
        agent["load"] += row.load
        agent["capacity"] += row.capacity if row.status == "online" else 0
    return sorted(merged.values(), key=lambda a: (-_STATUS_RANK.get(a["status"], 0),
                                                  a["agent_id"]))


def _near_breach(read: ShopRead, calendar: BusinessCalendar, now: datetime) -> list[dict]:
    counting = calendar.is_open(now)
    rows = []
    for role, board in read.boards.items():
        for conv, agent, clock in board.clocks:
            deadline = from_us(clock.deadline, calendar.tz)
            left = calendar.business_time_between(now, deadline).total_seconds()
            rows.append({"conversation_id": conv, "role": role, "sla": clock.sla,
                         "deadline": deadline.isoformat(), "remaining_s": round(left, 1),
                         "counting": counting, "agent_id": agent or None,
                         "acknowledged": clock.acked})
    rows.sort(key=lambda r: (r["remaining_s"], r["conversation_id"]))
    return rows[:NEAR_BREACH_SHOWN]
