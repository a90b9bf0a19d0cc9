"""A shop's unified reply scripts (统一回复口径) as the router keeps them (pure): one Redis
hash per shop, `kefu:{<shop>}:reply_scripts`, script_id -> JSON `[intent, locale, text,
published ms]`, written by `reply_script.published` (a retired script is deleted; no
TTL: the scripts stay until retired). A routed buyer message carries up to 3 of them
for its intent, in the buyer's language, newest first (`routing.suggested_replies`)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

import orjson

from services.core.redis import shop_key

MAX_SUGGESTED = 3
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def scripts_key(shop: str) -> str:
    return shop_key(shop, "reply_scripts")


def buyer_locale(text: str) -> str:
    """zh-CN when the message has a Chinese character (simplified or traditional), else en."""
    return "zh-CN" if _HAN.search(text) else "en"


def stored_value(payload, published_ms: int) -> bytes | None:
    """The hash value of a `reply_script.published` payload; None: retired (delete)."""
    if payload.retired:
        return None
    return orjson.dumps([str(payload.intent), str(payload.locale), payload.text, published_ms])


@lru_cache(maxsize=4096)
def _decoded(value: bytes) -> tuple[str, str, str, int]:
    intent, locale, text, ms = orjson.loads(value)
    return intent, locale, text, ms


class ShopScripts:
    """One shop's current scripts: from the hash as loaded, with this batch's changes."""

    def __init__(self, fields: Iterable[tuple[str, bytes]] = ()) -> None:
        self._scripts = {script_id: _decoded(value) for script_id, value in fields}

    def put(self, script_id: str, value: bytes | None) -> None:
        if value is None:
            self._scripts.pop(script_id, None)
        else:
            self._scripts[script_id] = _decoded(value)

    def suggested(self, intent: str, locale: str) -> list[dict[str, str]]:
        found = sorted(((ms, script_id, text) for script_id, (i, loc, text, ms)
                        in self._scripts.items() if i == intent and loc == locale), reverse=True)
        return [{"script_id": script_id, "text": text}
                for _, script_id, text in found[:MAX_SUGGESTED]]
