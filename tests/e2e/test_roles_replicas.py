"""Two pre-sale replicas in one consumer group split the partitions, while agents'
capacity is per shop: a burst of conversations over every partition never gives an agent
more than its max_concurrent, and the rest wait in one queue."""

from __future__ import annotations

from collections import Counter

import pytest
from redis.asyncio import Redis

from contracts import topics
from services.core.embedded import free_port
from services.roles.keys import RoleKeys
from tests.conftest import unique
from tests.e2e import role_replica as r
from tests.support.kafka_io import wait_until
from tests.support.services import running

pytestmark = pytest.mark.e2e


async def test_two_replicas_never_over_assign_an_agent(stack, kafka, tmp_path) -> None:
    settings = stack.settings(policy_file=r.write_policy(tmp_path))
    shop, keys = unique("shop"), RoleKeys("presale")
    redis = Redis.from_url(stack.redis.url, decode_responses=True)
    async with running("presale", settings) as one, running(
            "presale", settings.model_copy(update={"http_port": free_port()})) as two:
        def split() -> bool:  # each replica owns some role-topic partitions
            owned = [{tp for t in app.trackers for tp in t.partitions
                      if tp.topic == topics.ROLE_PRESALE} for app in (one, two)]
            return all(owned) and not owned[0] & owned[1]

        assert await wait_until(split, timeout=30), "the group did not split the partitions"
        for agent, max_concurrent in (("a1", 4), ("a2", 3)):
            await kafka.send(topics.ROLE_PRESALE, r.status(shop, agent, "online", max_concurrent),
                             agent)

        async def both_online() -> bool:
            found = [await redis.hget(keys.agent(shop, a), "status") for a in ("a1", "a2")]
            return found == ["online", "online"]

        assert await wait_until(both_online, timeout=30)
        convs = [unique("c") for _ in range(30)]
        for conv in convs:
            await kafka.send(topics.ROLE_PRESALE, r.buyer(shop, conv, buyer_id=conv), conv)
        found = await kafka.collect(topics.ASSIGNMENTS, r.on_shop(shop), count=len(convs),
                                    timeout=30, settle=1.0)
    await redis.aclose()
    assert sorted(b["conversation_id"] for b, _ in found) == sorted(convs), "one decision each"
    per_agent = Counter(b["agent_id"] for b, _ in found)
    assert per_agent == {"a1": 4, "a2": 3, None: 23}
    assert {(b["agent_id"] is None) == (b["reason"] == "queued_no_capacity") for b, _ in found} == {
        True}
