"""Sending one queued notification: record it on kefu.notifications, deliver it on its
channel (or dead-letter it as ``delivery_failed``), then write the ``sent`` record.

Redis and broker outages are retried (never skipped); a notification already marked
sent is not delivered again. A stop gives up before the delivery (nothing was sent: the
entry is handed back), but not after it: the dead letter and the ``sent`` mark are then
still written, for up to `finish_within` seconds, so a graceful stop never causes a
second delivery."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from redis.asyncio import Redis

from contracts import DeadLetter, Notification
from contracts.topics import DLQ, NOTIFICATIONS
from services.core.logging import get_logger
from services.core.masking import mask_sensitive
from services.core.outputs import Outgoing
from services.core.policy import Policy
from services.core.retry import ShuttingDown, retry_transient
from services.notifier import keys
from services.notifier.channels import Delivery, LogChannel, WebhookChannel, safe_url
from services.notifier.metrics import NotifierMetrics

log = get_logger("kefu.notifier")
Publish = Callable[[Sequence[Outgoing]], Awaitable[None]]


def _letter(payload: bytes, reason: str, detail: str, key: str) -> Outgoing:
    """A dead letter of the notifier. Its human `detail` is masked (error messages quote
    their input); `raw` keeps the original bytes, for replay."""
    letter = DeadLetter.from_bytes(
        payload, reason=reason, detail=mask_sensitive(detail)[:2000], source_topic=NOTIFICATIONS,
        partition=None, offset=None, service="notifier", failed_at=datetime.now(UTC),
    )
    return Outgoing.of(DLQ, key, letter)


def unsendable_letter(payload: bytes, exc: Exception) -> Outgoing:
    """The dead letter (``processing_error``) of a queued notification that cannot be
    sent at all, e.g. one that no longer parses."""
    return _letter(payload, "processing_error", f"{type(exc).__name__}: {exc}", "")


class Sender:
    def __init__(
        self, *, redis: Redis, publish: Publish, policy: Policy, log_channel: LogChannel,
        webhook: WebhookChannel, stopping: asyncio.Event, metrics: NotifierMetrics,
        dedup_ttl: int, max_backoff: float = 30.0, finish_within: float = 2.0,
    ) -> None:
        self.redis, self.publish, self.policy = redis, publish, policy
        self.log_channel, self.webhook, self.stopping = log_channel, webhook, stopping
        self.metrics, self.dedup_ttl, self.max_backoff = metrics, dedup_ttl, max_backoff
        self.finish_within = finish_within

    async def send(self, payload: bytes) -> None:
        n = Notification.model_validate_json(payload)
        key = keys.notification_key(n.shop_id, n.notification_id)
        if await self._retry(lambda: self.redis.get(key)) == keys.SENT:
            self.metrics.skipped.labels(str(n.kind), "duplicate").inc()
            return
        await self._retry(lambda: self.publish([Outgoing(NOTIFICATIONS, n.kafka_key, payload)]))
        result = await self._deliver(n, payload)
        if not result.ok:
            letter = self._dead_letter(n, payload, result)
            await self._finish(lambda: self.publish([letter]))
            log.warning("delivery failed; notification dead-lettered", shop_id=n.shop_id,
                        notification_id=n.notification_id, attempts=result.attempts)
        self.metrics.sent.labels(str(n.kind), str(n.audience),
                                 "delivered" if result.ok else "failed").inc()
        await self._finish(lambda: self.redis.set(key, keys.SENT, ex=self.dedup_ttl))

    async def _deliver(self, n: Notification, payload: bytes) -> Delivery:
        if n.channel != "webhook":
            return await self.log_channel.deliver(n)
        cfg = self.policy.for_shop(n.shop_id).notify.webhook
        if cfg.url is None:
            return Delivery(False, 0, "channel is webhook but the shop has no webhook.url")
        return await self.webhook.deliver(n, payload, cfg)

    def _dead_letter(self, n: Notification, payload: bytes, result: Delivery) -> Outgoing:
        cfg = self.policy.for_shop(n.shop_id).notify.webhook
        where = safe_url(cfg.url) if cfg.url else "(no url)"
        detail = (f"{n.channel} delivery to {where} failed after {result.attempts} attempt(s): "
                  f"{result.detail}")
        return _letter(payload, "delivery_failed", detail, n.kafka_key)

    async def _retry(self, step):
        return await retry_transient(step, stopping=self.stopping, cap=self.max_backoff)

    async def _finish(self, step):
        """A step after the delivery: retried like any other while the service runs, and
        for up to `finish_within` more seconds once it stops."""
        try:
            return await self._retry(step)
        except ShuttingDown:
            pass
        try:
            async with asyncio.timeout(self.finish_within):
                return await retry_transient(step, stopping=asyncio.Event(), cap=0.5)
        except TimeoutError:
            log.warning("stopping before a delivered notification was marked sent; it may "
                        "be delivered again")
            raise ShuttingDown() from None
