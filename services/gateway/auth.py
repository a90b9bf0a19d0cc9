"""Who may send events: requests signed with the ingest scheme (services.gateway.signature),
with per-shop secrets.

A shop's secret is the value of the environment variable its policy names in
`ingest.secret_env`; a shop whose policy names none is signed with KEFU_INGEST_SECRET.
A shop with neither has no secret: its events are always refused (fail closed). While a
secret is rotated the variable holds `new,old` (`services.core.secret_list`), and a
request signed with either is the shop's.

The raw body is verified before anything parses it. The shops are inside the body, so
the signature is checked against every distinct configured secret (one per group of
shops, a handful), and the secrets that match say which shops the request may carry
events for (`Signed.covers`)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from services.core.policy import Policy
from services.core.secret_list import secret_values
from services.gateway.signature import verify_signature

TOLERANCE_SECONDS = 300


class IngestConfigError(ValueError):
    """A shop's `ingest.secret_env` names a variable that is not set (stops start-up)."""


@dataclass(frozen=True)
class IngestSecrets:
    """Every shop's HMAC secrets (several while one is rotated): `named` for the shops
    the policy lists, `default` for every other shop; none means the shop has no secret
    and is refused."""

    named: Mapping[str, tuple[bytes, ...]]
    default: tuple[bytes, ...]

    def secrets_for(self, shop_id: str) -> tuple[bytes, ...]:
        return self.named.get(shop_id, self.default)

    @property
    def distinct(self) -> tuple[bytes, ...]:
        found = {s for group in (self.default, *self.named.values()) for s in group}
        return tuple(sorted(found))


def load_ingest_secrets(
    policy: Policy, environ: Mapping[str, str], fallback: str | None
) -> IngestSecrets:
    """Read the secrets named by the policy from `environ`; `fallback` is the value of
    KEFU_INGEST_SECRET. Raises IngestConfigError naming every unset variable."""
    errors: list[str] = []

    def secret(shop: str, secret_env: str | None) -> tuple[bytes, ...]:
        if secret_env is None:
            return secret_values(fallback)
        found = secret_values(environ.get(secret_env))
        if not found:
            errors.append(f"{policy.source}: shops.{shop}.ingest.secret_env: "
                          f"environment variable {secret_env} is not set")
        return found

    default = secret("default", policy.default.ingest.secret_env)
    named = {shop: secret(shop, p.ingest.secret_env) for shop, p in policy.shops.items()}
    if errors:
        raise IngestConfigError("\n".join(errors))
    return IngestSecrets(named=named, default=default)


@dataclass(frozen=True)
class Refused:
    """Why a request is not authenticated (said in the 401 answer)."""

    detail: str


@dataclass(frozen=True)
class Signed:
    """An authenticated request: signed with the secrets `matched`."""

    matched: frozenset[bytes]
    secrets: IngestSecrets

    def covers(self, shop_id: str) -> bool:
        """Whether the request may carry events of `shop_id`."""
        return any(secret in self.matched for secret in self.secrets.secrets_for(shop_id))


class RequestAuth:
    def __init__(self, secrets: IngestSecrets, clock: Callable[[], float] = time.time) -> None:
        self.secrets, self.clock = secrets, clock

    def verify(self, timestamp: str | None, body: bytes, signature: str | None) -> Signed | Refused:
        """Check `X-Kefu-Signature` over `X-Kefu-Timestamp` and the raw body."""
        if not timestamp or not signature:
            return Refused("X-Kefu-Timestamp and X-Kefu-Signature are required")
        try:
            signed_at = int(timestamp.strip())
        except ValueError:
            return Refused("X-Kefu-Timestamp must be Unix seconds")
        now = self.clock()
        if abs(now - signed_at) > TOLERANCE_SECONDS:
            return Refused(f"X-Kefu-Timestamp is more than {TOLERANCE_SECONDS} s away from "
                           "the gateway's clock: sign each request when it is sent")
        matched = frozenset(
            secret for secret in self.secrets.distinct
            if verify_signature(secret, signed_at, body, signature, TOLERANCE_SECONDS, now=now)
        )
        if not matched:
            return Refused('the signature matches no ingest secret: send "v1=" and the hex '
                           'HMAC-SHA256 of "{timestamp}.{body}" over the exact body bytes')
        return Signed(matched, self.secrets)
