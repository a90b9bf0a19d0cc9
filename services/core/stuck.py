"""Which partitions are stuck retrying, and since when: exposed as a metric, and the
service is not ready while one has been stuck longer than `KEFU_STUCK_AFTER`. A batch
whose outputs cannot be published or whose effects cannot be written is retried for as
long as it takes (never skipped, never committed meanwhile); this is how an operator
sees it."""

from __future__ import annotations

import time
from collections.abc import Iterable

from aiokafka import TopicPartition
from prometheus_client import CollectorRegistry, Gauge


class Stuck:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.since: dict[TopicPartition, float] = {}
        self.gauge = Gauge("kefu_partition_retrying_seconds",
                           "How long the partition's current batch has been retried",
                           ["topic", "partition"], registry=registry)

    def failing(self, tps: Iterable[TopicPartition]) -> None:
        now = time.monotonic()
        for tp in tps:
            since = self.since.setdefault(tp, now)
            self.gauge.labels(tp.topic, str(tp.partition)).set(round(now - since, 3))

    def cleared(self, tps: Iterable[TopicPartition]) -> None:
        for tp in tps:
            if self.since.pop(tp, None) is not None:
                try:
                    self.gauge.remove(tp.topic, str(tp.partition))
                except KeyError:
                    pass

    def longest(self) -> float:
        """Seconds the longest retrying partition has been at it (0: none)."""
        if not self.since:
            return 0.0
        return time.monotonic() - min(self.since.values())
