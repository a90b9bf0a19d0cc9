"""Pushes live boards to open pages. Every `refresh` (or at once when the consumer saw
a shop's escalation, assignment or letter) each shop that has a page open is read once
and assembled once; each panel is rendered once per kind of page (language, may act)
and sent only to pages whose panel changed. A page that reads slowly gets the latest
panels, never a backlog: updates to one panel replace each other until it reads."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson

from services.core.logging import get_logger

log = get_logger("kefu.console")
Variant = tuple[str, bool]  # (language, may act)
Render = Callable[[dict, Variant], dict[str, str]]  # board -> panel -> HTML


@dataclass(eq=False)
class Page:
    shop: str
    variant: Variant
    pending: dict[str, str] = field(default_factory=dict)
    ready: asyncio.Event = field(default_factory=asyncio.Event)

    def offer(self, panels: dict[str, str]) -> None:
        self.pending.update(panels)
        self.ready.set()

    def take(self) -> dict[str, str]:
        panels, self.pending = self.pending, {}
        self.ready.clear()
        return panels


class LiveHub:
    def __init__(self, board: Callable[[str], Awaitable[dict]], render: Render,
                 refresh_s: float) -> None:
        self.board, self.render, self.refresh_s = board, render, refresh_s
        self.pages: dict[str, set[Page]] = {}
        self._sent: dict[tuple[str, Variant], dict[str, str]] = {}
        self._signature: dict[str, bytes] = {}
        self._wake = asyncio.Event()

    @contextlib.asynccontextmanager
    async def open(self, shop: str, variant: Variant) -> AsyncIterator[Page]:
        page = Page(shop, variant)
        self.pages.setdefault(shop, set()).add(page)
        current = self._sent.get((shop, variant))
        if current:
            page.offer(current)
        self.touch({shop})
        try:
            yield page
        finally:
            self.pages[shop].discard(page)
            if not self.pages[shop]:
                del self.pages[shop]
                self._signature.pop(shop, None)
                for key in [k for k in self._sent if k[0] == shop]:
                    del self._sent[key]

    def touch(self, shops: set[str]) -> None:
        """Refresh now (the consumer saw these shops change)."""
        if shops & self.pages.keys():
            self._signature.update({s: b"" for s in shops if s in self.pages})
            self._wake.set()

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.refresh_s)
            self._wake.clear()
            for shop in list(self.pages):
                try:
                    await self.refresh(shop)
                except Exception as exc:  # Redis away: the pages keep their last board
                    log.warning("live board refresh failed", shop_id=shop, error=str(exc))

    async def refresh(self, shop: str) -> None:
        board = await self.board(shop)
        signature = orjson.dumps(stable(board))
        if signature == self._signature.get(shop):
            return
        self._signature[shop] = signature
        for variant in {p.variant for p in self.pages.get(shop, ())}:
            panels = self.render(board, variant)
            sent = self._sent.setdefault((shop, variant), {})
            changed = {name: html for name, html in panels.items() if sent.get(name) != html}
            if not changed:
                continue
            sent.update(changed)
            for page in self.pages.get(shop, ()):
                if page.variant == variant:
                    page.offer(changed)


def stable(board: dict) -> dict:
    """The board without what changes every second by itself (the time of reading, and
    the business time left while it counts: the countdown runs in the page)."""
    out = {**board, "as_of": None}
    out["queues"] = {role: {"waiting": q["waiting"], "since": since_s(board, q)}
                     for role, q in board["queues"].items()}
    out["near_breach"] = [{**row, "remaining_s": None, "due_s": due_s(board, row)}
                          for row in board["near_breach"]]
    return out


def due_s(board: dict, row: dict) -> int:
    """When the countdown reaches zero on the wall clock if business hours go on: fixed
    while it counts (the time left shrinks as the clock moves), the time left when not."""
    if not row["counting"]:
        return round(row["remaining_s"])
    as_of = datetime.fromisoformat(board["as_of"]).astimezone(UTC).timestamp()
    return round(as_of + row["remaining_s"])


def since_s(board: dict, queue: dict) -> int | None:
    """When the oldest queued conversation joined the queue (epoch s)."""
    if queue["oldest_wait_s"] is None:
        return None
    as_of = datetime.fromisoformat(board["as_of"]).astimezone(UTC).timestamp()
    return round(as_of - queue["oldest_wait_s"])


def sse(panels: dict[str, str]) -> bytes:
    """Server-sent events, one per panel (htmx's `sse-swap` names the panel)."""
    out = []
    for name, html in panels.items():
        data = "".join(f"data: {line}\n" for line in html.splitlines() or [""])
        out.append(f"event: {name}\n{data}\n")
    return "".join(out).encode()
