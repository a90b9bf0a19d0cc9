"""Property-based tests of the gateway against the OpenAPI document it serves
(schemathesis): requests generated from the document, valid and invalid, each signed
like an integrator signs it, sent to `kefu run gateway` on the real broker and Redis.

Whatever the request, the gateway never answers 5xx, and every answer is one the
document declares: status code, content type, headers and body schema (a 202 included).
The broker and Redis are up here, so 503 is not an answer these requests may get."""

from __future__ import annotations

import json
import time
from collections import Counter

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from services.gateway.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.e2e

SECRET = "schemathesis-secret"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]


@schemathesis.serializer("application/x-ndjson")
def ndjson(_ctx, value) -> bytes:
    """A generated array as one JSON value a line; anything else (negative cases) as
    the one line it is."""
    items = value if isinstance(value, list) else [value]
    return b"".join(json.dumps(item, ensure_ascii=False).encode() + b"\n" for item in items)


class SigningSession(requests.Session):
    """Signs every request over the exact body bytes it sends, as an integrator does."""

    def send(self, request, **kwargs):
        body = request.body or b""
        body = body.encode() if isinstance(body, str) else body
        timestamp = str(int(time.time()))
        request.headers[TIMESTAMP_HEADER] = timestamp
        request.headers[SIGNATURE_HEADER] = sign(SECRET, timestamp, body)
        return super().send(request, **kwargs)


@pytest.fixture(scope="module")
async def gateway_url(stack, kafka, tmp_path_factory):
    logs = tmp_path_factory.mktemp("gateway-openapi")
    process = ServiceProcess("gateway", stack.settings(), logs, KEFU_INGEST_SECRET=SECRET)
    process.start()
    try:
        assert await process.ready(), (logs / f"gateway-{process.port}.log").read_text()
        yield f"http://127.0.0.1:{process.port}"
    finally:
        assert process.terminate() == 0


@pytest.fixture(scope="module")
def api_schema(gateway_url):
    return schemathesis.openapi.from_url(f"{gateway_url}/openapi.json")


@pytest.fixture(scope="module")
def session():
    with SigningSession() as signing:
        yield signing


@pytest.mark.parametrize("media", ["application/json", "application/x-ndjson"])
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                         ids=["valid", "invalid"])
def test_no_5xx_and_every_answer_matches_the_document(api_schema, session, gateway_url,
                                                      mode, media):
    operation = api_schema["/v1/events"]["POST"]
    answered: Counter[int] = Counter()

    @given(case=operation.as_strategy(generation_mode=mode, media_type=media))
    @settings(max_examples=100, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                     HealthCheck.data_too_large])
    def answered_as_documented(case):
        response = case.call(base_url=gateway_url, session=session, timeout=30)
        case.validate_response(response, checks=CHECKS)
        answered[response.status_code] += 1

    answered_as_documented()
    if mode is GenerationMode.POSITIVE:  # 202s were checked against the document too
        assert answered[202] > 0, answered
