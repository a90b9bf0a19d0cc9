"""Building blocks shared by the inbound and output models."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

_RFC3339_PREFIX = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def _require_datetime_text(value: Any) -> Any:
    """Accept only RFC 3339 text (or a datetime built in code): no Unix numbers, no dates."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and _RFC3339_PREFIX.match(value):
        return value
    raise PydanticCustomError(
        "rfc3339_datetime",
        "Input should be an RFC 3339 date-time with offset, e.g. 2026-11-22T09:30:00+08:00",
    )


EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def _within_range(value: datetime) -> datetime:
    """Times outside 1970..2200 UTC are input errors, not dates to compute with (a
    deadline of 9999-12-31 would overflow every clock that adds a budget to it)."""
    if not EARLIEST <= value < LATEST:
        raise ValueError("time must be between 1970-01-01 and 2200-01-01 (UTC)")
    return value


Timestamp = Annotated[
    AwareDatetime, BeforeValidator(_require_datetime_text), AfterValidator(_within_range)
]
"""RFC 3339 date-time with an offset, between 1970 and 2200; a time without offset is
invalid (error `timezone_aware`)."""

Id = Annotated[str, Field(min_length=1)]
"""A non-empty identifier."""

StrictInt = Annotated[int, Field(strict=True)]
Money = Annotated[float, Field(strict=True, ge=0, allow_inf_nan=False)]
"""A non-negative amount in the shop's currency (yuan for CNY), as a JSON number."""


class OpenModel(BaseModel):
    """A model that keeps unknown extra fields, so newer producers pass through older code."""

    model_config = ConfigDict(extra="allow")
