"""Fixtures for the real embedded stack: each test module gets its own Kafka-compatible
broker and Redis-compatible server on free ports (they start in well under a second),
so modules never see each other's topics or keys."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest

from contracts.topics import ALL_TOPICS
from services.core.embedded import EmbeddedBroker, EmbeddedRedis, free_port
from services.core.kafka import create_topics
from services.core.settings import Settings
from tests.support.kafka_io import KafkaIO

TEST_PARTITIONS = 3


@dataclass
class Stack:
    broker: EmbeddedBroker
    redis: EmbeddedRedis

    def settings(self, **overrides) -> Settings:
        """Settings for a service under test: fast group joins, a unique group prefix."""
        values = dict(
            kafka_bootstrap=self.broker.bootstrap,
            redis_url=self.redis.url,
            http_port=free_port(),
            log_format="console",
            group_prefix=f"test-{uuid.uuid4().hex[:8]}",
            topic_partitions=TEST_PARTITIONS,
            consumer_session_timeout_ms=6000,
            consumer_heartbeat_interval_ms=500,
            consumer_rebalance_timeout_ms=2000,
            consumer_batch_timeout_ms=50,
            retry_max_backoff="PT1S",
            sla_grace="500ms",
        )
        values.update(overrides)
        return Settings(**values)


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    broker = EmbeddedBroker(port=free_port())
    redis = EmbeddedRedis(port=free_port(), data_dir=tmp_path_factory.mktemp("valkey"), aof=True)
    broker.start()
    redis.start()
    try:
        yield Stack(broker, redis)
    finally:
        broker.stop()
        redis.stop()


@pytest.fixture(scope="module")
async def kafka(stack: Stack) -> AsyncIterator[KafkaIO]:
    await create_topics(stack.settings(), list(ALL_TOPICS), partitions=TEST_PARTITIONS)
    io = KafkaIO(stack.broker.bootstrap)
    yield io
    await io.close()


@pytest.fixture(scope="session")
def chdb_dir(tmp_path_factory):
    """The one chDB data directory of this test process: chDB opens a single path per
    process, so every embedded analytics store of the session lives here, each test in a
    database of its own."""
    return tmp_path_factory.mktemp("chdb")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"
