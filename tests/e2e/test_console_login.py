"""Password guessing at the console's login form, against the real console and Redis:
after 5 wrong passwords for one name from one address within 15 minutes, that name is
refused from there (429, Retry-After) even with the right password, before any password
is checked; other names are not held, and a successful login clears the count."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from redis.asyncio import Redis

from services.console.users import Users
from services.core.embedded import free_port
from tests.conftest import unique
from tests.support.services import running

pytestmark = pytest.mark.e2e
PASSWORD = "right-password-1"


@pytest.fixture(scope="module")
async def console(stack, kafka):
    settings = stack.settings(http_port=free_port(), console_secret="test-console-secret")
    async with running("console", settings):
        yield f"http://127.0.0.1:{settings.http_port}"


@pytest.fixture(scope="module")
async def users(stack):
    redis = Redis.from_url(stack.redis.url)
    yield Users(redis)
    await redis.aclose()


async def attempt(client: httpx.AsyncClient, name: str, password: str) -> httpx.Response:
    form = await client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    return await client.post("/login", data={"name": name, "password": password,
                                             "csrf_token": token})


async def test_five_wrong_passwords_hold_that_name_and_no_other(console, users) -> None:
    guessed, other = unique("sup"), unique("sup")
    for name in (guessed, other):
        await users.add(name, PASSWORD, "admin", [])
    async with httpx.AsyncClient(base_url=console) as client:
        for _ in range(5):
            wrong = await attempt(client, guessed, "not-the-password")
            assert wrong.status_code == 303 and "failed=1" in wrong.headers["location"]
        held = await attempt(client, guessed, PASSWORD)
        assert held.status_code == 429, "the right password does not help a guesser"
        assert 0 < int(held.headers["retry-after"]) <= 900
        assert "kefu_session" not in held.cookies
        fine = await attempt(client, other, PASSWORD)
        assert fine.status_code == 303 and fine.headers["location"] == "/"


async def test_a_successful_login_clears_the_count(console, users) -> None:
    name = unique("sup")
    await users.add(name, PASSWORD, "admin", [])
    async with httpx.AsyncClient(base_url=console) as client:
        for _ in range(4):
            assert (await attempt(client, name, "nope-nope")).status_code == 303
        assert (await attempt(client, name, PASSWORD)).headers["location"] == "/"
        client.cookies.clear()
        for _ in range(4):
            assert (await attempt(client, name, "nope-nope")).status_code == 303
        assert (await attempt(client, name, PASSWORD)).headers["location"] == "/"


async def test_after_logging_out_a_copy_of_the_session_cookie_opens_nothing(console, users):
    """Logging out ends the session on the server: a copy of the cookie (another tab, a
    stolen one) no longer opens the board or the API."""
    name, shop = unique("sup"), unique("shop")
    await users.add(name, PASSWORD, "supervisor", [shop])
    async with httpx.AsyncClient(base_url=console) as client:
        assert (await attempt(client, name, PASSWORD)).headers["location"] == "/"
        copied = client.cookies.get("kefu_session")
        board = await client.get("/", params={"shop": shop})
        assert board.status_code == 200
        token = re.search(r'name="csrf_token" value="([^"]+)"', board.text).group(1)
        out = await client.post("/logout", data={"csrf_token": token})
        assert out.status_code == 303
    async with httpx.AsyncClient(base_url=console, cookies={"kefu_session": copied}) as thief:
        assert (await thief.get("/", params={"shop": shop})).headers.get("location") == "/login"
        assert (await thief.get("/api/v1/live", params={"shop": shop})).status_code == 401


async def test_guesses_sent_at_once_are_all_counted(console, users) -> None:
    """Twelve wrong passwords posted in parallel: at most five are checked."""
    name = unique("sup")
    await users.add(name, PASSWORD, "admin", [])
    async with httpx.AsyncClient(base_url=console) as client:
        form = await client.get("/login")  # one form, as a script would reuse it
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
        answers = await asyncio.gather(*(client.post("/login", data={
            "name": name, "password": f"guess-{i}", "csrf_token": token}) for i in range(12)))
    assert sorted(a.status_code for a in answers) == [303] * 5 + [429] * 7
