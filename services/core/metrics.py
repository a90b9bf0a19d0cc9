"""Prometheus metrics of one service process (served on /metrics)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    """Counters every service shares; services may register more on `registry`."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.registry = CollectorRegistry()
        self.events_in = Counter(
            "kefu_events_in_total",
            "Records consumed, by topic and event type",
            ["topic", "event_type"],
            registry=self.registry,
        )
        self.events_out = Counter(
            "kefu_events_out_total",
            "Records published and acked, by topic",
            ["topic"],
            registry=self.registry,
        )
        self.dlq = Counter(
            "kefu_dlq_total",
            "Dead letters published to kefu.dlq and acked, by reason",
            ["reason"],
            registry=self.registry,
        )
        self.batch_seconds = Histogram(
            "kefu_batch_seconds",
            "Handler latency per consumed batch, from fetch to commit",
            ["topic"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.retries = Counter(
            "kefu_transient_retries_total",
            "Retries after a transient failure (Redis, broker)",
            ["step"],
            registry=self.registry,
        )
        self.lag = Gauge(
            "kefu_consumer_lag",
            "High watermark minus position, per assigned partition",
            ["topic", "partition"],
            registry=self.registry,
        )
