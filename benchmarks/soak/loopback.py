"""The loopback guard: this tool never sends anywhere but 127.0.0.1."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


def is_loopback(host: str) -> bool:
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_loopback(bootstrap: str, redis_url: str | None, metrics: list[str]) -> list[str]:
    """Addresses that are not loopback (this tool sends to 127.0.0.1 only)."""
    bad = []
    for server in filter(None, (s.strip() for s in bootstrap.split(","))):
        host = server.rsplit(":", 1)[0] if not server.startswith("[") else server.split("]")[0]
        if not is_loopback(host):
            bad.append(server)
    for url in ([redis_url] if redis_url else []) + [m.split("=", 1)[-1] for m in metrics]:
        if not is_loopback(urlsplit(url).hostname or ""):
            bad.append(url)
    return bad
