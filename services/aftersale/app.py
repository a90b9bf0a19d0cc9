"""Composition root of the after-sale service: conversations routed to after-sale, their
agents and response clocks, the case and parcel clocks `aftersale_response` and
`logistics_stalled`, and the raised escalations (complaints, negative reviews, platform
intervention)."""

from __future__ import annotations

from contracts import Role
from services.aftersale.rules import aftersale_rules
from services.core.runtime import ServiceRuntime
from services.core.settings import Settings
from services.roles.app import build_role_app


def create_app(settings: Settings) -> ServiceRuntime:
    return build_role_app(Role.AFTERSALE, settings, aftersale_rules)
