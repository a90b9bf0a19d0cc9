"""The router's watermark, shared through Redis with the services it feeds.

Each router replica writes the watermark of every `kefu.inbound` partition it owns
(`kefu:{watermarks}:router`, field = partition, value = epoch ms, only ever raised),
and the number of partitions. The router's watermark is the lowest of them: every event
that occurred before it (less the grace) was routed and acked. A partition no router
has written yet holds it at UNKNOWN. The router stamps its outputs with it, and the
role services wait for it when they are caught up (see `services.core.watermark`)."""

from __future__ import annotations

from collections.abc import Mapping

from redis.asyncio import Redis

from services.core.redis import reply_text
from services.core.redis_batch import RedisBatch
from services.core.watermark import UNKNOWN

KEY = "kefu:{watermarks}:router"
PARTITIONS = "partitions"

# ARGV: partition count, then partition, watermark ms, ... Keeps the highest value of
# each partition. Returns every field (HGETALL).
RAISE = """
redis.call('HSET', KEYS[1], 'partitions', ARGV[1])
for i = 2, #ARGV, 2 do
  local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[i]) or '-1e18')
  if tonumber(ARGV[i + 1]) > cur then redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
return redis.call('HGETALL', KEYS[1])
"""


def lowest(fields: Mapping) -> int | None:
    """The router's watermark from the hash's fields; None when no router ever wrote
    (nothing to wait for, unless the partition already holds the router's records:
    `PartitionProgress.fed_by_upstream`)."""
    values = {reply_text(k): int(v) for k, v in fields.items()}
    count = values.pop(PARTITIONS, None)
    if count is None:
        return None
    if len(values) < count or any(str(p) not in values for p in range(count)):
        return UNKNOWN
    return min(values[str(p)] for p in range(count))


class StageWatermarks:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._raise = redis.register_script(RAISE)

    async def publish(self, partitions: int, marks: Mapping[int, int]) -> int | None:
        """Raise this replica's partitions' watermarks; returns the router's watermark."""
        args: list = [partitions]
        for partition, value in marks.items():
            args += [partition, value]
        batch = RedisBatch(self.redis)
        batch.script(self._raise, [KEY], args)
        [flat] = await batch.execute()
        return lowest(dict(zip(flat[0::2], flat[1::2], strict=True)))

    async def read(self) -> int | None:
        return lowest(await self.redis.hgetall(KEY))
