"""What GET /openapi.json says about POST /v1/events: the answers as pydantic models,
the request body as the contract's inbound envelope (its JSON Schema from `contracts`,
never hand-written), and the signature headers."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from contracts import INBOUND_ADAPTER, DlqReason
from services.gateway.auth import TOLERANCE_SECONDS
from services.gateway.events import JSON, NDJSON
from services.gateway.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER

REF = "#/components/schemas/{model}"
EVENT_SCHEMA = "InboundEvent"


class EventResult(BaseModel):
    index: int = Field(ge=0, description="0-based position of the event in the body")
    event_id: str | None = Field(description="the event's event_id, when it has one")
    status: Literal["accepted", "duplicate", "rejected"] = Field(
        description="accepted: written to kefu.inbound; duplicate: accepted before (or "
        "earlier in this body), not written again; rejected: invalid, not written"
    )
    reason: DlqReason | None = Field(
        default=None, description="why it was rejected: the reason kefu.dlq would give"
    )
    detail: str | None = Field(default=None, description="human text, e.g. the field path")


class IngestResult(BaseModel):
    accepted: int = Field(ge=0)
    duplicates: int = Field(ge=0)
    rejected: int = Field(ge=0)
    results: list[EventResult] = Field(description="one per event, in body order")


class Problem(BaseModel):
    error: Literal[
        "unauthorized", "payload_too_large", "too_many_events", "unsupported_media_type",
        "no_events", "over_capacity", "in_progress", "broker_slow", "broker_unavailable",
        "redis_unavailable",
    ] = Field(description="machine code")
    detail: str


def _answer(model: type[BaseModel], description: str, retry: bool = False) -> dict[str, Any]:
    answer: dict[str, Any] = {"model": model, "description": description}
    if retry:
        answer["headers"] = {"Retry-After": {
            "description": "seconds to wait before sending the request again",
            "schema": {"type": "integer"},
        }}
    return answer


RESPONSES: dict[int | str, dict[str, Any]] = {
    202: _answer(IngestResult, "The broker acknowledged every accepted event (acks=all)."),
    401: _answer(Problem, "Missing or wrong signature, a timestamp more than "
                 f"{TOLERANCE_SECONDS} s off, or a shop the secret does not cover. "
                 "Nothing was written."),
    413: _answer(Problem, "The body or the number of events is over the limit."),
    415: _answer(Problem, f"Neither {JSON} nor {NDJSON}."),
    422: {"description": "Nothing in the request was valid; nothing was written. Per event "
          "(an IngestResult), or a Problem when the body holds no event.",
          "content": {JSON: {"schema": {"anyOf": [
              {"$ref": REF.format(model="IngestResult")},
              {"$ref": REF.format(model="Problem")},
          ]}}}},
    429: _answer(Problem, "Over the gateway's in-flight budget, the broker is slow, or "
                 "another request is writing one of these events.", retry=True),
    503: _answer(Problem, "The broker or Redis is unreachable; nothing was accepted that "
                 "was not written.", retry=True),
}

_HEADERS = [
    {"name": TIMESTAMP_HEADER, "in": "header", "required": True,
     "description": "Unix seconds when the request was signed",
     "schema": {"type": "string", "pattern": "^[0-9]{1,12}$"}},
    {"name": SIGNATURE_HEADER, "in": "header", "required": True,
     "description": 'v1=<hex HMAC-SHA256(secret, "{timestamp}.{body}")>, over the exact '
     "body bytes", "schema": {"type": "string"}},
]

def post_events_extra(max_batch: int) -> dict[str, Any]:
    """The signature headers and the two body forms of POST /v1/events."""
    event = {"$ref": REF.format(model=EVENT_SCHEMA)}
    return {
        "parameters": _HEADERS,
        "requestBody": {"required": True, "content": {
            JSON: {"schema": event},
            NDJSON: {"schema": {"type": "array", "items": event, "minItems": 1,
                                "maxItems": max_batch,
                                "description": "sent as one event (a JSON object) a line"}},
        }},
    }

def add_event_schemas(document: dict[str, Any]) -> dict[str, Any]:
    """Put the contract's inbound envelope (a union by `event_type`) into components."""
    schema = INBOUND_ADAPTER.json_schema(ref_template=REF)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(schema.pop("$defs", {}))
    schemas[EVENT_SCHEMA] = schema
    return document
