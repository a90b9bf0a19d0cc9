"""Who is asking: the session cookie, or a reverse proxy's header only when it is
switched on and only from a trusted address; the login form's own CSRF nonce; both
languages say everything."""

from __future__ import annotations

from starlette.requests import Request

from services.console.access import ConsoleRole, User
from services.console.i18n import TEXT
from services.console.sessions import SESSION_COOKIE, Sessions
from services.console.web.guard import Guard

SESSIONS = Sessions("secret", 60)


class FakeUsers:
    def __init__(self, *names: str) -> None:
        self.known = {n: User(n, ConsoleRole.SUPERVISOR, frozenset({"a"})) for n in names}

    async def get(self, name: str) -> User | None:
        return self.known.get(name)


def request(client: str, headers: dict[str, str] | None = None, cookie: str = "") -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    if cookie:
        raw.append((b"cookie", f"{SESSION_COOKIE}={cookie}".encode()))
    return Request({"type": "http", "method": "GET", "path": "/", "headers": raw,
                    "client": (client, 5000), "query_string": b""})


class NoneEnded:
    """No session was ended by logging out."""

    async def ended(self, nonce: str) -> bool:
        return False


def guard(header: str | None, users=None) -> Guard:
    return Guard(SESSIONS, users or FakeUsers("wu", "li"), logins=None, ended=NoneEnded(),
                 trusted_header=header,
                 trusted_proxies=frozenset({"10.0.0.5"}), secure_cookies=False)


async def test_a_session_cookie_names_a_user_who_still_exists() -> None:
    assert (await guard(None).visitor(request("1.2.3.4", cookie=SESSIONS.issue("wu")))
            ).user.name == "wu"
    gone = guard(None, FakeUsers("li"))
    assert await gone.visitor(request("1.2.3.4", cookie=SESSIONS.issue("wu"))) is None


async def test_the_trusted_header_counts_only_when_on_and_from_the_proxy() -> None:
    header = {"X-Forwarded-User": "li"}
    assert (await guard("X-Forwarded-User").visitor(request("10.0.0.5", header))
            ).user.name == "li"
    assert await guard("X-Forwarded-User").visitor(request("6.6.6.6", header)) is None
    assert await guard(None).visitor(request("10.0.0.5", header)) is None
    stranger = {"X-Forwarded-User": "mallory"}
    assert await guard("X-Forwarded-User").visitor(request("10.0.0.5", stranger)) is None


def test_the_login_form_keeps_its_nonce_in_a_signed_cookie() -> None:
    nonce, cookie = SESSIONS.login_nonce(None)
    assert SESSIONS.login_nonce(cookie) == (nonce, None)
    forged, fresh = SESSIONS.login_nonce(cookie + "x")
    assert forged != nonce and fresh is not None


def test_both_languages_say_everything() -> None:
    assert TEXT["zh-CN"].keys() == TEXT["en"].keys()
