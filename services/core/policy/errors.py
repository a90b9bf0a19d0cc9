"""``PolicyError`` and the translation of pydantic errors into key-path messages."""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import BaseModel

from services.core.policy.model import ShopPolicy


class PolicyError(ValueError):
    """An invalid policy; each line of the message is ``<file>: <key path>: <problem>``."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


def describe(error: Any, prefix: str) -> str:
    """One pydantic error as ``<prefix>.<key path>: <problem>``."""
    loc = [str(part) for part in error["loc"] if part != "[key]"]
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown key" + _suggest(error["loc"])
    elif "[key]" in error["loc"]:  # our own key validators already name the key
        if error["type"] in ("literal_error", "enum"):
            message = "unknown key, expected " + message.removeprefix("Input should be ")
    elif error["type"] not in ("value_error", "missing") and not isinstance(
        error["input"], dict | list
    ):
        message += f", got {error['input']!r}"
    return ".".join([prefix, *loc]) + ": " + message


def _suggest(loc: tuple[Any, ...]) -> str:
    model: Any = ShopPolicy
    for part in loc[:-1]:
        field = model.model_fields.get(part) if isinstance(part, str) else None
        model = field.annotation if field else None
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return ""
    close = difflib.get_close_matches(str(loc[-1]), list(model.model_fields), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
