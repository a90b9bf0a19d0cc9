"""Delivery channels: ``webhook`` (signed HTTP POST, retried) and ``log`` (development).

Nothing here logs a secret, a request body or unmasked text."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp

from contracts import Notification
from services.core.masking import mask_sensitive
from services.core.policy import WebhookPolicy
from services.core.retry import ShuttingDown, backoff
from services.core.waiting import wait_event
from services.notifier.lanes import ReceiverHealth, receiver_of
from services.notifier.signing import signed_headers, unsigned_headers

MAX_BACKOFF = 60.0


@dataclass(frozen=True, slots=True)
class Delivery:
    ok: bool
    attempts: int
    detail: str = ""


def classify(status: int) -> str:
    """``ok`` (2xx), ``retry`` (429, 5xx) or ``permanent`` (any other answer)."""
    if 200 <= status < 300:
        return "ok"
    return "retry" if status == 429 or status >= 500 else "permanent"


def backoff_delay(attempt: int, base: float, *, retry_after: float | None = None,
                  rand: Callable[[], float] = random.random) -> float:
    """The core backoff after failed attempt `attempt` (1-based), drawn from [d/2, d]
    (a receiver is not retried at once), and at least the receiver's Retry-After
    (both capped)."""
    delay = backoff(attempt, base, MAX_BACKOFF, floor=0.5, rand=rand)
    if retry_after is not None:
        delay = max(delay, min(MAX_BACKOFF, retry_after))
    return delay


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def safe_url(url: str) -> str:
    """Scheme, host and path only: a query string may carry a token."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}{parts.path}"


class LogChannel:
    """One structured log line per notification, phone numbers and addresses masked."""

    def __init__(self, log) -> None:
        self.log = log

    async def deliver(self, n: Notification) -> Delivery:
        self.log.info("notification", channel="log", notification_id=n.notification_id,
                      shop_id=n.shop_id, kind=str(n.kind), audience=str(n.audience),
                      order_id=n.order_id, buyer_id=n.buyer_id, locale=n.locale,
                      text=mask_sensitive(n.text))
        return Delivery(True, 1)


class WebhookChannel:
    """POSTs the Notification JSON, signed (see `signing`; unsigned only for a shop whose
    policy says ``unsigned: true``, and never for want of a secret), retried with backoff
    and jitter on timeouts, connection errors, 429 and 5xx, up to ``max_attempts``.

    One shop has at most `per_shop` requests open at once and one receiver (the URL's
    origin) at most `per_receiver`. The slots are taken per attempt, before its timeout
    starts, and held only while the request is open: not during a backoff, nor while the
    notification is recorded or marked sent."""

    def __init__(self, secrets: Mapping[str, str], *, stopping: asyncio.Event, log,
                 connections: int = 256, per_shop: int = 4, per_receiver: int = 8,
                 health: ReceiverHealth | None = None) -> None:
        self.secrets, self.stopping, self.log = secrets, stopping, log
        self.connections, self.per_shop, self.per_receiver = connections, per_shop, per_receiver
        self.health = health or ReceiverHealth()
        self.session: aiohttp.ClientSession | None = None
        self.on_attempt: Callable[[str], None] = lambda outcome: None
        self.gates: dict[str, asyncio.Semaphore] = {}

    async def __aenter__(self) -> WebhookChannel:
        connector = aiohttp.TCPConnector(limit=self.connections,
                                         limit_per_host=self.per_receiver)
        self.session = aiohttp.ClientSession(connector=connector)
        return self

    async def __aexit__(self, *exc) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None

    async def deliver(self, n: Notification, body: bytes, cfg: WebhookPolicy) -> Delivery:
        secret = self.secrets.get(cfg.secret_env) if cfg.secret_env else None
        detail = ""
        for attempt in range(1, cfg.max_attempts + 1):
            headers = (unsigned_headers(n.notification_id, attempt) if cfg.unsigned
                       else signed_headers(secret, body, n.notification_id, attempt))
            async with (self._gate(f"shop:{n.shop_id}", self.per_shop),
                        self._gate(f"receiver:{receiver_of(cfg.url)}", self.per_receiver)):
                outcome, detail, retry_after = await self._post(cfg, body, headers)
            self.on_attempt(outcome)
            report = self.log.debug if outcome == "ok" else self.log.warning
            report("webhook attempt", shop_id=n.shop_id, notification_id=n.notification_id,
                   attempt=attempt, outcome=outcome, detail=detail)
            if outcome == "ok":
                return Delivery(True, attempt, detail)
            if outcome == "permanent" or attempt == cfg.max_attempts:
                return Delivery(False, attempt, detail)
            base = cfg.backoff_base.total_seconds()
            await self._sleep(backoff_delay(attempt, base, retry_after=retry_after))
        return Delivery(False, cfg.max_attempts, detail)

    def _gate(self, key: str, size: int) -> asyncio.Semaphore:
        return self.gates.setdefault(key, asyncio.Semaphore(size))

    async def _post(self, cfg: WebhookPolicy, body: bytes, headers: dict[str, str]):
        assert self.session is not None, "WebhookChannel used outside `async with`"
        seconds = cfg.timeout.total_seconds()
        receiver = receiver_of(cfg.url)
        token, verdict = self.health.begin(receiver), None
        try:  # the client's timeout covers the pool, connect, send and answer; the outer
            async with asyncio.timeout(seconds + 1):  # one bounds anything it misses
                async with self.session.post(
                    cfg.url, data=body, headers=headers, allow_redirects=False,
                    timeout=aiohttp.ClientTimeout(total=seconds),
                ) as response:
                    await response.read()
            outcome = classify(response.status)
            verdict = outcome != "retry"
            return (outcome, f"HTTP {response.status}",
                    _retry_after(response.headers.get("Retry-After")))
        except TimeoutError:
            verdict = False
            return "retry", f"timeout after {seconds:g}s", None
        except aiohttp.ClientError as exc:
            verdict = False
            return "retry", f"{type(exc).__name__}", None
        finally:
            self.health.end(receiver, token, verdict)

    async def _sleep(self, seconds: float) -> None:
        if await wait_event(self.stopping, seconds):
            raise ShuttingDown()
