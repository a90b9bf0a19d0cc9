"""Building blocks shared by the inbound and output models."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
)
from pydantic_core import CoreSchema
from pydantic_core import core_schema as cs

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
_RFC3339_PREFIX = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}"


class _Rfc3339InRange:
    """Validation of `Timestamp`, all of it inside pydantic-core (no Python call per
    value: a router validates thousands of events per second):

    1. only RFC 3339 text (or a datetime built in code): no Unix numbers, no dates
       (error `rfc3339_datetime`);
    2. with an offset (error `timezone_aware`, which the DLQ calls `naive_timestamp`);
    3. between 1970 and 2200 UTC (error `datetime_range`): such times are input errors,
       not dates to compute with (a deadline of 9999-12-31 would overflow every clock
       that adds a budget to it).
    """

    @staticmethod
    def __get_pydantic_core_schema__(source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        text_or_datetime = cs.custom_error_schema(
            cs.union_schema(
                [cs.is_instance_schema(datetime), cs.str_schema(pattern=_RFC3339_PREFIX)]
            ),
            custom_error_type="rfc3339_datetime",
            custom_error_message="Input should be an RFC 3339 date-time with offset, "
            "e.g. 2026-11-22T09:30:00+08:00",
        )
        aware = handler(source)
        in_range = cs.custom_error_schema(
            cs.datetime_schema(ge=EARLIEST, lt=LATEST),
            custom_error_type="datetime_range",
            custom_error_message="time must be between 1970-01-01 and 2200-01-01 (UTC)",
        )
        return cs.chain_schema(
            [text_or_datetime, aware, in_range], serialization=aware.get("serialization")
        )

    @staticmethod
    def __get_pydantic_json_schema__(schema: CoreSchema, handler: GetJsonSchemaHandler):
        return handler(cs.datetime_schema())


Timestamp = Annotated[AwareDatetime, _Rfc3339InRange]
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
