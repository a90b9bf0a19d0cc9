"""Who is asking (pure HTTP plumbing, no decisions of its own): the signed session
cookie, or the trusted header of a reverse proxy when it is switched on and the request
comes from a trusted address; the CSRF token a POST must carry; the page language.
Everything fails closed: no valid session, no access; no valid token, no action."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import HTTPException, Request

from services.console.access import User
from services.console.ended import EndedSessions
from services.console.i18n import language
from services.console.sessions import (
    CSRF_FIELD,
    CSRF_HEADER,
    LOGIN_COOKIE,
    SESSION_COOKIE,
    Sessions,
)
from services.console.throttle import LoginThrottle
from services.console.users import Users

LANG_COOKIE = "kefu_lang"


@dataclass(frozen=True, slots=True)
class Visitor:
    user: User
    nonce: str  # the session's (or the proxy user's) CSRF nonce


class Guard:
    def __init__(self, sessions: Sessions, users: Users, logins: LoginThrottle,
                 ended: EndedSessions, *, trusted_header: str | None,
                 trusted_proxies: frozenset[str], secure_cookies: bool) -> None:
        self.sessions, self.users, self.logins, self.ended = sessions, users, logins, ended
        self.trusted_header, self.trusted_proxies = trusted_header, trusted_proxies
        self.secure_cookies = secure_cookies

    async def visitor(self, request: Request) -> Visitor | None:
        if self.trusted_header and request.client \
                and request.client.host in self.trusted_proxies:
            name = request.headers.get(self.trusted_header, "").strip()
            if name:
                user = await self.users.get(name)
                return Visitor(user, f"proxy:{name}") if user else None
        session = self.sessions.read(request.cookies.get(SESSION_COOKIE))
        if session is None or await self.ended.ended(session.nonce):  # logged out
            return None
        user = await self.users.get(session.name)  # removed users are out at once
        return Visitor(user, session.nonce) if user else None

    async def required(self, request: Request) -> Visitor:
        found = await self.visitor(request)
        if found is None:
            raise HTTPException(401, "log in first")
        return found

    def csrf(self, visitor: Visitor) -> str:
        return self.sessions.csrf(visitor.nonce)

    async def check_post(self, request: Request, nonce: str) -> dict:
        """The POST's form, once its CSRF token is right (403 otherwise)."""
        form = dict(await request.form())
        presented = request.headers.get(CSRF_HEADER) or form.get(CSRF_FIELD)
        if not self.sessions.csrf_ok(nonce, presented if isinstance(presented, str) else None):
            raise HTTPException(403, "missing or wrong CSRF token")
        return form

    async def acting(self, request: Request) -> tuple[Visitor, dict, str]:
        """A POST that acts on a shop: logged in, the right CSRF token, and a user who may
        act on the shop the form names."""
        visitor = await self.required(request)
        form = await self.check_post(request, visitor.nonce)
        shop = str(form.get("shop", ""))
        if not shop or not visitor.user.may_act(shop):
            raise HTTPException(403, "you may not act on this shop")
        return visitor, form, shop

    def login_nonce(self, request: Request) -> tuple[str, str | None]:
        return self.sessions.login_nonce(request.cookies.get(LOGIN_COOKIE))

    def cookie_args(self) -> dict:
        return {"httponly": True, "samesite": "lax", "secure": self.secure_cookies, "path": "/"}


def page_language(request: Request) -> str:
    return language(request.query_params.get("lang") or request.cookies.get(LANG_COOKIE))


def shop_of(visitor: Visitor, requested: str | None, known: set[str]) -> str:
    """The shop asked for, if the visitor sees it (403 otherwise); none asked for: their
    first."""
    if requested:
        if not visitor.user.sees(requested):
            raise HTTPException(403, "this shop is not yours")
        return requested
    shops = visitor.user.visible(known)
    if not shops:
        raise HTTPException(403, "no shop to show")
    return shops[0]
