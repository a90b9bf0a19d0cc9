"""kefu's Redis connections pack commands with hiredis's C packer
(`services.core.redis._with_c_packer`); the bytes on the wire must be exactly what
redis-py's own packer sends, for every kind of argument kefu passes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from redis.asyncio.connection import Connection
from redis.exceptions import DataError

from services.core.redis import _with_c_packer

LIBRARY, PACKED = Connection(), _with_c_packer(Connection)()

argument = st.one_of(st.text(), st.binary(), st.integers(), st.floats(allow_nan=False),
                     st.binary().map(bytearray), st.binary().map(memoryview))


def wire(connection: Connection, *args) -> bytes:
    return b"".join(bytes(chunk) for chunk in connection.pack_command(*args))


@pytest.mark.parametrize("args", [
    ("SET", "k", "v"),
    ("EVALSHA", "0123abcd", 2, "kefu:{shop}:a", b"kefu:{shop}:b", 1.5, -3, ""),
    ("SCRIPT LOAD", "return 1"),  # a two-word command: split into words
    ("HSET", "键", "值", "emoji", "🙂"),
    ("SET", bytearray(b"x"), memoryview(b"yz")),
])
def test_known_commands_pack_as_the_library_does(args) -> None:
    assert wire(PACKED, *args) == wire(LIBRARY, *args)


@given(st.sampled_from(["SET", "MGET", "EVALSHA", b"HSET"]), st.lists(argument, max_size=8))
def test_any_arguments_pack_as_the_library_does(head, rest) -> None:
    assert wire(PACKED, head, *rest) == wire(LIBRARY, head, *rest)


def test_an_argument_redis_cannot_take_is_refused_as_by_the_library() -> None:
    for connection in (LIBRARY, PACKED):
        with pytest.raises(DataError):
            connection.pack_command("SET", "k", None)
