"""Which scripts the console's editor lists (pure): every script the router will suggest,
the console's own publications, edits and retirements until the router has read them,
and never a script the router dropped after reading the console's copy."""

from __future__ import annotations

from datetime import UTC, datetime

from services.console.listed_scripts import listed, settled

T = 1_700_000_000_000  # ms


def at(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat()


def copy(script_id: str, text: str, ms: int, *, retired: bool = False) -> dict:
    """The console's copy of what it published at `ms`."""
    return {"script_id": script_id, "intent": "urge_shipment", "locale": "zh-CN",
            "text": text, "by": "wu", "at": at(ms), **({"retired": True} if retired else {})}


def held(text: str, ms: int, intent: str = "urge_shipment", locale: str = "zh-CN") -> list:
    """What the router holds for a script published at `ms`."""
    return [intent, locale, text, ms]


def texts(scripts: list[dict]) -> dict[str, tuple[str, str | None]]:
    return {s["script_id"]: (s["text"], s["by"]) for s in scripts}


def test_a_script_only_the_router_holds_is_listed_without_a_publisher() -> None:
    assert listed({}, {"s1": held("48小时内发货", T)}, T + 5000) == [
        {"script_id": "s1", "intent": "urge_shipment", "locale": "zh-CN",
         "text": "48小时内发货", "by": None, "at": at(T)}]


def test_the_consoles_publication_is_listed_before_the_router_read_it() -> None:
    assert texts(listed({"s1": copy("s1", "新口径", T)}, {}, T - 1)) == {"s1": ("新口径", "wu")}
    assert texts(listed({"s1": copy("s1", "新口径", T)}, {}, None)) == {
        "s1": ("新口径", "wu")}, "no router has run yet"


def test_an_unread_edit_is_listed_over_the_routers_older_text() -> None:
    scripts = listed({"s1": copy("s1", "今天下单明天发", T + 10)}, {"s1": held("48小时内发货", T)},
                     T + 10)
    assert texts(scripts) == {"s1": ("今天下单明天发", "wu")}


def test_once_read_the_routers_version_is_listed_with_the_consoles_publisher() -> None:
    scripts = listed({"s1": copy("s1", "新口径", T)}, {"s1": held("新口径", T)}, T + 1)
    assert texts(scripts) == {"s1": ("新口径", "wu")}


def test_a_script_the_router_dropped_after_reading_the_console_copy_is_not_listed() -> None:
    assert listed({"s1": copy("s1", "新口径", T)}, {}, T + 1) == []


def test_an_unread_retirement_hides_the_script_the_router_still_holds() -> None:
    retired = {"s1": copy("s1", "48小时内发货", T + 10, retired=True)}
    assert listed(retired, {"s1": held("48小时内发货", T)}, T) == []
    assert listed(retired, {}, T + 11) == [], "nor once the router dropped it"


def test_an_integrators_later_version_is_listed_without_the_consoles_publisher() -> None:
    scripts = listed({"s1": copy("s1", "旧口径", T)}, {"s1": held("ERP口径", T + 50)}, T)
    assert texts(scripts) == {"s1": ("ERP口径", None)}


def test_listed_by_intent_then_language_then_age() -> None:
    scripts = listed({"c": copy("c", "后", T + 9)},
                     {"a": held("Hi", T, "greeting", "en"), "b": held("先", T + 1),
                      "z": held("你好", T, "greeting", "zh-CN")}, None)
    assert [s["script_id"] for s in scripts] == ["a", "z", "b", "c"]


def test_only_retirements_the_router_has_read_are_settled() -> None:
    """A read retirement says nothing the router's state does not: its copy can go. An
    unread one still hides the script; a publication keeps its publisher's name."""
    copies = {"read": copy("read", "旧口径", T, retired=True),
              "unread": copy("unread", "旧口径", T + 9000, retired=True),
              "published": copy("published", "新口径", T)}
    assert settled(copies, {"unread": held("旧口径", T)}, T + 5000) == ["read"]
    assert settled(copies, {}, None) == [], "no router has run: nothing is read"
