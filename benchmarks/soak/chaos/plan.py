"""The fault plan of a chaos run (pure): which fault, on what, when, for how long.

Faults come one at a time from a seeded RNG, so one seed gives one plan. A fault owns
a window (its duration plus the time a killed replica needs to be ready again) and the
next one starts after that window and a gap: at most one replica of a service is ever
down (each runs two), and a Redis fault never meets another fault, but for the replica
each write refusal SIGKILLs halfway through it (restarted once Redis takes writes
again): a replica dying while its writes are refused must leave nothing half done.
(Plans drawn before 2026-12-06 had no such kill; a seed gives another plan since.)
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from typing import Any

KILL, STOP = "kill", "stop"
REDIS_RESTART, REDIS_REFUSE_WRITES = "redis_restart", "redis_refuse_writes"
BROKER_RESTART = "broker_restart"
WEIGHTS = {KILL: 3, STOP: 3, REDIS_RESTART: 1, REDIS_REFUSE_WRITES: 1}
SECONDS = {KILL: (1.0, 8.0), STOP: (3.0, 20.0), REDIS_RESTART: (1.0, 5.0),
           REDIS_REFUSE_WRITES: (3.0, 15.0)}
"""Per kind, the range of its duration: the wait before a killed replica is restarted,
the SIGSTOP, Redis down, Redis refusing writes."""
READY_ALLOWANCE = 10.0
"""Seconds a restarted replica is expected to take to be ready, counted in its fault's
window (the runner waits for it to be ready anyway before the next fault)."""
GAP = (3.0, 10.0)
FIRST_AT = 10.0
BROKER_SKIP_REASON = ("the embedded broker (Tansu) keeps its log in memory: a restart "
                      "would lose every topic and offset, which no real deployment does")


@dataclass(frozen=True)
class Fault:
    at: float  # seconds into the run
    kind: str
    target: str  # a replica (`router`, `router-2`), `redis` or `broker`
    seconds: float
    also_kill: str | None = None
    """A write refusal's replica, SIGKILLed halfway through it."""

    @property
    def window(self) -> float:
        """How long the fault may keep its target down, recovery included."""
        return self.seconds + (READY_ALLOWANCE if self.kind == KILL or self.also_kill else 0.0)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def plan_faults(seed: int, seconds: float, replicas: list[str]) -> list[Fault]:
    """Faults for a run of `seconds`, on the `replicas` (names like `router-2`). One
    broker restart is placed too: the runner logs it as skipped."""
    rng = random.Random(seed)
    kinds = list(WEIGHTS)
    plan, at = [], FIRST_AT
    while True:
        kind = rng.choices(kinds, weights=[WEIGHTS[k] for k in kinds])[0]
        target = rng.choice(replicas) if kind in (KILL, STOP) else "redis"
        fault = Fault(round(at, 1), kind, target, round(rng.uniform(*SECONDS[kind]), 1),
                      rng.choice(replicas) if kind == REDIS_REFUSE_WRITES else None)
        if fault.at + fault.seconds > seconds:
            break
        plan.append(fault)
        at = fault.at + fault.window + rng.uniform(*GAP)
    broker_at = round(rng.uniform(FIRST_AT, max(FIRST_AT, seconds - FIRST_AT)), 1)
    plan.append(Fault(broker_at, BROKER_RESTART, "broker", 0.0))
    return sorted(plan, key=lambda f: f.at)


def service_of(replica: str) -> str:
    """`router-2` -> `router`."""
    name, _, number = replica.rpartition("-")
    return name if name and number.isdigit() else replica


def most_down_at_once(plan: list[Fault]) -> dict[str, int]:
    """Per service, the most of its replicas whose fault windows overlap."""
    windows = [(f.at, f.at + f.window, service_of(f.target)) for f in plan
               if f.kind in (KILL, STOP)]
    windows += [(f.at + f.seconds / 2, f.at + f.window, service_of(f.also_kill)) for f in plan
                if f.also_kill]
    most: dict[str, int] = {}
    for start, _, service in windows:
        down = sum(1 for s, e, svc in windows if svc == service and s <= start < e)
        most[service] = max(most.get(service, 0), down)
    return most
