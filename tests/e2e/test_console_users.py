"""`kefu users` against a real Redis: a new user gets a password printed once, whose
argon2 hash (never the password) is stored; mistakes exit 2 and say why; a removed user
is gone."""

from __future__ import annotations

import subprocess
import sys

import pytest
from redis.asyncio import Redis

from services.console import keys
from services.console.users import Users
from services.core.embedded import free_port

pytestmark = pytest.mark.e2e


def kefu_users(url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "services.cli.main", "users", "--redis-url",
                           url, *args], capture_output=True, text=True, input=stdin,
                          timeout=60)


async def test_add_list_and_remove_a_user(stack):
    url, redis = stack.redis.url, Redis.from_url(stack.redis.url)
    try:
        added = kefu_users(url, "add", "wu", "--role", "supervisor", "--shop", "shop-a")
        assert added.returncode == 0, added.stderr
        password = added.stdout.split("password: ")[1].strip()
        user = await Users(redis).verify("wu", password)
        assert (user.role, user.shops) == ("supervisor", frozenset({"shop-a"}))
        stored = await redis.hgetall(keys.user("wu"))
        assert stored[b"hash"].startswith(b"$argon2id$") and password.encode() not in b"".join(
            stored.values())
        piped = kefu_users(url, "add", "li", "--role", "analyst", "--shop", "shop-a",
                           "--password-stdin", stdin="pass-from-stdin\n")
        assert piped.returncode == 0 and "password" not in piped.stdout
        assert await Users(redis).verify("li", "pass-from-stdin") is not None
        assert "wu\tsupervisor\tshop-a" in kefu_users(url, "list").stdout
        assert kefu_users(url, "remove", "wu").returncode == 0
        assert await Users(redis).get("wu") is None
    finally:
        await redis.aclose()


def test_mistakes_exit_2_and_say_why(stack):
    no_shop = kefu_users(stack.redis.url, "add", "zhao", "--role", "supervisor")
    assert no_shop.returncode == 2 and "--shop" in no_shop.stderr
    bad_name = kefu_users(stack.redis.url, "add", "a b", "--role", "admin")
    assert bad_name.returncode == 2 and "invalid user name" in bad_name.stderr


def test_an_unreachable_redis_is_named_without_its_password():
    down = kefu_users(f"redis://:s3cret-pass@127.0.0.1:{free_port()}/0", "list")
    assert down.returncode == 1
    assert "cannot reach Redis at redis://:***@127.0.0.1:" in down.stderr
    assert "s3cret-pass" not in down.stderr + down.stdout
