"""The services' Redis client (services.core.redis.create_redis) on the real server:
commands packed by hiredis's C packer must reach Redis exactly as redis-py's own
packer would send them, and keep the URL's transport."""

from __future__ import annotations

import pytest
from redis.asyncio.connection import SSLConnection, UnixDomainSocketConnection
from redis.exceptions import DataError

from services.core.redis import create_redis
from services.core.settings import Settings
from tests.conftest import unique


@pytest.fixture
async def client(stack):
    redis = create_redis(Settings(redis_url=stack.redis.url))
    yield redis
    await redis.aclose()


async def test_values_of_every_kind_round_trip(client) -> None:
    prefix = unique("kefu:{packer}")
    values = {
        "text": "亲，什么时候发货？😀",
        "bytes": bytes(range(256)),
        "int": 42,
        "float": 2.5,
        "large": "退" * 200_000,
        "spaces": "a b  c",
        "bytearray": bytearray(b"from a bytearray"),
        "memoryview": memoryview(b"from a memoryview"),
    }
    for name, value in values.items():
        await client.set(f"{prefix}:{name}", value, ex=60)
    stored = await client.mget([f"{prefix}:{name}" for name in values])
    assert stored == [
        "亲，什么时候发货？😀".encode(),
        bytes(range(256)),
        b"42",
        b"2.5",
        ("退" * 200_000).encode(),
        b"a b  c",
        b"from a bytearray",
        b"from a memoryview",
    ]


async def test_a_command_named_in_two_words(client, stack) -> None:
    """redis-py sends e.g. "SCRIPT LOAD" and "CONFIG GET" as one string."""
    sha = await client.execute_command("SCRIPT LOAD", "return 7")
    assert await client.evalsha(sha, 0) == 7
    assert await client.execute_command("CONFIG GET", "port") == {"port": str(stack.redis.port)}


async def test_pipelined_lua_with_many_keys(client) -> None:
    script = client.register_script(
        "for i = 1, #KEYS do redis.call('SET', KEYS[i], ARGV[i], 'EX', 60) end return #KEYS"
    )
    keys = [f"kefu:{{packer}}:{unique('k')}" for _ in range(2_000)]
    pipe = client.pipeline(transaction=False)
    await script(keys=keys, args=[f"v{i}" for i in range(len(keys))], client=pipe)
    pipe.mget(keys)
    written, read = await pipe.execute()
    assert written == len(keys)
    assert read == [f"v{i}".encode() for i in range(len(keys))]


async def test_none_is_a_clear_data_error(client) -> None:
    with pytest.raises(DataError):
        await client.set(unique("kefu:{packer}"), None)


@pytest.mark.parametrize(
    ("url", "transport"),
    [
        ("rediss://localhost:6380/0", SSLConnection),
        ("unix:///tmp/redis.sock", UnixDomainSocketConnection),
    ],
)
def test_the_url_still_chooses_the_transport(url: str, transport: type) -> None:
    redis = create_redis(Settings(redis_url=url))
    assert issubclass(redis.connection_pool.connection_class, transport)
