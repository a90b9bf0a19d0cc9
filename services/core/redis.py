"""Redis factory and key layout (`kefu:{shop}:...`, shop in a hash tag for Redis Cluster)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from functools import cache
from urllib.parse import urlsplit, urlunsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.connection import AbstractConnection
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.connection import HiredisRespSerializer
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.utils import HIREDIS_AVAILABLE

from services.core.settings import Settings

SET_MANY = """
local n = #KEYS
for i = 1, n do
  redis.call('SET', KEYS[i], ARGV[i], 'EX', ARGV[n + i])
end
return n
"""
"""A Lua script: KEYS[i] gets ARGV[i] with a TTL of ARGV[n + i] seconds (keys of one
hash tag: one slot in a cluster; group them with `by_hash_tag`)."""


def reply_text(value: bytes | str | None) -> str | None:
    """A Redis reply value as text (None stays None), from a client with or without
    decode_responses."""
    return value.decode() if isinstance(value, bytes) else value


def by_hash_tag(keys: Iterable[str]) -> Iterable[list[str]]:
    """Keys grouped by their hash tag ("kefu:{shop}:..."): one Lua call per group."""
    groups: dict[str, list[str]] = defaultdict(list)
    for key in keys:
        groups[key[key.index("{") + 1 : key.index("}")]].append(key)
    return groups.values()


def create_redis(settings: Settings, *, wait_for_connection: bool = False) -> Redis:
    """A pooled client that retries briefly on connection errors; longer outages surface
    as exceptions that the consumer pipeline treats as transient (never committed).
    With `wait_for_connection` a command waits (up to 5 s) for a free connection of the
    pool (100) instead of failing: for a server of many concurrent requests (the
    console)."""
    options = dict(
        retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), retries=3),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
        socket_timeout=5.0,
        socket_connect_timeout=2.0,
        health_check_interval=15,
    )
    if wait_for_connection:
        client = Redis(connection_pool=BlockingConnectionPool.from_url(
            settings.redis_url, max_connections=100, timeout=5.0, **options))
    else:
        client = Redis.from_url(settings.redis_url, **options)
    if HIREDIS_AVAILABLE:  # a dependency (redis[hiredis]); a bare redis-py still works
        pool = client.connection_pool
        pool.connection_class = _with_c_packer(pool.connection_class)
    return client


@cache
def _with_c_packer(connection_class: type[AbstractConnection]) -> type[AbstractConnection]:
    """The URL's connection class (TCP, TLS or Unix socket) packing commands with
    hiredis's C packer. redis-py's sync connections already do so; its asyncio ones
    pack in Python, about 5x slower per argument, which showed in the router's profile
    (a batch's MGETs and Lua writes carry thousands of keys). redis-py's own hiredis
    serializer also walks every argument in Python first (to copy bytearrays and
    memoryviews), so that walk is left to the rare command that needs it."""
    import hiredis  # only with HIREDIS_AVAILABLE

    serializer = HiredisRespSerializer()

    def pack_command(self, *args):
        head = args[0]
        space = " " if isinstance(head, str) else b" "
        if space in head:  # "SCRIPT LOAD", "CONFIG GET": redis-py splits them into words
            return serializer.pack(*args)
        try:
            return [hiredis.pack_command(args)]
        except TypeError:  # bytearray, memoryview: converted; anything else: DataError
            return serializer.pack(*args)

    return type(f"CPacked{connection_class.__name__}", (connection_class,), {
        "pack_command": pack_command,
    })


def shop_key(shop_id: str, *parts: str) -> str:
    """`kefu:{shop}:part:part`: every key is scoped by shop, hash-tagged on the shop."""
    prefix = f"kefu:{{{shop_id}}}"
    return prefix + ":" + ":".join(parts) if parts else prefix


def shown_url(url: str) -> str:
    """A Redis URL fit for messages and logs: its password (and user) replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None and parts.username is None:
        return url
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    netloc = f":***@{host}" + (f":{parts.port}" if parts.port is not None else "")
    return urlunsplit(parts._replace(netloc=netloc))
