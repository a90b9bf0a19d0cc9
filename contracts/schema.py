"""JSON Schemas (draft 2020-12) of every kefu message, generated from the models.

`python -m contracts.schema DIR` writes them as files under DIR.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel, TypeAdapter

from . import envelopes, outputs, routed
from .examples import EXAMPLES

DIALECT = "https://json-schema.org/draft/2020-12/schema"

OUTPUT_MODELS: dict[str, Any] = {
    "outputs/routed_event.json": routed.ROUTED_ADAPTER,
    "outputs/routing.json": routed.Routing,
    "outputs/assignment.json": outputs.Assignment,
    "outputs/escalation.json": outputs.Escalation,
    "outputs/notification.json": outputs.Notification,
    "outputs/dead_letter.json": outputs.DeadLetter,
}
"""Output file name -> model (or TypeAdapter)."""


def _schema(model: type[BaseModel] | TypeAdapter[Any], **extra: Any) -> dict[str, Any]:
    if isinstance(model, TypeAdapter):
        body = model.json_schema()
    else:
        body = model.model_json_schema()
    return {"$schema": DIALECT, **body, **extra}


def json_schemas() -> dict[str, dict[str, Any]]:
    """File name (e.g. `inbound/buyer.message.json`) -> JSON Schema, for every message."""
    schemas = {
        "inbound/envelope.json": _schema(envelopes.Envelope),
        "inbound/any.json": _schema(
            envelopes.INBOUND_ADAPTER, title="InboundEvent", examples=list(EXAMPLES.values())
        ),
    }
    for event_type, model in envelopes.EVENT_MODELS.items():
        schemas[f"inbound/{event_type}.json"] = _schema(model, examples=[EXAMPLES[event_type]])
    for name, model in OUTPUT_MODELS.items():
        schemas[name] = _schema(model)
    return schemas


def write_json_schemas(directory: Path) -> list[Path]:
    """Write every schema of `json_schemas()` under `directory`; returns the paths written."""
    written = []
    for name, schema in json_schemas().items():
        path = Path(directory) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(orjson.dumps(schema, option=orjson.OPT_INDENT_2) + b"\n")
        written.append(path)
    return written


if __name__ == "__main__":  # pragma: no cover
    for written_path in write_json_schemas(Path(sys.argv[1] if len(sys.argv) > 1 else "schemas")):
        print(written_path)
