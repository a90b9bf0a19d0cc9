"""The services and how to find their composition roots."""

from __future__ import annotations

import importlib
import importlib.util

SERVICES = ("router", "presale", "aftersale", "notifier", "analytics", "console", "gateway")


def is_available(service: str) -> bool:
    """A service that is not written yet (no `services/<name>/app.py`) is not started."""
    return importlib.util.find_spec(f"services.{service}.app") is not None


def available_services() -> list[str]:
    return [s for s in SERVICES if is_available(s)]


def create_app(service: str, settings):
    """Build (without connecting) the service's runtime from its composition root."""
    module = importlib.import_module(f"services.{service}.app")
    return module.create_app(settings)
