"""Classifying Redis keys by kind for the key census."""

from __future__ import annotations

import re


def key_kind(key: str) -> str:
    """A Redis key with its ids masked, e.g. `kefu:{shop}:presale:seen:*` or
    `kefu:{timers:presale}:due` (all shards)."""
    parts = key.split(":")
    if len(parts) > 1 and parts[1].startswith("{timers"):
        # kefu:{timers:<ns>:<shard>}:<part>
        inner = key[key.index("{") + 1:key.index("}")].split(":")
        return f"kefu:{{timers:{inner[1] if len(inner) > 1 else '?'}}}:{key.rsplit('}:', 1)[-1]}"
    masked = [p if p == "kefu" or re.fullmatch(r"[a-z_]+", p) else "*" for p in parts]
    if len(parts) > 1 and parts[1].startswith("{"):
        masked[1] = "{shop}"
    return ":".join(masked)
