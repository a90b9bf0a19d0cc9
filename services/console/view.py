"""What the templates show, worked out from a board (pure)."""

from __future__ import annotations

from services.console.live.hub import due_s, since_s

ACTIONABLE = frozenset({"warning", "breached", "raised"})


def movable_to(board: dict, role: str, holder: str | None) -> list[str]:
    """Agents a conversation of `role` may be reassigned to: online there with room."""
    out = []
    for agent in board["agents"]:
        mine = agent.get("by_role", {}).get(role)
        if mine and mine["status"] == "online" and mine["load"] < mine["capacity"] \
                and agent["agent_id"] != holder:
            out.append(agent["agent_id"])
    return out


def near_rows(board: dict) -> list[dict]:
    return [{**row, "due_s": due_s(board, row),
             "movable": movable_to(board, row["role"], row["agent_id"])}
            for row in board["near_breach"]]


def queue_rows(board: dict) -> list[dict]:
    return [{"role": role, "waiting": q["waiting"], "since": since_s(board, q)}
            for role, q in board["queues"].items()]


def may_acknowledge(escalation: dict) -> bool:
    return escalation["state"] in ACTIONABLE and not escalation.get("acknowledged_by")
