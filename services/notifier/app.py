"""Composition root of the notifier: consumes kefu.orders, kefu.escalations and
kefu.assignments; queues notifications in the Redis outbox; a delivery worker records
them on kefu.notifications and delivers them by webhook or log (kefu.dlq on failure)."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from contracts import DeadLetter, Notification, topics
from services.core.policy import load_policy
from services.core.retry import retry_transient
from services.core.runtime import ServiceRuntime
from services.core.settings import Settings
from services.notifier.channels import LogChannel, WebhookChannel
from services.notifier.config import check_policy_templates, webhook_secrets
from services.notifier.dispatcher import Dispatcher
from services.notifier.handler import NotifierHandler
from services.notifier.lanes import Limits, ReceiverHealth, lanes_by_policy
from services.notifier.metrics import NotifierMetrics
from services.notifier.outbox import Outbox
from services.notifier.sender import Sender, unsendable_letter


def utc_now() -> datetime:
    return datetime.now(UTC)


def create_app(settings: Settings, *, clock: Callable[[], datetime] = utc_now,
               environ: Mapping[str, str] | None = None) -> ServiceRuntime:
    """`clock` is the notifier's notion of now (quiet hours, the cap window, the outbox);
    `environ` holds the webhook secrets (default: the process environment)."""
    policy = load_policy(settings.policy_file)
    check_policy_templates(policy)
    secrets, unsigned = webhook_secrets(policy, os.environ if environ is None else environ)
    runtime = ServiceRuntime("notifier", settings)
    if unsigned:
        runtime.log.warning("webhooks sent unsigned, as the policy says (unsigned: true)",
                            shops=unsigned)
    notifier_metrics = NotifierMetrics(runtime.metrics.registry)
    runtime.publisher(topics.NOTIFICATIONS, schema=Notification,
                      description="Every notification to a buyer or supervisor, keyed by order "
                                  "or conversation")
    runtime.publisher(topics.DLQ, schema=DeadLetter,
                      description="Invalid input, and notifications whose delivery failed")
    wake = asyncio.Event()
    outbox = Outbox(runtime.redis, clock, shards=settings.timer_shards)
    limits, health = Limits.from_settings(settings), ReceiverHealth()
    webhook = WebhookChannel(secrets, stopping=runtime.stopping, log=runtime.log,
                             connections=limits.max_held, per_shop=limits.per_shop,
                             per_receiver=limits.per_receiver,
                             health=health)
    webhook.on_attempt = lambda outcome: notifier_metrics.attempts.labels(outcome).inc()
    max_backoff = settings.retry_max_backoff.total_seconds()
    sender = Sender(
        redis=runtime.redis, publish=runtime.publish, policy=policy,
        log_channel=LogChannel(runtime.log), webhook=webhook, stopping=runtime.stopping,
        metrics=notifier_metrics, dedup_ttl=int(settings.dedup_window.total_seconds()),
        max_backoff=max_backoff,
    )

    async def unsendable(payload: bytes, exc: Exception) -> None:
        out = unsendable_letter(payload, exc)
        await retry_transient(lambda: runtime.publish([out]), stopping=runtime.stopping,
                              cap=max_backoff)

    dispatcher = Dispatcher(
        outbox, sender.send, on_error=unsendable, stopping=runtime.stopping, wake=wake,
        owner=f"notifier-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}",
        on_held=notifier_metrics.in_flight.set, lease=settings.timer_lease.total_seconds(),
        limits=limits, health=health, lane_of=lanes_by_policy(policy),
    )

    async def deliver() -> None:
        async with webhook:
            await dispatcher.run()

    runtime.background(deliver)
    handler = NotifierHandler(
        redis=runtime.redis, outbox=outbox, policy=policy, clock=clock, metrics=runtime.metrics,
        notifier_metrics=notifier_metrics, wake=wake,
        context_ttl=int(settings.context_ttl.total_seconds()),
        dedup_ttl=int(settings.dedup_window.total_seconds()),
        max_event_bytes=settings.max_event_bytes,
    )
    runtime.batch_subscriber(topics.ORDERS, topics.ESCALATIONS, topics.ASSIGNMENTS,
                             handler=handler, description="Order events, escalations and "
                             "assignments that cause or inform notifications")
    return runtime
