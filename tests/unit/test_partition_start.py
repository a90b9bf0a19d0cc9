"""Where a consumer starts on partitions it was just given (`starting_offsets`): the
group's committed offset, else the partition's first. What nothing was read of yet
counts as read up to there, so an idle partition is caught up at once after a restart
or a rebalance, and its timers do not wait for traffic that may never come."""

from __future__ import annotations

from aiokafka import TopicPartition

from services.core.progress import starting_offsets

COMMITTED, FRESH = TopicPartition("kefu.role.presale", 0), TopicPartition("kefu.role.presale", 1)


class Consumer:
    async def committed(self, tp: TopicPartition) -> int | None:
        return {COMMITTED: 42}.get(tp)

    async def beginning_offsets(self, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
        return {tp: 7 for tp in tps}


async def test_a_committed_partition_starts_at_its_commit_and_a_fresh_one_at_its_first() -> None:
    assert await starting_offsets(Consumer(), [COMMITTED, FRESH]) == {COMMITTED: 42, FRESH: 7}
