"""The gateway's own metrics, on the service's registry (served on /metrics with the
counters every service has)."""

from __future__ import annotations

from collections import Counter as Tally

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from services.gateway.answers import Answer
from services.gateway.budget import InFlightBudget


class GatewayMetrics:
    def __init__(self, registry: CollectorRegistry, budget: InFlightBudget) -> None:
        self.requests = Counter(
            "kefu_gateway_requests_total",
            "Ingest requests answered, by HTTP status",
            ["status"],
            registry=registry,
        )
        self.events = Counter(
            "kefu_gateway_events_total",
            "Events answered, by outcome (accepted, duplicate, rejected) and reject reason",
            ["outcome", "reason"],
            registry=registry,
        )
        self.latency = Histogram(
            "kefu_gateway_request_seconds",
            "Ingest request latency, from the headers to the answer",
            registry=registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        self.in_flight = Gauge(
            "kefu_gateway_in_flight_requests",
            "Ingest requests being handled",
            registry=registry,
        )
        in_flight_bytes = Gauge(
            "kefu_gateway_in_flight_bytes",
            "Request bytes held until the broker settled them (the in-flight budget's use)",
            registry=registry,
        )
        in_flight_bytes.set_function(lambda: budget.used)

    def answered(self, answer: Answer, seconds: float) -> None:
        self.requests.labels(str(answer.status)).inc()
        self.latency.observe(seconds)
        tally = Tally((outcome.status, outcome.reason or "") for outcome in answer.outcomes)
        for (status, reason), count in tally.items():
            self.events.labels(status, reason).inc(count)
