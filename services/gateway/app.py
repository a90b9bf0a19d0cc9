"""Composition root of the gateway (`kefu run gateway`): an HTTP API on the service's
port (8087) that writes signed events to kefu.inbound. /healthz, /readyz and /metrics
are served on the same port, by the same server, as the API."""

from __future__ import annotations

import os
from collections.abc import Mapping

from contracts import InboundEvent, topics
from services.core.policy import load_policy
from services.core.runtime import ServiceRuntime
from services.core.settings import Settings
from services.gateway.api import create_api
from services.gateway.auth import RequestAuth, load_ingest_secrets
from services.gateway.budget import InFlightBudget
from services.gateway.claims import RedisClaims
from services.gateway.delivery import Delivery
from services.gateway.ingest import Ingest, Limits
from services.gateway.metrics import GatewayMetrics
from services.gateway.probe import BrokerProbe, inbound_reachable
from services.gateway.server import ApiServer
from services.gateway.writer import InboundWriter


def create_app(settings: Settings, *, environ: Mapping[str, str] | None = None) -> ServiceRuntime:
    """`environ` holds the secrets named by `ingest.secret_env` (default: the process
    environment)."""
    policy = load_policy(settings.policy_file)
    fallback = settings.ingest_secret.get_secret_value() if settings.ingest_secret else None
    secrets = load_ingest_secrets(policy, os.environ if environ is None else environ, fallback)
    runtime = ServiceRuntime("gateway", settings)
    if not secrets.distinct:
        runtime.log.warning("no ingest secret is configured: every request is refused (401)")
    runtime.publisher(topics.INBOUND, schema=InboundEvent,
                      description="Events received over HTTP, written as they were sent")

    def producer():
        return runtime.producer

    budget = InFlightBudget(settings.gateway_max_in_flight_bytes)
    writer = InboundWriter(producer, partitioner=runtime.partitioner,
                           max_request_size=settings.kafka_max_message_bytes,
                           written=runtime.metrics.events_out.labels(topics.INBOUND))
    delivery = Delivery(RedisClaims(runtime.redis, dedup_window=settings.dedup_window), writer)
    probe = BrokerProbe(inbound_reachable(producer))
    runtime.checks["broker"] = lambda: probe.reachable(fresh=True)  # and kefu.inbound on it
    ingest = Ingest(
        auth=RequestAuth(secrets),
        delivery=delivery,
        probe=probe,
        budget=budget,
        limits=Limits(
            max_batch=settings.gateway_max_batch,
            max_body_bytes=settings.gateway_max_body_bytes,
            max_event_bytes=settings.max_event_bytes,
            ack_timeout=settings.gateway_ack_timeout.total_seconds(),
        ),
    )
    metrics = GatewayMetrics(runtime.metrics.registry, budget)
    api = create_api(ingest, checks=runtime.checks, metrics=runtime.metrics, gateway=metrics)
    server = ApiServer(api, host=settings.http_host, port=settings.http_port_for("gateway"))
    runtime.serve_http(server)

    async def finish_on_stop() -> None:
        """Before the producer closes: stop taking requests, finish those in progress,
        and give the writes still waiting on the broker the time to settle."""
        await runtime.stopping.wait()
        await server.stop()
        await delivery.drain(timeout=4.0)

    runtime.background(finish_on_stop)
    return runtime
