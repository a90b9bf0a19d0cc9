"""Order and case clocks of one batch (pure): the role's rules turn an event from
`kefu.orders` into commands; this carries them out on the batch's clock states.

- `Start` starts a clock, or moves a running one to a new deadline: the old deadline
  ends at the event's time (as a stop would end it) and the new one is a new cause.
  The same deadline again (a redelivery, a repeated delay) changes nothing.
- `Stop` ends a clock at the event's time (its corrections are published); a clock that
  never started is remembered as stopped, so a late start does not run it.
- `Raise` escalates at once.
"""

from __future__ import annotations

from datetime import UTC
from typing import TYPE_CHECKING

from services.roles.clock_state import ClockState, stop, to_us
from services.roles.clocks import calendar_due_times
from services.roles.escalation import Subjects, timer_id
from services.roles.rules import Raise, Start, Stop, record_of

if TYPE_CHECKING:
    from services.roles.decider import Decider


def subject_clocks(decider: Decider, who: Subjects) -> dict[str, ClockState]:
    """The subject's clocks by SLA, as this batch changes them (written after ack)."""
    key = (who.shop, who.kind, who.subject_id)
    clocks = decider.changes.clocks.get(key)
    if clocks is None:
        clocks = decider.changes.clocks[key] = dict(decider.snapshot.clocks.get(key, {}))
        for sla, clock in clocks.items():
            tid = timer_id(who.shop, decider.role, who.kind, who.subject_id, sla)
            decider.had_timer.setdefault(tid, clock.running)
    return clocks


def on_order_event(decider: Decider, event, shard: str) -> None:
    shop, policy = event.shop_id, decider.policy_for(event.shop_id)

    def view(kind, subject_id, sla):
        who = Subjects(shop, decider.role, kind.value, subject_id)
        return record_of(subject_clocks(decider, who).get(sla.value))

    at_us = to_us(event.occurred_at)
    for cmd in decider.rules(event, view, policy):
        who = Subjects(shop, decider.role, cmd.kind.value, cmd.subject_id)
        if isinstance(cmd, Raise):
            decider.raise_now(who, cmd.sla, cmd.cause, event.trace_id)
            continue
        clocks, sla = subject_clocks(decider, who), cmd.sla.value
        decider.changes.shards[(shop, who.kind, who.subject_id)] = shard
        old = clocks.get(sla)
        if isinstance(cmd, Start):
            cause = f"{cmd.subject_id}@{cmd.deadline.astimezone(UTC).isoformat()}"
            if old is not None and old.running and old.cause == cause:
                continue
            if old is not None and old.running:
                decider.notices(who, old, stop(old, at_us), event.occurred_at)
            due = calendar_due_times(cmd.start, cmd.deadline, policy.warn_at,
                                     policy.level3_after)
            clocks[sla] = ClockState(sla, cause, to_us(cmd.start), due, shard,
                                     trace=event.trace_id or "",
                                     action=str(cmd.extra.get("action", "")))
        elif isinstance(cmd, Stop):
            if old is None:
                clocks[sla] = ClockState(sla, "", 0, (0, 0, 0), shard, running=False)
                continue
            if not old.running:
                continue
            decider.notices(who, old, stop(old, at_us), event.occurred_at)
        decider.set_timer(who, sla, clocks[sla])
