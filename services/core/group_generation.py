"""The consumer group's generation, a fencing token the broker hands out: each
rebalance of a group raises it, and a member the group expelled keeps an older one.
aiokafka keeps it on the consumer's coordinator and offers no public accessor, so the
two reads of it live here, behind a test against the real broker
(tests/e2e/test_group_generation.py)."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError
from aiokafka.protocol.group import HeartbeatRequest


def generation_of(consumer: AIOKafkaConsumer | None) -> int | None:
    """The generation in which the group gave this consumer its current partitions
    (read it in `on_partitions_assigned`), or None without a group coordinator."""
    coordinator = getattr(consumer, "_coordinator", None)
    generation = getattr(coordinator, "generation", None)
    return generation if isinstance(generation, int) and generation >= 0 else None


async def is_current(consumer: AIOKafkaConsumer, generation: int) -> bool:
    """Does the group's coordinator accept `generation` for this member now? A heartbeat
    with it answers: no error means it is the group's current generation and this
    consumer a member of it. It changes nothing of the consumer's own state."""
    coordinator = consumer._coordinator
    request = HeartbeatRequest(coordinator.group_id, generation, coordinator.member_id)
    try:
        response = await coordinator._send_req(request)
    except KafkaError:
        return False
    return response.error_code == 0
