"""Pydantic models of one shop's effective policy (docs/contract.md, "The policy file").

Every field is required here: the built-in values live in ``defaults.yaml`` only, and the
loader always validates a complete, merged mapping. Unknown keys are errors.
"""

from __future__ import annotations

from functools import cached_property
from typing import Annotated

from pydantic import Field, field_validator, model_validator

from contracts.enums import Intent
from services.core.business_hours import BusinessCalendar
from services.core.policy.notify import NotifyPolicy
from services.core.policy.types import (
    DayKey,
    Duration,
    EnvName,
    Intervals,
    IsoDate,
    ModelPath,
    StrictModel,
    Text,
    Zone,
    resolve_week,
)

INTENTS: tuple[str, ...] = tuple(intent.value for intent in Intent)
"""The contract's intents, least to most actionable (policy keys such as routing.keywords)."""

class ResponseSla(StrictModel):
    """Response clocks of one role's conversations (business time)."""

    first_response: Duration
    next_response: Duration


class SlaPolicy(StrictModel):
    """Deadlines per SLA; conversation clocks count business time only."""

    presale: ResponseSla
    aftersale: ResponseSla
    ship_by: Duration
    order_change_confirmation: Duration
    aftersale_response: Duration
    logistics_stalled: Duration


class AssignmentPolicy(StrictModel):
    """How long a buyer stays with the agent who last served them."""

    sticky_window: Duration


class RoutingPolicy(StrictModel):
    """Extra router keywords per intent, and the shop's own model file (written by
    `kefu route --train`; None: the built-in model). The router loads the file at
    start-up and refuses to start if it cannot."""

    keywords: dict[Intent, list[Text]]
    model: ModelPath | None


class AnalyticsPolicy(StrictModel):
    """Access to the shop's analytics: `token_env` names the environment variable holding
    the API token that sees this shop only (the token itself is never in the file)."""

    token_env: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")] | None


class IngestPolicy(StrictModel):
    """HTTP ingest (the gateway): ``secret_env`` names the env variable holding the HMAC
    secret that signs this shop's events; unset, ``KEFU_INGEST_SECRET`` signs them."""

    secret_env: EnvName | None


class ShopPolicy(StrictModel):
    """The effective policy of one shop: ``default`` with the shop's overrides merged in.

    Durations are ``timedelta``, ``timezone`` a ``ZoneInfo``, ``holidays`` dates and
    ``business_hours`` minutes since midnight per key; ``calendar`` combines the last
    three for deadline arithmetic.
    """

    timezone: Zone
    business_hours: dict[DayKey, Intervals]
    holidays: tuple[IsoDate, ...]
    warn_at: Annotated[float, Field(strict=True, gt=0, lt=1)]
    level3_after: Annotated[float, Field(strict=True, gt=1)]
    sla: SlaPolicy
    notify: NotifyPolicy
    routing: RoutingPolicy
    assignment: AssignmentPolicy
    analytics: AnalyticsPolicy
    ingest: IngestPolicy

    @field_validator("business_hours")
    @classmethod
    def _some_hours(cls, hours: dict[str, list[tuple[int, int]]]) -> dict:
        if not any(resolve_week(hours).values()):
            raise ValueError("no business hours on any day of the week")
        return hours

    @model_validator(mode="after")
    def _build_calendar(self) -> ShopPolicy:
        _ = self.calendar  # built (and checked) at load, not at first use
        return self

    @cached_property
    def calendar(self) -> BusinessCalendar:
        """Business hours and holidays of this shop, in its timezone. Cached as a plain
        attribute: a pydantic private attribute costs ~5 µs a read, and the role
        services read it several times per event."""
        return BusinessCalendar(self.timezone, resolve_week(self.business_hours),
                                self.holidays)
