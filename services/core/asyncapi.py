"""The AsyncAPI document of the whole system, generated from the services' real
FastStream subscribers and publishers. Subscribers parse raw bytes themselves (so that
bad input reaches the DLQ), so their payload schemas are filled in from the contract
models of the topics they consume."""

from __future__ import annotations

import json
from typing import Any

from faststream.specification import AsyncAPI
from pydantic import TypeAdapter

from contracts import InboundEvent, topics
from contracts.outputs import Assignment, Escalation
from contracts.routed import RoutedEvent

SUBSCRIBED_MODELS: dict[str, Any] = {
    topics.INBOUND: InboundEvent,
    topics.ROLE_PRESALE: RoutedEvent,
    topics.ROLE_AFTERSALE: RoutedEvent,
    topics.ORDERS: InboundEvent,
    topics.ESCALATIONS: Escalation,
    topics.ASSIGNMENTS: Assignment,
}
REF = "#/components/schemas/{model}"


def build_asyncapi(runtimes: list, *, version: str) -> dict[str, Any]:
    spec = AsyncAPI(
        *[runtime.broker for runtime in runtimes],
        title="kefu",
        version=version,
        description="Event-driven customer-service backbone: topics, producers and consumers "
        "of every kefu service (see docs/contract.md).",
    )
    doc = json.loads(spec.to_specification().to_json())
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    messages = doc["components"].get("messages", {})
    for channel in doc.get("channels", {}).values():
        model = SUBSCRIBED_MODELS.get(channel.get("address"))
        if model is None:
            continue
        for ref in channel.get("messages", {}).values():
            name = ref["$ref"].rsplit("/", 1)[-1]
            message = messages.get(name)
            if message is None or not name.endswith(":SubscribeMessage"):
                continue
            schema = TypeAdapter(model).json_schema(ref_template=REF)
            schemas.update(schema.pop("$defs", {}))
            key = f"{channel['address']}:Payload"
            schemas[key] = schema
            message["payload"] = {"$ref": REF.format(model=key)}
    return doc
