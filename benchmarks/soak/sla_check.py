"""Every escalation of the soak checked against what its traffic did (pure, no I/O).

The soak's policy counts business time around the clock, so a response clock of a
conversation is plain arithmetic: it starts at the first buyer message of a round
(`occurred_at`), with the budget of the role the router chose and of `first_response`
(nothing answered yet in the session) or `next_response`; an agent reply or a close
stops it. Independently of kefu's code:

- a buyer message that the router sends to the other role hands the conversation over:
  the old role's round ends there (like a close), and a new session begins in the new
  role with that message (`first_response`);
- a warning or breach whose milestone came after a stop of its round is **false**;
- a round not stopped by its deadline (before `horizon`) owes exactly one `breached`
  level-2 escalation: **missing** if none came, **repeated** if several ids came;
- `retracted` and `resolved` corrections are counted.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

MILESTONE_SHARE = {("warning", 1): "warn_at", ("breached", 2): 1.0, ("breached", 3): "level3"}
STOPS = ("agent.message", "conversation.closed")


@dataclass
class _Conv:
    events: list[tuple[datetime, str, str]] = field(default_factory=list)  # at, type, id


@dataclass
class SlaPolicy:
    budgets: dict[tuple[str, str], timedelta]  # (role, sla) -> budget
    warn_at: float
    level3_after: float

    def share(self, state: str, level: int) -> float:
        share = MILESTONE_SHARE[(state, level)]
        return {"warn_at": self.warn_at, "level3": self.level3_after}.get(share, share)


class SlaCheck:
    def __init__(self, policy: SlaPolicy) -> None:
        self.policy = policy
        self.convs: dict[str, _Conv] = defaultdict(_Conv)
        self.roles: dict[str, str] = {}  # event id -> role topic's role
        self.seen: dict[tuple[str, str, str, int], set[str]] = defaultdict(set)
        self.false: list[dict[str, Any]] = []
        self.unexplained: list[dict[str, Any]] = []
        self.corrections: dict[str, int] = defaultdict(int)
        self.shops: dict[str, str | None] = {}  # conversation -> shop

    def sent(self, event: dict[str, Any]) -> None:
        kind = event["event_type"]
        if kind == "buyer.message" or kind in STOPS:
            conv = event["payload"]["conversation_id"]
            self.shops[conv] = event.get("shop_id")
            at = datetime.fromisoformat(event["occurred_at"])
            self.convs[conv].events.append((at, kind, event["event_id"]))

    def routed(self, event_id: str, role: str) -> None:
        self.roles.setdefault(event_id, role)

    def observe(self, body: dict[str, Any]) -> None:
        subject, state = body.get("subject") or {}, body.get("state")
        if subject.get("kind") != "conversation" or body.get("sla") not in (
                "first_response", "next_response"):
            return
        if state in ("retracted", "resolved"):
            self.corrections[state] += 1
            return
        if state not in ("warning", "breached"):
            return
        conv, level = subject["id"], body["level"]
        deadline = datetime.fromisoformat(body["deadline"])
        self.seen[(conv, body["sla"], body["deadline"], level)].add(body["escalation_id"])
        budget = self.policy.budgets.get((body["role"], body["sla"]))
        track = self.convs.get(conv)
        if budget is None or track is None:
            return
        start = deadline - budget
        if not any(at == start and kind == "buyer.message" for at, kind, _ in track.events):
            self.unexplained.append(body)
            return
        milestone = start + budget * self.policy.share(state, level)
        if any((kind in STOPS or self._handed_off(kind, event_id, body["role"]))
               and start <= at < milestone for at, kind, event_id in track.events):
            self.false.append(body)

    def _handed_off(self, kind: str, event_id: str, role: str) -> bool:
        """A buyer message the router sent to another role than `role`."""
        routed_to = self.roles.get(event_id) if kind == "buyer.message" else None
        return routed_to is not None and routed_to != role

    def why_false(self, body: dict[str, Any]) -> str:
        """A false escalation and the stops of its conversation, with the role topic
        the soak saw each on (`?`: never seen routed)."""
        conv = body["subject"]["id"]
        stops = "; ".join(f"{kind} {eid} at {at.isoformat()} -> {self.roles.get(eid, '?')}"
                          for at, kind, eid in sorted(self.convs[conv].events))
        return (f"{body['escalation_id']} {body['role']} {conv} {body['sla']} "
                f"{body['state']}/L{body['level']} deadline {body['deadline']} fired "
                f"{body.get('fired_at')}; events: {stops}")

    def owed_breaches(self, horizon: datetime) -> dict[tuple[str, str, str], datetime]:
        """(conversation, sla, deadline text) -> deadline of every round that ran into
        its deadline before `horizon`."""
        owed = {}
        for conv, track in self.convs.items():
            start = sla = role = current = None
            answered = False
            for at, kind, event_id in sorted(track.events, key=lambda e: e[0]):
                routed_to = self.roles.get(event_id) if kind == "buyer.message" else None
                if routed_to is not None and current is not None and routed_to != current:
                    # handed over: the old role's round ends here, a new session begins
                    if start is not None and role is not None:
                        deadline = start + self.policy.budgets[(role, sla)]
                        if at >= deadline and deadline < horizon:
                            owed[(conv, sla, deadline)] = deadline
                    start, answered = None, False
                current = routed_to or current
                if kind == "buyer.message":
                    if start is None:
                        start, role = at, routed_to
                        sla = "next_response" if answered else "first_response"
                    continue
                if start is not None and role is not None:
                    deadline = start + self.policy.budgets[(role, sla)]
                    if at >= deadline and deadline < horizon:
                        owed[(conv, sla, deadline)] = deadline
                start = None
                answered = kind == "agent.message"  # a close ends the session
            if start is not None and role is not None:
                deadline = start + self.policy.budgets[(role, sla)]
                if deadline < horizon:
                    owed[(conv, sla, deadline)] = deadline
        return owed

    def missing(self, horizon: datetime) -> list[tuple[str, str, datetime]]:
        """The owed breaches (before `horizon`) not published yet. The drain waits for
        them: one due a moment before sending ended fires only once its service has read
        past it plus the grace, and under chaos that can take many seconds."""
        published = self._published()
        return [k for k in self.owed_breaches(horizon) if k not in published]

    def _published(self) -> dict[tuple[str, str, datetime], set[str]]:
        return {(c, s, datetime.fromisoformat(d)): ids
                for (c, s, d, level), ids in self.seen.items() if level == 2}

    def summary(self, horizon: datetime) -> dict[str, Any]:
        owed = self.owed_breaches(horizon)
        published = self._published()
        missing = [k for k in owed if k not in published]
        repeated = sum(len(ids) - 1 for k, ids in published.items() if k in owed)
        return {"false": len(self.false), "false_sample": [e["escalation_id"]
                                                           for e in self.false[:5]],
                "false_detail": [self.why_false(e) for e in self.false[:5]],
                "owed_breaches": len(owed), "missing_breaches": len(missing),
                "missing_sample": [f"{c} {s} {d.isoformat()}" for c, s, d in missing[:5]],
                "repeated_breach_ids": repeated, "unexplained": len(self.unexplained),
                "retracted": self.corrections["retracted"],
                "resolved": self.corrections["resolved"]}


ROUND_THE_CLOCK = """shops:
  default:
    business_hours: {mon-sun: [["00:00", "24:00"]]}
    notify: {quiet_hours: []}
"""
"""The soak's policy when none is given: the built-in SLAs, business time around the
clock (so the check above needs no calendar)."""


def sla_policy_of(path) -> SlaPolicy | None:
    """The check's policy from a policy file (the built-in defaults when None); None
    when its shops do not count business time around the clock."""
    from services.core.policy import load_policy

    shop = load_policy(path).default
    if any(hours != ((0, 1440),) for hours in shop.calendar.weekly) or shop.holidays:
        return None
    budgets = {(role, sla): getattr(getattr(shop.sla, role), sla)
               for role in ("presale", "aftersale") for sla in ("first_response",
                                                                "next_response")}
    return SlaPolicy(budgets, shop.warn_at, shop.level3_after)
