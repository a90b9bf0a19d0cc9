"""Secrets that can be rotated without downtime: the environment variable that holds a
signing secret (`KEFU_INGEST_SECRET`, `ingest.secret_env`, `notify.webhook.secret_env`)
may hold several, comma separated, newest first: `new,old` while the other side moves to
the new one, then `new`. A secret therefore cannot contain a comma. Stdlib only: webhook
receivers import the signing code that uses it."""

from __future__ import annotations


def secret_values(raw: str | bytes | None) -> tuple[bytes, ...]:
    """The secrets in `raw`, in order, without surrounding spaces or empty entries (none:
    no secret at all)."""
    if not raw:
        return ()
    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    return tuple(part.strip().encode("utf-8") for part in text.split(",") if part.strip())
