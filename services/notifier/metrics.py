"""The notifier's own Prometheus metrics, registered on the service's registry.

None is labelled by shop: the number of series must not grow with the number of shops
(the log lines and the analytics store say which shop)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


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
