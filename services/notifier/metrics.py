"""The notifier's own Prometheus metrics, registered on the service's registry.

None is labelled by shop: the number of series must not grow with the number of shops
(the log lines and the analytics store say which shop)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge

from services.core.logging import get_logger

if TYPE_CHECKING:
    from services.notifier.batch import Planned

log = get_logger("kefu.notifier")


class NotifierMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.sent = Counter(
            "kefu_notifications_total", "Notifications handled, by outcome (delivered, failed)",
            ["kind", "audience", "outcome"], registry=registry,
        )
        self.skipped = Counter(
            "kefu_notifications_skipped_total",
            "Notifications not sent, by reason (duplicate, logistics_cap)",
            ["kind", "reason"], registry=registry,
        )
        self.deferred = Counter(
            "kefu_notifications_deferred_total", "Buyer notices held until quiet hours end",
            ["kind"], registry=registry,
        )
        self.attempts = Counter(
            "kefu_webhook_attempts_total", "Webhook requests, by outcome (ok, retry, permanent)",
            ["outcome"], registry=registry,
        )
        self.in_flight = Gauge(
            "kefu_notifier_in_flight", "Outbox entries claimed by this replica and not yet done",
            registry=registry,
        )

    def count_plan(self, planned: Planned) -> None:
        """A batch's skipped and deferred notifications, counted; the capped and the
        deferred ones logged."""
        for draft, reason in planned.skipped:
            self.skipped.labels(draft.kind, reason).inc()
            if reason == "logistics_cap":
                log.info("logistics update over the cap; skipped", shop_id=draft.shop_id,
                         order_id=draft.order_id, notification_id=draft.notification_id)
        for draft, until in planned.deferred:
            self.deferred.labels(draft.kind).inc()
            log.info("buyer notice held for quiet hours", shop_id=draft.shop_id,
                     notification_id=draft.notification_id, until=until.isoformat())
