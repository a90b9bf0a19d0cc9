"""Which reply scripts the editor lists (pure): what the router will suggest, as it holds
them (`services/router/reply_scripts.py`: script id -> `[intent, locale, text, published
ms]`, whoever published them), with the console's own copies (`scripts_book.py`) laid
over them until the router has read them.

A console copy (a publication, an edit or a retirement; its `at` is the event's
`occurred_at`) is *unread* while it is newer than what the router holds and the router's
watermark is not past it (no watermark: no router has run yet). An unread copy is listed
as the console published it, a retirement not at all. Once read, the router's state is
the truth: a script an integrator retired straight on `kefu.inbound` is not listed again.
The router's version carries the `by` of the console copy that published it, else none.
A retirement the router has read is `settled`: the editor drops its copy."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime


def listed(copies: Mapping[str, dict], held: Mapping[str, list],
           router_watermark: int | None) -> list[dict]:
    """The editor's scripts, by intent, language and age: each `{script_id, intent,
    locale, text, by, at}` (`by` None when the console did not publish that version)."""
    found = (_current(script_id, copies.get(script_id), held.get(script_id), router_watermark)
             for script_id in copies.keys() | held.keys())
    return sorted((s for s in found if s is not None),
                  key=lambda s: (s["intent"], s["locale"], _ms(s["at"]), s["script_id"]))


def settled(copies: Mapping[str, dict], held: Mapping[str, list],
            router_watermark: int | None) -> list[str]:
    """The retirements the router has read: their copies say nothing the router's state
    does not, and can go (a publication's copy stays: it names who published)."""
    return [script_id for script_id, copy in copies.items() if copy.get("retired")
            and not _unread(copy, held.get(script_id), router_watermark)]


def _current(script_id: str, copy: dict | None, held: list | None,
             router_watermark: int | None) -> dict | None:
    if copy is not None and _unread(copy, held, router_watermark):
        return None if copy.get("retired") else copy
    if held is None:
        return None
    intent, locale, text, ms = held
    by = copy["by"] if copy is not None and _ms(copy["at"]) == ms else None
    return {"script_id": script_id, "intent": intent, "locale": locale, "text": text,
            "by": by, "at": datetime.fromtimestamp(ms / 1000, UTC).isoformat()}


def _unread(copy: dict, held: list | None, router_watermark: int | None) -> bool:
    at_ms = _ms(copy["at"])
    newer = held is None or at_ms > held[3]
    return newer and (router_watermark is None or router_watermark <= at_ms)


def _ms(at: str) -> int:
    """Milliseconds as the router stamps a script (its event's `occurred_at`)."""
    return round(datetime.fromisoformat(at).timestamp() * 1000)
