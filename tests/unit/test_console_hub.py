"""The live hub on a fake board: a page gets every panel when it opens, then only the
panels that changed, the latest of each (a slow page gets no backlog); pages of
another shop or language get nothing of it."""

from __future__ import annotations

from services.console.live.hub import LiveHub, sse


def board_of(state: dict):
    async def board(shop: str) -> dict:
        return {"shop_id": shop, "as_of": "2026-11-23T10:00:00+08:00", "queues": {},
                "near_breach": [], "n": state[shop]}
    return board


def render(board: dict, variant) -> dict[str, str]:
    lang, _ = variant
    return {"queues": f"{lang}:{board['n']}", "agents": "same"}


async def test_pages_get_what_changed_and_only_their_own_shop() -> None:
    state = {"a": 1, "b": 1}
    hub = LiveHub(board_of(state), render, refresh_s=60)
    async with hub.open("a", ("en", True)) as page, hub.open("b", ("en", True)) as other:
        await hub.refresh("a")
        await hub.refresh("b")
        assert page.take() == {"queues": "en:1", "agents": "same"}
        other.take()
        state["a"] = 2
        await hub.refresh("a")
        state["a"] = 3
        await hub.refresh("a")
        await hub.refresh("b")
        assert page.take() == {"queues": "en:3"}, "the latest, only what changed"
        assert not other.ready.is_set(), "shop b did not change"
    assert hub.pages == {}


def test_sse_sends_each_panel_as_an_event_of_its_name() -> None:
    assert sse({"queues": "<b>1</b>\n<i>2</i>"}) == \
        b"event: queues\ndata: <b>1</b>\ndata: <i>2</i>\n\n"
