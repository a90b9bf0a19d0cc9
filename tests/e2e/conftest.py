"""Fixtures shared by the pre-sale e2e modules: one presale service per module with the
fast test policy, a decoded Redis client, and the `Shop` driver of role_replica."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from tests.e2e import role_replica as r
from tests.support.services import running


@pytest.fixture(scope="module")
async def presale(stack, kafka, tmp_path_factory):
    policy = r.write_policy(tmp_path_factory.mktemp("presale-policy"))
    async with running("presale", stack.settings(policy_file=policy)) as app:
        yield app


@pytest.fixture(scope="module")
async def redis(stack):
    client = Redis.from_url(stack.redis.url, decode_responses=True)
    yield client
    await client.aclose()


@pytest.fixture
def shop(presale, kafka, redis):
    return r.Shop(kafka, redis)
