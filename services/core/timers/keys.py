"""Key layout and pure helpers (no I/O).

Timers are sharded by a stable hash of the timer id into `shards` groups; one group's
four keys share a hash tag so every Lua script touches a single Redis Cluster slot:

    kefu:{timers:<namespace>:<shard>}:due       ZSET  id -> due epoch ms
    kefu:{timers:<namespace>:<shard>}:inflight  ZSET  id -> lease expiry epoch ms
    kefu:{timers:<namespace>:<shard>}:data      HASH  id -> payload bytes (absent if empty)
    kefu:{timers:<namespace>:<shard>}:owner     HASH  id -> "<original due ms>:<token>"
    kefu:{timers:<namespace>:<shard>}:fence     STRING the generation of the shard's owner
                                                       (partition timers; raised by each
                                                       new owner)
    kefu:{timers:<namespace>:<shard>}:group     STRING the consumer group's generation
                                                       in which that owner was given it

Only in-flight timers have `inflight` and `owner` entries. The shard count is part of
the layout: every replica of a namespace must use the same one.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from datetime import datetime


def shard_of(timer_id: str, shards: int) -> int:
    """Stable across processes and versions (unlike `hash()`): CRC-32 of the UTF-8 id."""
    return zlib.crc32(timer_id.encode()) % shards


def to_epoch_ms(when: datetime | float | int) -> int:
    """Epoch milliseconds from an aware datetime or epoch seconds. Naive datetimes are
    rejected: their meaning depends on the host's time zone."""
    if isinstance(when, datetime):
        if when.tzinfo is None:
            raise ValueError("naive datetime: pass an aware one (e.g. tzinfo=UTC)")
        seconds = when.timestamp()
    else:
        seconds = float(when)
    if not math.isfinite(seconds):
        raise ValueError(f"not a finite time: {when!r}")
    return round(seconds * 1000)


@dataclass(frozen=True, slots=True)
class ShardKeys:
    """The four keys of one shard, in the order the Lua scripts expect them."""

    due: str
    inflight: str
    data: str
    owner: str
    fence: str
    group: str


class TimerKeys:
    """Key names for one namespace (`presale`, `aftersale`, ...)."""

    def __init__(self, namespace: str, shards: int = 16) -> None:
        if not namespace or any(c in namespace for c in "{}"):
            raise ValueError(f"namespace must be non-empty without braces: {namespace!r}")
        if shards < 1:
            raise ValueError("shards must be >= 1")
        self.namespace = namespace
        self.shards = shards
        self._by_shard = [self._make(i) for i in range(shards)]

    def _base(self, shard: int | str) -> str:
        return f"kefu:{{timers:{self.namespace}:{shard}}}"

    def _make(self, shard: int | str) -> ShardKeys:
        base = self._base(shard)
        return ShardKeys(f"{base}:due", f"{base}:inflight", f"{base}:data", f"{base}:owner",
                         f"{base}:fence", f"{base}:group")

    def named(self, name: str) -> ShardKeys:
        """The keys of a shard named by its owner (e.g. an input partition,
        `kefu.orders:3`), outside the numbered ones."""
        if not name or any(c in name for c in "{}"):
            raise ValueError(f"shard name must be non-empty without braces: {name!r}")
        return self._make(name)

    def scan_pattern(self) -> str:
        """A SCAN pattern matching every key of every shard of the namespace."""
        return f"{self._base('*')}:*"

    def shard_name(self, key: str) -> str:
        """The shard (number or name) a key of this namespace belongs to."""
        return key[len(self._base("")) - 1:key.rindex("}:")]

    def shard(self, shard: int) -> ShardKeys:
        return self._by_shard[shard]

    def shard_for(self, timer_id: str) -> int:
        return shard_of(timer_id, self.shards)

    def all(self) -> list[ShardKeys]:
        return list(self._by_shard)
