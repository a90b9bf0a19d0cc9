"""Bytes <-> models: decoding with orjson, error classification, serialisation."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import BaseModel, ValidationError

from .enums import DlqReason


class InvalidEvent(ValueError):
    """A message that cannot be processed; `reason` is the DLQ machine code."""

    def __init__(self, reason: DlqReason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def decode_object(raw: bytes | bytearray | memoryview | str) -> dict[str, Any]:
    """Parse one JSON object. Raises InvalidEvent(invalid_encoding | invalid_json)."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if not isinstance(raw, str):
            try:
                bytes(raw).decode("utf-8")
            except UnicodeDecodeError as bad:
                raise InvalidEvent(DlqReason.INVALID_ENCODING, f"not UTF-8: {bad}") from None
        raise InvalidEvent(DlqReason.INVALID_JSON, f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        kind = "array" if isinstance(data, list) else type(data).__name__
        raise InvalidEvent(DlqReason.INVALID_JSON, f"expected a JSON object, got {kind}")
    return data


def field_path(loc: tuple[int | str, ...]) -> str:
    """`("payload", "items", 0, "sku")` -> `"payload.items[0].sku"`."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(root)"


def invalid_from(error: ValidationError, *, skip: int = 0) -> InvalidEvent:
    """Turn a ValidationError into an InvalidEvent naming every bad field path.

    The reason is `naive_timestamp` when every error is a date-time without offset,
    else `schema_violation`. `skip` drops leading location parts (a union tag).
    """
    errors = error.errors(include_url=False, include_input=False)
    detail = "; ".join(f"{field_path(e['loc'][skip:])}: {e['msg']}" for e in errors)
    naive = all(e["type"] == "timezone_aware" for e in errors)
    reason = DlqReason.NAIVE_TIMESTAMP if naive else DlqReason.SCHEMA_VIOLATION
    return InvalidEvent(reason, detail)


def to_json_bytes(model: BaseModel) -> bytes:
    """Serialise a model to UTF-8 JSON, extra fields included, times as RFC 3339."""
    return orjson.dumps(model.model_dump(mode="json", by_alias=True))
