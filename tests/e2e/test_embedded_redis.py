"""The embedded Valkey (kefu up, the test fixtures, the benchmarks) runs with a password
generated for its run, never with protected mode off: a client without the password is
refused; the password travels only in the Redis URL, never on a command line."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from redis.asyncio import Redis
from redis.exceptions import AuthenticationError, ResponseError

from services.core.embedded import EmbeddedRedis, free_port

pytestmark = pytest.mark.e2e


async def test_a_client_without_the_password_is_refused(stack):
    url = urlsplit(stack.redis.url)
    assert url.password and len(url.password) >= 24, "the URL carries a generated password"
    anonymous = Redis(host=url.hostname, port=url.port)
    try:
        with pytest.raises((AuthenticationError, ResponseError), match="(?i)auth|noauth"):
            await anonymous.set("kefu:{probe}:x", "1")
    finally:
        await anonymous.aclose()
    client = Redis.from_url(stack.redis.url)
    try:
        assert await client.ping()
        assert (await client.config_get("protected-mode"))["protected-mode"] == "yes"
    finally:
        await client.aclose()


def test_the_password_is_not_on_the_command_line(stack):
    cmdline = Path(f"/proc/{stack.redis.proc.pid}/cmdline").read_bytes().decode()
    assert urlsplit(stack.redis.url).password not in cmdline
    assert "protected-mode" not in cmdline


async def test_each_server_has_its_own_password_and_keeps_it_across_a_restart(tmp_path):
    server = EmbeddedRedis(port=free_port(), data_dir=tmp_path, aof=True)
    other = EmbeddedRedis(port=free_port(), data_dir=tmp_path / "other")
    assert urlsplit(server.url).password != urlsplit(other.url).password
    server.start()
    try:
        client = Redis.from_url(server.url)
        await client.set("kefu:{probe}:kept", "1")
        await client.aclose()
        server.restart()
        client = Redis.from_url(server.url)
        assert await client.get("kefu:{probe}:kept") == b"1"
        await client.aclose()
    finally:
        server.stop()
