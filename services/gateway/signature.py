"""The signature of HTTP ingest (scheme ``v1``): what an integrator puts on every request
to the gateway, and the one place that checks it.

- ``X-Kefu-Timestamp``: Unix seconds when the request was signed;
- ``X-Kefu-Signature``: ``v1=<hex HMAC-SHA256(secret, "{timestamp}." + body)>`` over the
  exact body bytes. Several values, comma separated, may appear while a secret is
  rotated: any one matching is enough.

Unlike kefu's own webhooks (services.notifier.signing, scheme v2), the signed string
holds no request id: every event in the body carries its own ``event_id`` and the
gateway writes an event id once, so a request replayed within the tolerance writes
nothing new.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from services.notifier.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER

__all__ = ["SIGNATURE_HEADER", "TIMESTAMP_HEADER", "sign", "verify_signature"]

SCHEME = "v1"


def _bytes(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def sign(secret: str | bytes, timestamp: int | str, body: str | bytes) -> str:
    """The ``X-Kefu-Signature`` value of a request body signed at `timestamp`."""
    message = f"{timestamp}.".encode() + _bytes(body)
    return f"{SCHEME}=" + hmac.new(_bytes(secret), message, hashlib.sha256).hexdigest()


def verify_signature(secret: str | bytes, timestamp: str | int | None, body: str | bytes,
                     header: str | None, tolerance: float = 300, *,
                     now: float | None = None) -> bool:
    """True when `header` holds a v1 signature of `body` at `timestamp` made with
    `secret`, and `timestamp` is within `tolerance` seconds of `now` (default: the
    clock). Comparison is constant-time. Never raises on malformed input."""
    if not secret or not header or timestamp is None:
        return False
    try:
        signed_at = int(str(timestamp).strip())
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - signed_at) > tolerance:
        return False
    expected = sign(secret, signed_at, body).encode()
    return any(hmac.compare_digest(expected, part.strip().encode("utf-8", "replace"))
               for part in header.split(",") if part.strip().startswith(f"{SCHEME}="))
