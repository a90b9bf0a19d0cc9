"""The shared SLA timer engine, done the BullMQ way.

Timers live in Redis (`TimerStore`): due timers are moved atomically (Lua) into an
in-flight set with a lease and an owner token, the service fires them (publishes the
escalations and waits for the broker acks), and only then acks them; a reaper returns
expired leases so a replica killed mid-fire loses nothing. `TimerRunner` is the loop
that does reap -> claim -> fire -> ack. Firing is at-least-once and always carries the
same `timer_id`, so the escalation id derived from it deduplicates the repeats.
"""

from services.core.timers.keys import TimerKeys, shard_of, to_epoch_ms
from services.core.timers.model import ClaimBatch, ClaimedTimer, TimerSpec
from services.core.timers.runner import TRANSIENT_REDIS_ERRORS, FireFn, TimerRunner
from services.core.timers.store import TimerStore

__all__ = [
    "TRANSIENT_REDIS_ERRORS",
    "ClaimBatch",
    "ClaimedTimer",
    "FireFn",
    "TimerKeys",
    "TimerRunner",
    "TimerSpec",
    "TimerStore",
    "shard_of",
    "to_epoch_ms",
]
