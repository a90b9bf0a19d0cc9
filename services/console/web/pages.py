"""The pages: login, the live board, reply scripts, charts. Thin: who may see what is
`access.User`, the board is `live/`, the words are `i18n.py`."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from contracts import INBOUND, Intent, ScriptLocale
from services.console import actions
from services.console.i18n import TEXT
from services.console.sessions import LOGIN_COOKIE, SESSION_COOKIE
from services.console.web.deps import Console
from services.console.web.guard import LANG_COOKIE, Visitor, page_language, shop_of
from services.core.outputs import Outgoing


def page_router(console: Console) -> APIRouter:
    router = APIRouter()
    guard = console.guard

    def respond(request: Request, html: str, lang: str) -> HTMLResponse:
        response = HTMLResponse(html, headers={"Cache-Control": "no-store"})
        if request.query_params.get("lang"):
            response.set_cookie(LANG_COOKIE, lang, **guard.cookie_args())
        return response

    async def shop_page(request: Request, template: str, path: str, **context) -> Response:
        visitor = await guard.visitor(request)
        if visitor is None:
            return RedirectResponse("/login", status_code=303)
        lang, known = page_language(request), await console.known_shops()
        shop = shop_of(visitor, request.query_params.get("shop"), known)
        extra = {k: await v(visitor, shop) if callable(v) else v for k, v in context.items()}
        html = console.page(template, visitor, lang=lang, shop=shop, page_path=path,
                            shops=visitor.user.visible(known), **extra)
        return respond(request, html, lang)

    def login_form(request: Request, *, failed: bool = False, held_s: int = 0) -> Response:
        nonce, cookie = guard.login_nonce(request)
        lang = page_language(request)
        response = respond(request, console.page("login.html", None, lang=lang,
                                                 csrf=guard.sessions.csrf(nonce),
                                                 failed=failed, held=held_s > 0), lang)
        if held_s:
            response.status_code = 429
            response.headers["Retry-After"] = str(held_s)
        if cookie:
            response.set_cookie(LOGIN_COOKIE, cookie, max_age=3600, **guard.cookie_args())
        return response

    @router.get("/login")
    async def login_page(request: Request, failed: bool = False) -> Response:
        return login_form(request, failed=failed)

    @router.post("/login")
    async def login(request: Request) -> Response:
        nonce, fresh = guard.login_nonce(request)
        if fresh:  # no login form was served to this browser
            raise HTTPException(403, "missing or wrong CSRF token")
        form = await guard.check_post(request, nonce)
        name, client = str(form.get("name", "")), request.client.host if request.client else ""
        held = await guard.logins.admit(name, client)
        if held:  # too many wrong passwords: no password is checked until the window ends
            return login_form(request, held_s=held)
        user = await guard.users.verify(name, str(form.get("password", "")))
        if user is None:
            return RedirectResponse("/login?failed=1", status_code=303)
        await guard.logins.succeeded(name, client)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(SESSION_COOKIE, guard.sessions.issue(user.name),
                            max_age=guard.sessions.ttl, **guard.cookie_args())
        response.delete_cookie(LOGIN_COOKIE, path="/")
        return response

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        visitor = await guard.required(request)
        await guard.check_post(request, visitor.nonce)
        if not visitor.nonce.startswith("proxy:"):  # a proxy's user logs out at the proxy
            await guard.ended.end(visitor.nonce)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @router.get("/")
    async def board_page(request: Request) -> Response:
        async def panels(visitor: Visitor, shop: str) -> dict:
            board = await console.board(shop)
            return console.renderer.panels(board, (page_language(request),
                                                   visitor.user.may_act(shop)))
        return await shop_page(request, "board.html", "/", panels=panels)

    @router.get("/scripts")
    async def scripts_page(request: Request, edit: str | None = None) -> Response:
        async def scripts(_visitor: Visitor, shop: str) -> list[dict]:
            return await console.book.all(shop)

        async def editing(_visitor: Visitor, shop: str) -> dict | None:
            return await console.book.get(shop, edit) if edit else None
        return await shop_page(request, "scripts.html", "/scripts", scripts=scripts,
                               editing=editing, intents=[i.value for i in Intent],
                               locales=[loc.value for loc in ScriptLocale])

    @router.get("/charts")
    async def charts_page(request: Request) -> Response:
        lang = page_language(request)
        return await shop_page(request, "charts.html", "/charts", words=TEXT[lang])

    @router.post("/scripts")
    async def publish_script(request: Request) -> Response:
        visitor, form, shop = await guard.acting(request)
        now = datetime.now(UTC)  # the copy's `at` is the event's occurred_at (listed_scripts)
        script = {"script_id": str(form.get("script_id") or actions.new_script_id()),
                  "intent": str(form.get("intent", "")), "locale": str(form.get("locale", "")),
                  "text": str(form.get("text", "")).strip(), "by": visitor.user.name,
                  "at": now.isoformat()}
        try:
            key, body = actions.script_published(shop, script, visitor.user.name, now)
        except ValueError as bad:
            raise HTTPException(400, f"not a valid script: {bad}") from None
        await console.publish([Outgoing(INBOUND, key, body)])
        await console.book.put(shop, script)
        return RedirectResponse(f"/scripts?shop={shop}", status_code=303)

    @router.post("/scripts/retire")
    async def retire_script(request: Request) -> Response:
        visitor, form, shop = await guard.acting(request)
        script = await console.book.get(shop, str(form.get("script_id", "")))
        if script is None:
            raise HTTPException(404, "no such script")
        now = datetime.now(UTC)
        key, body = actions.script_published(shop, script, visitor.user.name, now,
                                             retired=True)
        await console.publish([Outgoing(INBOUND, key, body)])
        await console.book.put(shop, {**script, "by": visitor.user.name, "at": now.isoformat(),
                                      "retired": True})
        return RedirectResponse(f"/scripts?shop={shop}", status_code=303)

    return router
