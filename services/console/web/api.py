"""The live stream, the JSON API and the board's actions (acknowledge, reassign)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import orjson
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from contracts import INBOUND
from services.console import actions
from services.console.analytics_client import AnalyticsDown
from services.console.live.hub import sse
from services.console.web.deps import Console
from services.console.web.guard import page_language, shop_of
from services.core.outputs import Outgoing

KEEPALIVE_S = 15.0


def api_router(console: Console) -> APIRouter:
    router = APIRouter()
    guard = console.guard

    async def seen_shop(request: Request, shop: str | None):
        visitor = await guard.required(request)
        return visitor, shop_of(visitor, shop, await console.known_shops())

    async def still_sees(request: Request, shop: str) -> bool:
        visitor = await guard.visitor(request)
        return visitor is not None and visitor.user.sees(shop)

    @router.get("/api/v1/live")
    async def live(request: Request, shop: str | None = None) -> Response:
        _, shop = await seen_shop(request, shop)
        return Response(orjson.dumps(await console.board(shop)), media_type="application/json")

    @router.get("/live/stream")
    async def stream(request: Request, shop: str | None = None) -> StreamingResponse:
        visitor, shop = await seen_shop(request, shop)
        variant = (page_language(request), visitor.user.may_act(shop))

        async def events() -> AsyncIterator[bytes]:
            async with console.hub.open(shop, variant) as page:
                yield b": live\n\n"
                while not await request.is_disconnected():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(page.ready.wait(), KEEPALIVE_S)
                    if page.ready.is_set():
                        yield sse(page.take())
                    elif await still_sees(request, shop):
                        yield b": keepalive\n\n"
                    else:
                        return  # logged out, removed, or no longer this shop's

        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store",
                                          "X-Accel-Buffering": "no"})

    @router.post("/actions/acknowledge", status_code=204)
    async def acknowledge(request: Request) -> Response:
        visitor, form, shop = await guard.acting(request)
        wanted = str(form.get("escalation_id", ""))
        escalation = await console.feeds.escalation(shop, wanted)
        if escalation is None:
            raise HTTPException(404, "no such escalation in this shop's feed")
        now = datetime.now(UTC)
        key, body = actions.acknowledgement(escalation, visitor.user.name, now)
        await console.publish([Outgoing(INBOUND, key, body)])
        await console.feeds.acknowledged(shop, wanted, visitor.user.name, now, None)
        console.hub.touch({shop})
        return Response(status_code=204)

    @router.post("/actions/reassign", status_code=204)
    async def reassign(request: Request) -> Response:
        visitor, form, shop = await guard.acting(request)
        try:
            key, body = actions.reassignment(
                shop, str(form.get("conversation_id", "")), str(form.get("role", "")),
                str(form.get("to_agent_id", "")), visitor.user.name, datetime.now(UTC))
        except ValueError as bad:
            raise HTTPException(400, f"not a valid reassignment: {bad}") from None
        await console.publish([Outgoing(INBOUND, key, body)])
        return Response(status_code=204)

    @router.get("/api/v1/charts")
    async def charts(request: Request, shop: str | None = None) -> Response:
        _, shop = await seen_shop(request, shop)
        try:
            return JSONResponse(await console.analytics.charts(shop))
        except AnalyticsDown as down:
            return JSONResponse({"error": "analytics_down", "detail": str(down)},
                                status_code=503)

    @router.get("/api/v1/charts/agents.csv")
    async def agents_csv(request: Request, shop: str | None = None) -> Response:
        _, shop = await seen_shop(request, shop)
        try:
            body = await console.analytics.agents_csv(shop)
        except AnalyticsDown:
            raise HTTPException(503, "analytics service not running") from None
        return Response(body, media_type="text/csv", headers={
            "Content-Disposition": f'attachment; filename="{shop}-agents.csv"'})

    return router
