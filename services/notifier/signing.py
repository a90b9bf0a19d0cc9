"""Webhook signatures, scheme v2: the one place that signs (kefu) and verifies (kefu's
tests, and Python receivers that import it).

Every webhook request carries:

- ``X-Kefu-Timestamp``: Unix seconds when this attempt was signed;
- ``X-Kefu-Notification-Id``: the notification id (a UUID); a retry or a re-send after a
  restart keeps it, so receivers drop repeats by it;
- ``X-Kefu-Attempt``: 1, 2, ... (a decimal integer without sign or leading zero);
- ``X-Kefu-Signature``: ``v2=<hex HMAC-SHA256(secret, signed string)>`` where the
  signed string is the bytes ``{timestamp}.{notification_id}.{attempt}.`` followed by
  the exact request body bytes. Several ``v2=`` values, comma separated, appear while
  a secret is rotated (the secret's variable holds ``new,old``: each request is signed
  with both): any one matching is enough.

v1 (``v1=``, HMAC of ``{timestamp}.{body}``) covered neither the id nor the attempt, so a
captured request replayed under a new id passed a receiver that drops repeats by id.
kefu no longer sends it and `verify_signature` refuses it.

A receiver checks a request with::

    from services.notifier.signing import verify_request
    ok = verify_request(secret, request.headers, raw_body)

and rejects it (HTTP 401) when ``ok`` is false: wrong secret, a body, id or attempt
changed on the way, or a timestamp more than ``tolerance`` seconds away from its clock.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Mapping

from services.core.secret_list import secret_values

TIMESTAMP_HEADER = "X-Kefu-Timestamp"
SIGNATURE_HEADER = "X-Kefu-Signature"
ID_HEADER = "X-Kefu-Notification-Id"
ATTEMPT_HEADER = "X-Kefu-Attempt"
SCHEME = "v2"
_ATTEMPT = re.compile(r"[1-9][0-9]{0,8}")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


def _bytes(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def signed_string(timestamp: int | str, notification_id: str, attempt: int | str,
                  body: str | bytes) -> bytes:
    """``{timestamp}.{notification_id}.{attempt}.{body}``: what the signature covers."""
    if "." in notification_id:
        raise ValueError(f"a notification id with a dot cannot be signed: {notification_id!r}")
    return f"{timestamp}.{notification_id}.{attempt}.".encode() + _bytes(body)


def sign(secret: str | bytes, timestamp: int | str, notification_id: str, attempt: int | str,
         body: str | bytes) -> str:
    """The ``X-Kefu-Signature`` value of one attempt."""
    message = signed_string(timestamp, notification_id, attempt, body)
    return f"{SCHEME}=" + hmac.new(_bytes(secret), message, hashlib.sha256).hexdigest()


def unsigned_headers(notification_id: str, attempt: int, *,
                     now: float | None = None) -> dict[str, str]:
    """Headers of an attempt without a signature: only for shops whose policy says
    ``unsigned: true``."""
    return {TIMESTAMP_HEADER: str(int(time.time() if now is None else now)),
            ID_HEADER: notification_id, ATTEMPT_HEADER: str(attempt),
            "Content-Type": "application/json"}


def signed_headers(secret: str | bytes | None, body: bytes, notification_id: str,
                   attempt: int, *, now: float | None = None) -> dict[str, str]:
    """Headers of one signed attempt, signed with each secret in `secret` (several,
    comma separated, while it is rotated: `services.core.secret_list`). No secret is an
    error, never an unsigned request."""
    secrets = secret_values(secret)
    if not secrets:
        raise ValueError("no webhook secret: refusing to send an unsigned request")
    headers = unsigned_headers(notification_id, attempt, now=now)
    headers[SIGNATURE_HEADER] = ",".join(
        sign(one, headers[TIMESTAMP_HEADER], notification_id, attempt, body) for one in secrets)
    return headers


def verify_signature(
    secret: str | bytes, *, timestamp: str | int | None, notification_id: str | None,
    attempt: str | int | None, body: str | bytes, signature: str | None,
    tolerance: float = 300, now: float | None = None,
) -> bool:
    """True when `signature` holds a v2 signature of this timestamp, id, attempt and body
    made with `secret`, and `timestamp` is within `tolerance` seconds of `now` (default:
    the clock). Comparison is constant-time. Never raises on malformed input."""
    if not secret or not signature or timestamp is None or not notification_id:
        return False
    ts, attempt = str(timestamp).strip(), str(attempt) if attempt is not None else ""
    if not _TIMESTAMP.fullmatch(ts) or not _ATTEMPT.fullmatch(attempt):
        return False
    if "." in notification_id:
        return False
    current = time.time() if now is None else now
    if abs(current - int(ts)) > tolerance:
        return False
    expected = sign(secret, ts, notification_id, attempt, body).encode()
    candidates = [part.strip() for part in signature.split(",")]
    return any(hmac.compare_digest(expected, candidate.encode("utf-8", "replace"))
               for candidate in candidates if candidate.startswith(f"{SCHEME}="))


def verify_request(secret: str | bytes, headers: Mapping[str, str], body: str | bytes, *,
                   tolerance: float = 300, now: float | None = None) -> bool:
    """`verify_signature` reading the four ``X-Kefu-*`` headers (any case) of a request."""
    lower = {name.lower(): value for name, value in headers.items()}

    def header(name: str) -> str | None:
        return lower.get(name.lower())

    return verify_signature(
        secret, timestamp=header(TIMESTAMP_HEADER), notification_id=header(ID_HEADER),
        attempt=header(ATTEMPT_HEADER), body=body, signature=header(SIGNATURE_HEADER),
        tolerance=tolerance, now=now)
