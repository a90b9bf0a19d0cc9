"""Composition root of the router: consumes kefu.inbound, publishes role topics,
kefu.orders and kefu.dlq."""

from __future__ import annotations

from functools import lru_cache

from contracts import topics
from contracts.outputs import DeadLetter
from contracts.routed import RoutedEvent
from services.core.policy import load_policy
from services.core.progress import PartitionProgress
from services.core.runtime import ServiceRuntime
from services.core.settings import Settings
from services.core.stage_watermarks import StageWatermarks
from services.router.classify import classifier_for
from services.router.handler import RouterHandler
from services.router.watermarks import RouterWatermarks


def create_app(settings: Settings) -> ServiceRuntime:
    policy = load_policy(settings.policy_file)
    runtime = ServiceRuntime("router", settings)

    @lru_cache(maxsize=4096)
    def shop_classifier(shop_id: str):
        keywords = policy.for_shop(shop_id).routing.keywords
        return classifier_for(keywords)

    classifier_for(policy.default.routing.keywords)  # built now, not in the first batch

    runtime.publisher(
        topics.ROLE_PRESALE,
        schema=RoutedEvent,
        description="Pre-sale conversation events with routing",
    )
    runtime.publisher(
        topics.ROLE_AFTERSALE,
        schema=RoutedEvent,
        description="After-sale conversation events with routing",
    )
    runtime.publisher(
        topics.ORDERS,
        description="Validated order, logistics, after-sale and "
        "review envelopes, keyed by order_id",
    )
    runtime.publisher(topics.DLQ, schema=DeadLetter, description="Invalid inbound events")
    grace_ms = int(settings.sla_grace.total_seconds() * 1000)
    handler = RouterHandler(
        redis=runtime.redis,
        classifier_for=shop_classifier,
        metrics=runtime.metrics,
        max_event_bytes=settings.max_event_bytes,
        context_ttl=int(settings.context_ttl.total_seconds()),
        dedup_ttl=int(settings.dedup_window.total_seconds()),
        grace_ms=grace_ms,
    )
    progress = PartitionProgress(grace_ms=grace_ms)
    subscription = runtime.batch_subscriber(
        topics.INBOUND,
        handler=handler,
        description="Every inbound event from shops and integrators",
        pipelined=True,  # RouterContext starts from the previous batch's pending writes
        progress=progress,
    )
    watermarks = RouterWatermarks(
        progress=progress, board=StageWatermarks(runtime.redis),
        consumer_of=subscription.kafka_consumer, stopping=runtime.stopping,
        interval=settings.timer_poll_interval.total_seconds(), lag=runtime.lag)
    runtime.stamp = watermarks.current
    runtime.background(watermarks.run)
    return runtime
