"""The API's routes. Every /api/v1 route needs `Authorization: Bearer <token>`; a shop's
token sees that shop only, SQL needs the admin token. (No `from __future__ import
annotations`: FastAPI resolves the dependencies in the annotations at run time.)"""

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Query
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel, Field

from services.analytics.api.access import Grant, Tokens
from services.analytics.report.build import build_report
from services.analytics.report.model import Report
from services.analytics.report.render import render_report
from services.analytics.report.request import GROUPS, BadRequest, ReportRequest, report_request
from services.analytics.report.series import METRICS, Series, build_series
from services.analytics.store import Store, StoreError
from services.core.policy import INTENTS, ShopPolicy

By = Literal["agent", "role", "intent", "hour", "day", "item"]
assert set(By.__args__) == set(GROUPS)


class SqlQuery(BaseModel):
    query: str = Field(description="one read-only ClickHouse SELECT", min_length=1)


class SqlResult(BaseModel):
    columns: list[str]
    types: list[str]
    rows: list[list]


def api_router(*, store: Store, tokens: Tokens, policy_for: Callable[[str], ShopPolicy],
               conversion_days: int) -> APIRouter:
    router = APIRouter(prefix="/api/v1")

    def grant(authorization: Annotated[str, Header()] = "") -> Grant:
        if not tokens.configured:
            raise HTTPException(503, "no API token is configured: set KEFU_ANALYTICS_TOKEN")
        scheme, _, token = authorization.partition(" ")
        found = tokens.grant(token.strip()) if scheme.lower() == "bearer" else None
        if found is None:
            raise HTTPException(401, "a valid token is required: Authorization: Bearer <token>",
                                headers={"WWW-Authenticate": "Bearer"})
        return found

    def window(grant: Annotated[Grant, Depends(grant)], shop: str,
               from_: Annotated[str | None, Query(alias="from")] = None, to: str | None = None,
               by: By = "agent", intent: str | None = None,
               limit: Annotated[int, Query(ge=1, le=1000)] = 20) -> ReportRequest:
        if not grant.sees(shop):
            raise HTTPException(403, f"this token does not see shop {shop!r}")
        try:
            return report_request(shop_id=shop, tz=policy_for(shop).timezone,
                                  now=datetime.now(UTC), start=from_, end=to, by=by,
                                  intent=intent, limit=limit, known_intents=INTENTS)
        except BadRequest as bad:
            raise HTTPException(400, str(bad)) from None

    @router.get("/report", response_model=Report, response_model_by_alias=True,
                summary="The shop's report for a window (JSON, or CSV / text with format)")
    async def report(request: Annotated[ReportRequest, Depends(window)],
                     format: Literal["json", "csv", "table"] = "json") -> Response:
        built = await build_report(store, request, conversion_days=conversion_days)
        if format == "json":
            return Response(render_report(built, "json"), media_type="application/json")
        media = "text/csv" if format == "csv" else "text/plain"
        return PlainTextResponse(render_report(built, format), media_type=media)

    @router.get("/series", response_model=Series,
                summary=f"A metric per time bucket: {', '.join(METRICS)}")
    async def series(request: Annotated[ReportRequest, Depends(window)], metric: str,
                     step: str = "1h") -> Series:
        try:
            return await build_series(store, request, metric, step)
        except BadRequest as bad:
            raise HTTPException(400, str(bad)) from None

    @router.get("/shops", summary="The shops this token sees (admin: every shop with data)")
    async def shops(grant: Annotated[Grant, Depends(grant)]) -> dict[str, list[str]]:
        if not grant.admin:
            return {"shops": sorted(grant.shops)}
        result = await asyncio.to_thread(
            store.select, "SELECT DISTINCT shop_id FROM messages ORDER BY shop_id")
        return {"shops": [row[0] for row in result.rows]}

    @router.post("/sql", response_model=SqlResult,
                 summary="A read-only SQL query over every shop (admin token only)")
    async def sql(body: SqlQuery, grant: Annotated[Grant, Depends(grant)]) -> SqlResult:
        if not grant.admin:
            raise HTTPException(403, "SQL reads every shop: it needs the admin token")
        try:
            result = await asyncio.to_thread(store.select_readonly, body.query)
        except StoreError as refused:
            raise HTTPException(400, str(refused)) from None
        return SqlResult(columns=result.columns, types=result.types, rows=result.rows)

    return router
