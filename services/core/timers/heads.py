"""What a store last saw of each shard's earliest due time, so the runner's claims can
skip shards with nothing due between full sweeps (the notifier's outbox), and the role
services' firing can skip a round that cannot find a due timer."""

from __future__ import annotations

import time
from collections.abc import Hashable, Iterable


class ShardHeads:
    """Earliest due ms per shard as last seen (None: empty; absent: never looked).

    Timers other processes schedule are invisible here: a full sweep at least every
    `sweep_every` seconds picks them up, the same bound a sleeping runner's poll
    interval gives."""

    def __init__(self) -> None:
        self._heads: dict[Hashable, int | None] = {}
        self._last_sweep = float("-inf")

    def sweep_due(self, sweep_every: float | None) -> bool:
        return sweep_every is None or time.monotonic() - self._last_sweep >= sweep_every

    def swept(self, at: float) -> None:
        self._last_sweep = at

    def may_be_due(self, shard: Hashable, now_ms: int) -> bool:
        if shard not in self._heads:
            return True
        head = self._heads[shard]
        return head is not None and head <= now_ms

    def seen(self, shard: Hashable, head_ms: int | None) -> None:
        """The shard's earliest due time, read from Redis."""
        self._heads[shard] = head_ms

    def scheduled(self, shard: Hashable, due_ms: int) -> None:
        """This process put a timer due at `due_ms` into `shard`."""
        if shard in self._heads:
            head = self._heads[shard]
            self._heads[shard] = due_ms if head is None else min(head, due_ms)

    def earliest(self) -> int | None:
        known = [h for h in self._heads.values() if h is not None]
        return min(known) if known else None

    def forget(self, shards: Iterable[Hashable]) -> None:
        """Timers may have come back to these shards (returned leases, a new owner)."""
        for shard in shards:
            self._heads.pop(shard, None)
