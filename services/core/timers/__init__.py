"""The shared timer engine, done the BullMQ way.

Timers live in Redis: due timers are moved atomically (Lua) into an in-flight set with
a lease and an owner token, the service fires them (publishes the escalations or
delivers the notifications and waits for the broker acks), and only then acks them; an
expired lease returns them, so a replica killed mid-fire loses nothing. Firing is
at-least-once and a repeat carries the same derived ids, so consumers drop it.

- `TimerStore`: numbered shards any replica claims from (the notifier's outbox).
- `PartitionTimers`: one shard per input partition, fired by the partition's owner
  once its event-time watermark passed them (the role services' clocks).
"""

from services.core.timers.keys import TimerKeys, shard_of, to_epoch_ms
from services.core.timers.model import ClaimBatch, ClaimedTimer, TimerSpec
from services.core.timers.partitioned import PartitionTimers
from services.core.timers.store import TimerStore

__all__ = [
    "ClaimBatch",
    "ClaimedTimer",
    "PartitionTimers",
    "TimerKeys",
    "TimerSpec",
    "TimerStore",
    "shard_of",
    "to_epoch_ms",
]
