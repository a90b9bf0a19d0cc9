"""Redis factory and key layout (`kefu:{shop}:...`, shop in a hash tag for Redis Cluster)."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from services.core.settings import Settings


def create_redis(settings: Settings) -> Redis:
    """A pooled client that retries briefly on connection errors; longer outages surface
    as exceptions that the consumer pipeline treats as transient (never committed)."""
    return Redis.from_url(
        settings.redis_url,
        retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), retries=3),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
        socket_timeout=5.0,
        socket_connect_timeout=2.0,
        health_check_interval=15,
    )


def shop_key(shop_id: str, *parts: str) -> str:
    """`kefu:{shop}:part:part`: every key is scoped by shop, hash-tagged on the shop."""
    return ":".join(("kefu", "{" + shop_id + "}", *parts))
