"""The HTTP layer (FastAPI): POST /v1/events hands the request to `Ingest` and writes
its answer; GET /openapi.json, /healthz, /readyz and /metrics. Bodies are never logged
(they hold buyers' messages, phone numbers and addresses)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import ClientDisconnect

from services.core.health import Check, readiness
from services.core.logging import get_logger
from services.core.metrics import Metrics
from services.gateway.answers import Answer
from services.gateway.events import JSON, NDJSON
from services.gateway.ingest import Incoming, Ingest
from services.gateway.metrics import GatewayMetrics
from services.gateway.openapi import RESPONSES, add_event_schemas, post_events_extra
from services.gateway.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER

log = get_logger("kefu.gateway")

DESCRIPTION = f"""Send kefu's inbound events over HTTPS: one envelope as `{JSON}`, or
a batch as `{NDJSON}` (one envelope a line). Requests are signed like kefu's webhooks.
A 202 comes only after the broker acknowledged every accepted event; the answer says per
event whether it was accepted, a duplicate or rejected (with the reason kefu.dlq uses)."""


def create_api(
    ingest: Ingest, *, checks: dict[str, Check], metrics: Metrics, gateway: GatewayMetrics,
) -> FastAPI:
    api = FastAPI(title="kefu HTTP ingest", version="1", description=DESCRIPTION,
                  docs_url=None, redoc_url=None, openapi_url="/openapi.json")

    @api.post("/v1/events", status_code=202, responses=RESPONSES,
              openapi_extra=post_events_extra(ingest.limits.max_batch), response_class=Response,
              summary="Send one event, or a batch of events")
    async def post_events(request: Request) -> Response:
        started = time.perf_counter()
        gateway.in_flight.inc()
        try:
            answer = await ingest.handle(_incoming(request))
        except ClientDisconnect:  # gone before its body arrived: nothing was read or written
            return Response(status_code=400)
        finally:
            gateway.in_flight.dec()
        gateway.answered(answer, time.perf_counter() - started)
        if "error" in answer.body:  # a refused request: its code and why, never its body
            log.info("request refused", status=answer.status, **answer.body)
        return _response(answer)

    @api.get("/healthz", include_in_schema=False)
    async def healthz() -> Response:
        return _json(200, {"status": "ok", "service": metrics.service})

    @api.get("/readyz", include_in_schema=False)
    async def readyz() -> Response:
        ready, results = await readiness(checks)
        return _json(200 if ready else 503, {"ready": ready, "checks": results})

    @api.get("/metrics", include_in_schema=False)
    async def metrics_text() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    default_openapi = api.openapi

    def openapi() -> dict:
        if api.openapi_schema is None:
            api.openapi_schema = add_event_schemas(default_openapi())
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]
    return api


def _incoming(request: Request) -> Incoming:
    headers = request.headers
    length = headers.get("content-length")
    return Incoming(
        content_type=headers.get("content-type"),
        content_length=int(length) if length and length.isdigit() else None,
        timestamp=headers.get(TIMESTAMP_HEADER),
        signature=headers.get(SIGNATURE_HEADER),
        read=_reader(request),
    )


def _reader(request: Request) -> Callable[[int], Awaitable[bytes | None]]:
    async def read(limit: int) -> bytes | None:
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    return read


def _response(answer: Answer) -> Response:
    response = _json(answer.status, answer.body)
    if answer.retry_after is not None:
        response.headers["Retry-After"] = str(answer.retry_after)
    return response


def _json(status: int, body: dict) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=JSON)
