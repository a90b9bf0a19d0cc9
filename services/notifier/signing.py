"""Webhook signatures (for kefu and for the shops that receive its webhooks).

Every webhook request carries:

- ``X-Kefu-Timestamp``: Unix seconds when the request was signed (fresh per attempt);
- ``X-Kefu-Signature``: ``v1=<hex HMAC-SHA256(secret, f"{timestamp}.{body}")>`` where
  ``body`` is the exact request body bytes (several ``v1=`` values, comma separated,
  may appear while a secret is rotated: any one matching is enough);
- ``X-Kefu-Notification-Id``: the notification id; the same notification retried or
  re-sent after a restart keeps it, so receivers drop repeats by it.

A receiver checks a request with::

    from services.notifier.signing import verify_signature
    ok = verify_signature(secret, request.headers["X-Kefu-Timestamp"], raw_body,
                          request.headers["X-Kefu-Signature"])

and rejects it (HTTP 401) when ``ok`` is false: wrong secret, a body changed on the
way, or a timestamp more than ``tolerance`` seconds away from its clock (a replay).
"""

from __future__ import annotations

import hashlib
import hmac
import time

TIMESTAMP_HEADER = "X-Kefu-Timestamp"
SIGNATURE_HEADER = "X-Kefu-Signature"
ID_HEADER = "X-Kefu-Notification-Id"
ATTEMPT_HEADER = "X-Kefu-Attempt"
SCHEME = "v1"


def _bytes(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def sign(secret: str | bytes, timestamp: int | str, body: str | bytes) -> str:
    """The ``X-Kefu-Signature`` value of `body` signed at `timestamp`."""
    message = _bytes(str(timestamp)) + b"." + _bytes(body)
    return f"{SCHEME}=" + hmac.new(_bytes(secret), message, hashlib.sha256).hexdigest()


def signed_headers(
    secret: str | bytes | None, body: bytes, notification_id: str, *, now: float | None = None,
) -> dict[str, str]:
    """Headers of one delivery attempt (no signature without a secret)."""
    timestamp = str(int(time.time() if now is None else now))
    headers = {TIMESTAMP_HEADER: timestamp, ID_HEADER: notification_id,
               "Content-Type": "application/json"}
    if secret:
        headers[SIGNATURE_HEADER] = sign(secret, timestamp, body)
    return headers


def verify_signature(
    secret: str | bytes,
    timestamp: str | int | None,
    body: str | bytes,
    header: str | None,
    tolerance: float = 300,
    *,
    now: float | None = None,
) -> bool:
    """True when `header` holds a ``v1`` signature of `body` at `timestamp` made with
    `secret`, and `timestamp` is within `tolerance` seconds of `now` (default: the
    clock). Comparison is constant-time. Never raises on malformed input."""
    if not secret or not header or timestamp is None:
        return False
    try:
        ts = int(str(timestamp).strip())
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - ts) > tolerance:
        return False
    expected = sign(secret, ts, body)
    candidates = [part.strip() for part in header.split(",")]
    return any(
        hmac.compare_digest(expected.encode(), candidate.encode("utf-8", "replace"))
        for candidate in candidates if candidate.startswith(f"{SCHEME}=")
    )
