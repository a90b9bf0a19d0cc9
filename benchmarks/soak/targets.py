"""Scrape targets: the service HTTP bases, their pids, and their discovery."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from benchmarks.soak.console import say
from benchmarks.soak.constants import DEFAULT_PORTS
from benchmarks.soak.processes import pid_listening_on


@dataclass
class Target:
    """A service process: its HTTP base (for /metrics) and, if known, its pid."""

    name: str
    base: str | None
    pid: int | None
    first: dict[str, Any] = field(default_factory=dict)
    last: dict[str, Any] = field(default_factory=dict)
    lag_max: float = 0.0
    lag_interval: float = 0.0
    scrape_errors: int = 0
    mark: dict[str, Any] = field(default_factory=dict)  # the sample at the last line

    def batches_since(self, before: dict[str, Any]) -> tuple[float | None, float | None]:
        """(mean batch ms, mean records per batch) between `before` and the last sample."""
        if not before or not self.last:
            return None, None
        count = self.last.get("batches", 0) - before.get("batches", 0)
        if count <= 0:
            return None, None
        ms = (self.last.get("batch_s", 0) - before.get("batch_s", 0)) / count * 1000
        records = (self.last.get("events_in", 0) - before.get("events_in", 0)) / count
        return round(ms, 1), round(records, 1)


async def discover(metrics: list[str]) -> list[Target]:
    """Targets from `[NAME=]URL` items (names from /healthz), or the default ports."""
    items = list(metrics) or [f"http://127.0.0.1:{port}" for port in DEFAULT_PORTS.values()]
    targets = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
        for item in items:
            name, _, url = item.rpartition("=")
            url = url.rstrip("/")
            try:
                async with http.get(f"{url}/healthz") as resp:
                    body = await resp.json(content_type=None)
                    name = name or str(body.get("service") or "")
            except (aiohttp.ClientError, TimeoutError, OSError, ValueError):
                if not metrics:
                    continue  # a default port nobody listens on
                say(f"warning: {url}/healthz does not answer; scraping it anyway")
            port = urlsplit(url).port
            name = name or f"svc:{port}"
            targets.append(Target(name, url, pid_listening_on(port) if port else None))
    return targets
