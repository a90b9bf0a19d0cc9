"""Composition root of the pre-sale service: conversations routed to pre-sale, their
agents and response clocks, plus the order clocks `ship_by` and `order_change_confirmation`."""

from __future__ import annotations

from contracts import Role
from services.core.runtime import ServiceRuntime
from services.core.settings import Settings
from services.presale.rules import presale_rules
from services.roles.app import build_role_app


def create_app(settings: Settings) -> ServiceRuntime:
    return build_role_app(Role.PRESALE, settings, presale_rules)
