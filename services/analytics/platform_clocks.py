"""Platform deadlines (pure): ship_by, order_change_confirmation, aftersale_response and
logistics_stalled, decided by the role services' own rules (`services/presale/rules.py`,
`services/aftersale/rules.py`) on the same events, so analytics and the role clocks agree.

Each clock instance becomes a row of `clocks`: a Start opens one (or moves the deadline of
the running one, keeping its start: `order.delayed`); a Start with a new start time (a new
scan, a new change awaiting the buyer) stops the running instance at that moment and opens
the next; a Stop stops it. An event at or after a deadline that then moves marks the
instance `missed`: that deadline did pass."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from contracts import EventType, SubjectKind
from services.aftersale.rules import aftersale_rules
from services.analytics.facts import Row
from services.analytics.memo import Seen
from services.analytics.timefmt import ch_time, from_ms, to_ms
from services.core.policy import ShopPolicy
from services.presale.rules import presale_rules
from services.roles.rules import STOPPED, ClockRecord, Start, Stop

RULES = (("presale", presale_rules), ("aftersale", aftersale_rules))
CASE_EVENTS = (EventType.AFTERSALE_REQUESTED, EventType.AFTERSALE_UPDATED)


@dataclass(slots=True)
class SubjectMemo:
    """The clocks of one order or case: per SLA, the running or last instance."""

    seen: Seen = field(default_factory=Seen)
    clocks: dict[str, dict[str, Any]] = field(default_factory=dict)
    items: list[str] = field(default_factory=list)  # an order's products

    def to_json(self) -> dict[str, Any]:
        return {"seen": self.seen.recent, "clocks": self.clocks, "items": self.items}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SubjectMemo:
        return cls(Seen(list(data.get("seen", []))), dict(data.get("clocks", {})),
                   list(data.get("items", [])))

    def view(self, sla: str) -> ClockRecord | None:
        clock = self.clocks.get(sla)
        if clock is None:
            return None
        if not clock["running"]:
            return STOPPED
        return ClockRecord(True, from_ms(clock["start_ms"]), from_ms(clock["deadline_ms"]))


def subject_of(event) -> tuple[SubjectKind, str]:
    """The order or case whose clocks an event of kefu.orders may change."""
    if event.event_type in CASE_EVENTS:
        return SubjectKind.CASE, event.payload.case_id
    return SubjectKind.ORDER, event.payload.order_id


def apply_order_event(memo: SubjectMemo, event, policy: ShopPolicy) -> list[Row]:
    """Apply an event of kefu.orders to its subject's clocks; the clock rows it changed."""
    kind, subject = subject_of(event)
    rows: dict[str, Row] = {}
    for role, rules in RULES:
        commands = rules(event, lambda _k, _s, sla: memo.view(sla.value), policy)
        for cmd in commands:
            if isinstance(cmd, Start | Stop) and (cmd.kind, cmd.subject_id) == (kind, subject):
                for row in _apply(memo, cmd, role, event):
                    rows[row["clock_id"]] = row
    return list(rows.values())


def _apply(memo: SubjectMemo, cmd: Start | Stop, role: str, event) -> list[Row]:
    sla, at_ms = cmd.sla.value, to_ms(event.occurred_at)
    clock = memo.clocks.get(sla)
    running = clock is not None and clock["running"]
    if isinstance(cmd, Stop):
        if not running:
            memo.clocks[sla] = {"running": False}
            return []
        return [_row(event, _stopped(clock, at_ms))]
    start_ms, deadline_ms = to_ms(cmd.start), to_ms(cmd.deadline)
    if running and clock["start_ms"] == start_ms:  # the deadline moved (order.delayed)
        clock.update(missed=clock["missed"] or int(at_ms >= clock["deadline_ms"]),
                     deadline_ms=deadline_ms, version=clock["version"] + 1)
        return [_row(event, clock)]
    rows = [_row(event, _stopped(clock, at_ms))] if running else []
    memo.clocks[sla] = {
        "running": True, "sla": sla, "kind": cmd.kind.value, "subject": cmd.subject_id,
        "role": role, "start_ms": start_ms, "deadline_ms": deadline_ms, "missed": 0,
        "stopped_ms": None, "version": 1,
    }
    return [*rows, _row(event, memo.clocks[sla])]


def _stopped(clock: dict[str, Any], at_ms: int) -> dict[str, Any]:
    clock.update(running=False, stopped_ms=at_ms, version=clock["version"] + 1)
    return clock


def _row(event, clock: dict[str, Any]) -> Row:
    stopped = clock["stopped_ms"]
    return {
        "shop_id": event.shop_id,
        "started_at": ch_time(from_ms(clock["start_ms"])),
        "clock_id": f"{clock['sla']}:{clock['kind']}:{clock['subject']}:{clock['start_ms']}",
        "sla": clock["sla"],
        "subject_kind": clock["kind"],
        "subject_id": clock["subject"],
        "role": clock["role"],
        "deadline": ch_time(from_ms(clock["deadline_ms"])),
        "stopped_at": None if stopped is None else ch_time(from_ms(stopped)),
        "missed": clock["missed"],
        "version": clock["version"],
    }
