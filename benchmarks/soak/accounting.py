"""Lost/duplicate accounting (pure): event keys, expected output slots, the ledger."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any, NamedTuple

from benchmarks.soak.constants import ROLE_SLOT, ROLE_TOPICS
from contracts import topics
from contracts.topics import ROLE_EVENT_TYPES, role_topic


def event_key_of(event: dict[str, Any]) -> str:
    """The contract's Kafka key of an inbound event dict (contracts.event_key, no parsing)."""
    payload, kind = event["payload"], event["event_type"]
    if kind == "agent.status":
        return payload["agent_id"]
    if kind in ROLE_EVENT_TYPES:
        return payload["conversation_id"]
    if kind == "aftersale.updated":
        return payload.get("order_id") or payload["case_id"]
    return payload["order_id"]


def expected_slots(event: dict[str, Any]) -> tuple[str, ...]:
    """Where the router must put an event, once each: agent.status on each role topic it
    names, other conversation events on one role topic (either), the rest on kefu.orders."""
    kind = event["event_type"]
    if kind == "agent.status":
        return tuple(role_topic(role) for role in dict.fromkeys(event["payload"]["roles"]))
    if kind in ROLE_EVENT_TYPES:
        return (ROLE_SLOT,)
    return (topics.ORDERS,)


class Repeat(NamedTuple):
    """A second (or later) sighting of an output: when and where it came first and now."""

    output_id: str
    first_topic: str
    first_at: float
    topic: str
    at: float


class Ledger:
    """Every sent event's expected output slots and how often each was seen.

    An output of an event that was never sent by this run is `foreign` (other traffic)
    or, if it carries this run's id prefix, `unknown`; one on a topic the event does not
    belong to is `misrouted`; a second sighting of a slot is a duplicate. With
    `track_repeats` (chaos runs) every duplicate is kept as a `Repeat` with its times."""

    def __init__(self, prefix: str, *, track_repeats: bool = False) -> None:
        self.prefix = prefix
        self._events: dict[str, tuple[float, tuple[str, ...], list[int]]] = {}
        self.expected = self.outstanding = self.delivered = 0
        self.duplicates = self.misrouted = self.unknown = self.foreign = self.failed = 0
        self.track_repeats = track_repeats
        self._first: dict[tuple[str, int], tuple[str, float]] = {}
        self.repeats: list[Repeat] = []

    def sent(self, event_id: str, slots: tuple[str, ...], at: float) -> None:
        if event_id in self._events:
            raise ValueError(f"event_id sent twice: {event_id}")
        self._events[event_id] = (at, slots, [0] * len(slots))
        self.expected += len(slots)
        self.outstanding += len(slots)

    def send_failed(self, event_id: str) -> None:
        """The broker did not ack this send: it is not in Kafka, so kefu cannot lose it."""
        entry = self._events.pop(event_id, None)
        if entry is None:
            return
        _, slots, counts = entry
        self.failed += 1
        self.expected -= len(slots)
        self.outstanding -= sum(1 for c in counts if c == 0)
        self.delivered -= sum(1 for c in counts if c > 0)
        self.duplicates -= sum(c - 1 for c in counts if c > 1)

    def observe(self, event_id: str, topic: str, at: float) -> float | None:
        """Record an output; returns the latency (s) of a slot's first sighting, else None."""
        entry = self._events.get(event_id)
        if entry is None:
            if event_id.startswith(self.prefix):
                self.unknown += 1
            else:
                self.foreign += 1
            return None
        sent_at, slots, counts = entry
        if topic in slots:
            i = slots.index(topic)
        elif topic in ROLE_TOPICS and ROLE_SLOT in slots:
            i = slots.index(ROLE_SLOT)
        else:
            self.misrouted += 1
            return None
        counts[i] += 1
        if counts[i] > 1:
            self.duplicates += 1
            if self.track_repeats:
                self.repeats.append(Repeat(event_id, *self._first[(event_id, i)], topic, at))
            return None
        if self.track_repeats:
            self._first[(event_id, i)] = (topic, at)
        self.outstanding -= 1
        self.delivered += 1
        return at - sent_at

    def missing(self, limit: int = 10) -> tuple[int, list[str]]:
        """(events with at least one unseen slot, up to `limit` of their ids)."""
        ids = [eid for eid, (_, _, counts) in self._events.items() if 0 in counts]
        return len(ids), ids[:limit]

    def summary(self) -> dict[str, Any]:
        lost_events, sample = self.missing()
        return {"events": len(self._events), "expected_outputs": self.expected,
                "delivered_outputs": self.delivered, "lost_outputs": self.outstanding,
                "lost_events": lost_events, "lost_sample": sample,
                "duplicated_outputs": self.duplicates, "misrouted": self.misrouted,
                "unknown": self.unknown, "foreign": self.foreign, "send_failures": self.failed}


class EscalationLog:
    """Escalations about this run's subjects: counts by state/level, duplicate ids, and
    the lateness (fired_at - deadline) of breached level-2 escalations."""

    def __init__(self, marker: str) -> None:
        self.marker = marker
        self.ids: set[str] = set()
        self.by_kind: Counter[str] = Counter()
        self.by_sla: Counter[str] = Counter()
        self.duplicates = 0
        self.lateness: list[float] = []

    def observe(self, body: dict[str, Any]) -> float | None:
        subject = (body.get("subject") or {}).get("id", "")
        if self.marker not in subject:
            return None
        eid = body.get("escalation_id")
        if eid in self.ids:
            self.duplicates += 1
            return None
        self.ids.add(eid)
        state, level = body.get("state"), body.get("level")
        self.by_kind[f"{state}/L{level}"] += 1
        self.by_sla[str(body.get("sla"))] += 1
        if state == "breached" and level == 2 and body.get("deadline"):
            late = (datetime.fromisoformat(body["fired_at"])
                    - datetime.fromisoformat(body["deadline"])).total_seconds()
            self.lateness.append(late)
            return late
        return None
